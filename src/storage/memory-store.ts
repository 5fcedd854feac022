/** `ObjectStore` in memory, for tests and for callers that want a scratch table. */
import { CryptoVizError } from '../errors.ts'
import {
  type ByteChunks,
  collect,
  comparePaths,
  joinPath,
  type ObjectMeta,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts'

interface Entry {
  bytes: Uint8Array
  modified: number
}

export class MemoryStore implements ObjectStore {
  readonly url: string
  private readonly objects: Map<string, Entry>
  private readonly prefix: string
  /** Clock for modification times; tests replace it to control commit timestamps. */
  now: () => number

  constructor(options: { now?: () => number } = {}, shared?: Map<string, Entry>, prefix = '') {
    this.objects = shared ?? new Map()
    this.prefix = prefix
    this.now = options.now ?? Date.now
    this.url = `memory://${prefix}`
  }

  private key(path: string): string {
    return joinPath(this.prefix, path)
  }

  localPath(): undefined {
    return undefined
  }

  child(prefix: string): ObjectStore {
    return new MemoryStore({ now: () => this.now() }, this.objects, joinPath(this.prefix, prefix))
  }

  async get(path: string): Promise<Uint8Array> {
    const entry = this.objects.get(this.key(path))
    if (!entry)
      throw new CryptoVizError('STORAGE_NOT_FOUND', `no object at ${path} in ${this.url}`, { kind: 'user' })
    return entry.bytes
  }

  async getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    return (await this.get(path)).subarray(start, end)
  }

  async head(path: string): Promise<ObjectMeta | undefined> {
    const entry = this.objects.get(this.key(path))
    return entry && { path, size: entry.bytes.length, modified: entry.modified }
  }

  async put(path: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(this.key(path), { bytes: bytes.slice(), modified: this.now() })
  }

  async putStream(path: string, chunks: ByteChunks): Promise<void> {
    const parts: Uint8Array[] = []
    for await (const chunk of chunks) parts.push(chunk)
    this.objects.set(this.key(path), { bytes: Buffer.concat(parts), modified: this.now() })
  }

  async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    if (this.objects.has(this.key(path))) return 'exists'
    await this.put(path, bytes)
    return 'created'
  }

  list(prefix: string): Promise<ObjectMeta[]> {
    return collect(this.listFrom(prefix))
  }

  async *listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    const base = this.prefix === '' ? '' : `${this.prefix}/`
    const out: ObjectMeta[] = []
    for (const [key, entry] of this.objects) {
      if (!key.startsWith(base)) continue
      const rel = key.slice(base.length)
      if (!rel.startsWith(prefix)) continue
      if (startAfter !== undefined && comparePaths(rel, startAfter) <= 0) continue
      out.push({ path: rel, size: entry.bytes.length, modified: entry.modified })
    }
    yield* out.sort((a, b) => comparePaths(a.path, b.path))
  }

  async delete(path: string): Promise<void> {
    this.objects.delete(this.key(path))
  }
}
