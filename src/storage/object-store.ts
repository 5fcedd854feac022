/**
 * The storage contract the lake is handed. The lake does no I/O of its own; everything it reads
 * or writes goes through an `ObjectStore`, so the same table code runs on a local folder, an
 * in-memory map (tests) or S3-compatible storage.
 *
 * Paths are relative to the store's root, use `/` as separator, never start with `/` and are
 * given exactly as stored (no URI decoding happens here).
 *
 * Atomicity contract (the one the Delta log depends on):
 * - `putIfAbsent` creates the object only if no object exists at that path, atomically: of any
 *   number of concurrent callers for one path exactly one gets `'created'`, and readers never
 *   observe a partially written object. Local disk: write a temp file, then `link()` it into
 *   place (fails with EEXIST). S3: `PutObject` with `If-None-Match: *` (412 means taken).
 * - `put` replaces the object atomically (readers see the old or the new bytes, never a mix).
 * - `putStream` is `put` of the chunks' concatenation, consuming them one at a time, so a large
 *   object (a 100,000-file checkpoint: 23 MB) is never held whole: a local folder writes a temp
 *   file chunk by chunk and renames it; S3 buffers at most one part (a single `PutObject` when
 *   everything fits in one, else a multipart upload). If the chunks throw or a write fails,
 *   nothing new is visible at the path (the old object, if any, stays) and the error propagates
 *   (the chunks' own error unchanged). A chunk handed over belongs to the store: the producer
 *   never reuses its memory.
 * - `putNew` (optional) writes an object at a path never used before, that nobody reads until a
 *   later commit names it (a data file under a fresh uuid): it need not be atomic, and fails
 *   rather than replace an existing object. A crash can leave a partial object behind,
 *   unreferenced (vacuum removes it). Callers fall back to `put` on stores without it.
 * - `get` of a missing object throws `CryptoVizError('STORAGE_NOT_FOUND')`.
 * - `listFrom(prefix, startAfter)` yields every object whose path starts with `prefix` and sorts
 *   strictly after `startAfter` (byte order, S3 `StartAfter`), in that order, fetched page by page;
 *   the Delta log is listed from its last checkpoint with it, never from the beginning.
 * - `list` is `listFrom(prefix)` collected: every object under `prefix`, sorted by path.
 * - Data files are immutable: a path under a table's data folders is written once and never
 *   rewritten, so readers may cache their bytes forever (the query engine's read cache does).
 */
export interface ObjectMeta {
  path: string
  size: number
  /** Last modification, milliseconds since the epoch. */
  modified: number
}

export type PutIfAbsentResult = 'created' | 'exists'

/** An object's bytes as consecutive chunks, produced lazily (synchronously or not). */
export type ByteChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export interface ObjectStore {
  /** Human-readable location for logs and errors, e.g. `file:///data/warehouse` or `s3://bucket/p`. */
  readonly url: string
  get(path: string): Promise<Uint8Array>
  /** Bytes `[start, end)` of an object. */
  getRange(path: string, start: number, end: number): Promise<Uint8Array>
  head(path: string): Promise<ObjectMeta | undefined>
  put(path: string, bytes: Uint8Array): Promise<void>
  /** `put` of the chunks' concatenation, consumed one at a time (see the contract above). */
  putStream(path: string, chunks: ByteChunks): Promise<void>
  /** Writes a never-used path without the atomic replace (see the contract above); optional. */
  putNew?(path: string, bytes: Uint8Array): Promise<void>
  putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult>
  list(prefix: string): Promise<ObjectMeta[]>
  /** Objects under `prefix` strictly after `startAfter`, in byte order, lazily page by page. */
  listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta>
  delete(path: string): Promise<void>
  /**
   * The object's path on the local file system when the store is a local folder, so engines such
   * as DuckDB can read it in place; undefined for remote stores.
   */
  localPath(path: string): string | undefined
  /** A store rooted at `prefix` inside this one (e.g. one table inside a warehouse). */
  child(prefix: string): ObjectStore
}

/** Joins store path segments with `/`, ignoring empty ones. */
export const joinPath = (...parts: string[]): string =>
  parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/')

/** Byte-order comparison of store paths (S3 lists keys in UTF-8 byte order). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Collects an async listing (for callers that need every entry at once). */
export async function collect(listing: AsyncIterable<ObjectMeta>): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = []
  for await (const meta of listing) out.push(meta)
  return out
}
