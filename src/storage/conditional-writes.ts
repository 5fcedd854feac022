/**
 * Delta commits are only safe where put-if-absent is atomic. Some S3 clones accept
 * `If-None-Match: *` and silently ignore it, which would let two writers both "win" a version and
 * overwrite each other's commit. So a writer probes its store once at start: two conditional
 * writes of one fresh key, the second must be refused. A store that fails the probe is wrapped so
 * every write is refused with an error naming it, while reads keep working.
 */
import { randomUUID } from 'node:crypto'
import { CryptoVizError } from '../errors.ts'
import type { ObjectMeta, ObjectStore, PutIfAbsentResult } from './object-store.ts'

/** Folder of the probe objects (`_`-prefixed: never part of a table, skipped by VACUUM). */
export const PROBE_PREFIX = '_cryptoviz_probe'

/** True when a second conditional write of one key is refused, as Delta commits need. */
export async function probeConditionalWrites(store: ObjectStore): Promise<boolean> {
  const path = `${PROBE_PREFIX}/${randomUUID()}`
  try {
    const first = await store.putIfAbsent(path, new TextEncoder().encode('first'))
    const second = await store.putIfAbsent(path, new TextEncoder().encode('second'))
    return first === 'created' && second === 'exists'
  } finally {
    await store.delete(path).catch(() => undefined)
  }
}

/**
 * The store itself when it honours conditional writes; otherwise a wrapper that reads normally
 * and refuses every write with STORAGE_PRECONDITION_UNSUPPORTED.
 */
export async function guardConditionalWrites(store: ObjectStore): Promise<ObjectStore> {
  return (await probeConditionalWrites(store)) ? store : new ReadOnlyStore(store, unsupported(store.url))
}

export function unsupported(url: string): CryptoVizError {
  return new CryptoVizError(
    'STORAGE_PRECONDITION_UNSUPPORTED',
    `${url} ignores conditional writes (If-None-Match: *): a second put-if-absent of one key succeeded, ` +
      'so concurrent Delta commits could overwrite each other. CryptoViz refuses to write there; reads still work. ' +
      'Use AWS S3, MinIO, Cloudflare R2 or another store that implements conditional writes.',
    { kind: 'user', details: { store: url } },
  )
}

/** Reads through to `inner`; every write throws `refusal`. */
export class ReadOnlyStore implements ObjectStore {
  readonly url: string
  private readonly inner: ObjectStore
  private readonly refusal: CryptoVizError

  constructor(inner: ObjectStore, refusal: CryptoVizError) {
    this.inner = inner
    this.refusal = refusal
    this.url = inner.url
  }

  get(path: string): Promise<Uint8Array> {
    return this.inner.get(path)
  }
  getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    return this.inner.getRange(path, start, end)
  }
  head(path: string): Promise<ObjectMeta | undefined> {
    return this.inner.head(path)
  }
  list(prefix: string): Promise<ObjectMeta[]> {
    return this.inner.list(prefix)
  }
  listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    return this.inner.listFrom(prefix, startAfter)
  }
  localPath(path: string): string | undefined {
    return this.inner.localPath(path)
  }
  child(prefix: string): ObjectStore {
    return new ReadOnlyStore(this.inner.child(prefix), this.refusal)
  }
  put(): Promise<void> {
    return Promise.reject(this.refusal)
  }
  putStream(): Promise<void> {
    return Promise.reject(this.refusal)
  }
  putIfAbsent(): Promise<PutIfAbsentResult> {
    return Promise.reject(this.refusal)
  }
  delete(): Promise<void> {
    return Promise.reject(this.refusal)
  }
}
