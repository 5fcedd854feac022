/**
 * A size-bounded on-disk cache of remote data files, so DuckDB (which reads local files only,
 * without network extensions) can query a warehouse on object storage, and the same immutable
 * file is downloaded once, not once per query.
 *
 * Invariants:
 * - Safe because Delta data files are immutable: a path is written once and never rewritten, so
 *   a cached copy never goes stale. Entries are keyed by the store URL and path.
 * - Filled on demand: only the files a query selected (after partition and stats pruning) are
 *   fetched, each with one GET by its exact path; the cache never lists the store.
 * - A file's local path is known before it is fetched (`pathFor`), so SQL can be built first and
 *   the files fetched just before it runs (`fill`).
 * - Files in use are pinned by `fill` until released and are never evicted; otherwise the least
 *   recently used files are deleted once the total exceeds `maxBytes`. A cache may exceed its
 *   bound while the pinned files alone exceed it.
 * - A file appears under its final name only complete (temp file + rename), so a crash leaves
 *   no truncated entry; files left from an earlier run are reused.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ObjectStore } from './object-store.ts'

export interface ReadCacheOptions {
  dir: string
  maxBytes: number
}

interface Entry {
  size: number
  pins: number
}

export interface ReadCacheStats {
  files: number
  bytes: number
  hits: number
  misses: number
  bytesFetched: number
  evictions: number
}

const SUFFIX = '.parquet'
const TMP_PREFIX = '.tmp-'
const FILL_CONCURRENCY = 8

export class ReadCache {
  readonly dir: string
  readonly maxBytes: number
  /** Insertion order is recency order: a use moves the entry to the end. */
  private readonly entries = new Map<string, Entry>()
  private readonly inflight = new Map<string, Promise<void>>()
  private bytes = 0
  private readonly counters = { hits: 0, misses: 0, bytesFetched: 0, evictions: 0 }

  constructor(o: ReadCacheOptions) {
    this.dir = o.dir
    this.maxBytes = o.maxBytes
    mkdirSync(this.dir, { recursive: true })
    // Reuse what an earlier run fetched, oldest first; drop temp files of interrupted fetches.
    const found = readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => ({ name: d.name, stat: statSync(join(this.dir, d.name)) }))
      .sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs)
    for (const f of found) {
      if (f.name.startsWith(TMP_PREFIX)) void unlink(join(this.dir, f.name)).catch(() => undefined)
      else if (f.name.endsWith(SUFFIX)) this.add(f.name, f.stat.size)
    }
    this.evict()
  }

  /** The local file that holds (or will hold) `path` of `store`. */
  pathFor(store: ObjectStore, path: string): string {
    return join(this.dir, this.name(store, path))
  }

  private name(store: ObjectStore, path: string): string {
    return createHash('sha256').update(`${store.url}\n${path}`).digest('hex').slice(0, 40) + SUFFIX
  }

  /**
   * Makes sure every file is on disk and pins them until the returned release is called (call it
   * once the query that reads them is done).
   */
  async fill(files: readonly { store: ObjectStore; path: string }[]): Promise<() => void> {
    const names = [...new Set(files.map((f) => this.name(f.store, f.path)))]
    const byName = new Map(files.map((f) => [this.name(f.store, f.path), f]))
    const pinned: string[] = []
    const release = (): void => {
      for (const n of pinned.splice(0)) {
        const e = this.entries.get(n)
        if (e) e.pins--
      }
      this.evict()
    }
    try {
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < names.length) {
          const n = names[next++]!
          await this.fetch(n, byName.get(n)!)
          const e = this.entries.get(n)!
          e.pins++
          pinned.push(n)
          this.touch(n, e)
        }
      }
      await Promise.all(Array.from({ length: Math.min(FILL_CONCURRENCY, names.length) }, worker))
    } catch (e) {
      release()
      throw e
    }
    this.evict()
    return release
  }

  private async fetch(name: string, f: { store: ObjectStore; path: string }): Promise<void> {
    if (this.entries.has(name)) {
      this.counters.hits++
      return
    }
    let running = this.inflight.get(name)
    if (!running) {
      this.counters.misses++
      running = (async () => {
        const bytes = await f.store.get(f.path)
        const tmp = join(this.dir, `${TMP_PREFIX}${randomUUID()}`)
        await writeFile(tmp, bytes)
        await rename(tmp, join(this.dir, name))
        this.counters.bytesFetched += bytes.byteLength
        this.add(name, bytes.byteLength)
      })().finally(() => this.inflight.delete(name))
      this.inflight.set(name, running)
    }
    await running
  }

  private add(name: string, size: number): void {
    if (this.entries.has(name)) return
    this.entries.set(name, { size, pins: 0 })
    this.bytes += size
  }

  private touch(name: string, e: Entry): void {
    this.entries.delete(name)
    this.entries.set(name, e)
  }

  private evict(): void {
    if (this.bytes <= this.maxBytes) return
    for (const [name, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      if (e.pins > 0) continue
      this.entries.delete(name)
      this.bytes -= e.size
      this.counters.evictions++
      // Synchronously: a later fetch of the same file must not race with this deletion.
      try {
        unlinkSync(join(this.dir, name))
      } catch {
        // already gone
      }
    }
  }

  stats(): ReadCacheStats {
    return { files: this.entries.size, bytes: this.bytes, ...this.counters }
  }
}
