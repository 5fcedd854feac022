/**
 * Wraps a store and records every request made through it (operation and path), so tests and
 * benchmarks can prove what a code path costs on object storage: how many GETs, and that no read
 * path lists a data prefix.
 */
import type { ByteChunks, ObjectMeta, ObjectStore, PutIfAbsentResult } from './object-store.ts'

export type StoreOperation = 'get' | 'getRange' | 'head' | 'put' | 'putIfAbsent' | 'list' | 'delete'

export interface StoreRequest {
  op: StoreOperation
  /** Path from the root of the outermost counting store (child prefixes included). */
  path: string
  /** For listings: the key the listing started after, if any (relative like `path`). */
  startAfter?: string
}

export class CountingStore implements ObjectStore {
  readonly url: string
  readonly requests: StoreRequest[]
  private readonly inner: ObjectStore
  private readonly prefix: string

  constructor(inner: ObjectStore, requests: StoreRequest[] = [], prefix = '') {
    this.inner = inner
    this.url = inner.url
    this.requests = requests
    this.prefix = prefix
  }

  private note(op: StoreOperation, path: string, startAfter?: string): void {
    this.requests.push({
      op,
      path: this.prefix + path,
      ...(startAfter === undefined ? {} : { startAfter: this.prefix + startAfter }),
    })
  }

  /** Requests by operation. */
  counts(): Record<StoreOperation, number> {
    const out = { get: 0, getRange: 0, head: 0, put: 0, putIfAbsent: 0, list: 0, delete: 0 }
    for (const r of this.requests) out[r.op]++
    return out
  }

  get(path: string): Promise<Uint8Array> {
    this.note('get', path)
    return this.inner.get(path)
  }
  getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    this.note('getRange', path)
    return this.inner.getRange(path, start, end)
  }
  head(path: string): Promise<ObjectMeta | undefined> {
    this.note('head', path)
    return this.inner.head(path)
  }
  put(path: string, bytes: Uint8Array): Promise<void> {
    this.note('put', path)
    return this.inner.put(path, bytes)
  }
  /** Counted as one `put` (one object written, however many parts it travels in). */
  putStream(path: string, chunks: ByteChunks): Promise<void> {
    this.note('put', path)
    return this.inner.putStream(path, chunks)
  }
  putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    this.note('putIfAbsent', path)
    return this.inner.putIfAbsent(path, bytes)
  }
  list(prefix: string): Promise<ObjectMeta[]> {
    this.note('list', prefix)
    return this.inner.list(prefix)
  }
  listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    this.note('list', prefix, startAfter)
    return this.inner.listFrom(prefix, startAfter)
  }
  delete(path: string): Promise<void> {
    this.note('delete', path)
    return this.inner.delete(path)
  }
  localPath(path: string): string | undefined {
    return this.inner.localPath(path)
  }
  child(prefix: string): ObjectStore {
    return new CountingStore(this.inner.child(prefix), this.requests, `${this.prefix}${prefix}/`)
  }
}
