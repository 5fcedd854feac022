/**
 * `ObjectStore` over a local folder. Atomic replace uses write-to-temp + rename; put-if-absent
 * uses write-to-temp + link, which fails with EEXIST if the target exists, so a reader never sees
 * a half-written commit file and two writers never both win one version. `putNew` (fresh data
 * files) writes in place with O_EXCL, and creates each folder once per store: a streaming writer
 * puts hundreds of small files per commit into the same partition folders.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, stat, unlink, link, writeFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CryptoVizError } from '../errors.ts'
import {
  collect,
  comparePaths,
  type ByteChunks,
  type ObjectMeta,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts'

const TMP_PREFIX = '.tmp-'
const STAT_BATCH = 64
/** Folders `putNew` remembers as existing before it starts over (a few hundred partitions a day). */
const KNOWN_DIRS_MAX = 10_000

export class LocalStore implements ObjectStore {
  readonly root: string
  readonly url: string
  /** Folders created (or found) by `putNew`; one that vanished since is created again. */
  private readonly knownDirs = new Set<string>()

  constructor(root: string) {
    this.root = root
    this.url = pathToFileURL(root).href
  }

  private abs(path: string): string {
    if (path.startsWith('/') || path.split('/').includes('..')) {
      throw new CryptoVizError('INVALID_ARGUMENT', `storage path must be relative without "..": ${path}`, {
        kind: 'user',
      })
    }
    return join(this.root, ...path.split('/'))
  }

  localPath(path: string): string {
    return this.abs(path)
  }

  child(prefix: string): ObjectStore {
    return new LocalStore(this.abs(prefix))
  }

  async get(path: string): Promise<Uint8Array> {
    try {
      return await readFile(this.abs(path))
    } catch (e) {
      throw toStoreError(e, path, this.url)
    }
  }

  async getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    let handle
    try {
      handle = await open(this.abs(path), 'r')
      const out = Buffer.alloc(Math.max(0, end - start))
      const { bytesRead } = await handle.read(out, 0, out.length, start)
      return out.subarray(0, bytesRead)
    } catch (e) {
      throw toStoreError(e, path, this.url)
    } finally {
      await handle?.close()
    }
  }

  async head(path: string): Promise<ObjectMeta | undefined> {
    try {
      const s = await stat(this.abs(path))
      return s.isFile() ? { path, size: s.size, modified: Math.floor(s.mtimeMs) } : undefined
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw toStoreError(e, path, this.url)
    }
  }

  private async writeTemp(path: string, bytes: Uint8Array): Promise<string> {
    const target = this.abs(path)
    await mkdir(dirname(target), { recursive: true })
    const tmp = join(dirname(target), `${TMP_PREFIX}${randomUUID()}`)
    await writeFile(tmp, bytes, { flag: 'wx' })
    return tmp
  }

  async put(path: string, bytes: Uint8Array): Promise<void> {
    try {
      const tmp = await this.writeTemp(path, bytes)
      await rename(tmp, this.abs(path))
    } catch (e) {
      throw toStoreError(e, path, this.url)
    }
  }

  async putStream(path: string, chunks: ByteChunks): Promise<void> {
    const target = this.abs(path)
    const tmp = join(dirname(target), `${TMP_PREFIX}${randomUUID()}`)
    // File operations fail as store errors; the chunks' own errors pass through unchanged.
    const io = <T>(op: Promise<T>): Promise<T> =>
      op.catch((e: unknown) => {
        throw toStoreError(e, path, this.url)
      })
    let handle: FileHandle | undefined
    try {
      await io(mkdir(dirname(target), { recursive: true }))
      handle = await io(open(tmp, 'wx'))
      for await (const chunk of chunks) await io(writeAll(handle, chunk))
      const closing = handle
      handle = undefined
      await io(closing.close())
      await io(rename(tmp, target))
    } catch (e) {
      await handle?.close().catch(() => undefined)
      await unlink(tmp).catch(() => undefined)
      throw e
    }
  }

  async putNew(path: string, bytes: Uint8Array): Promise<void> {
    const target = this.abs(path)
    const dir = dirname(target)
    try {
      if (!this.knownDirs.has(dir)) await this.makeDir(dir)
      try {
        await writeFile(target, bytes, { flag: 'wx' })
      } catch (e) {
        // Remembered, but removed since (e.g. an emptied partition folder): create it again.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        await this.makeDir(dir)
        await writeFile(target, bytes, { flag: 'wx' })
      }
    } catch (e) {
      throw toStoreError(e, path, this.url)
    }
  }

  private async makeDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true })
    if (this.knownDirs.size >= KNOWN_DIRS_MAX) this.knownDirs.clear()
    this.knownDirs.add(dir)
  }

  async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    let tmp: string | undefined
    try {
      tmp = await this.writeTemp(path, bytes)
      await link(tmp, this.abs(path))
      return 'created'
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists'
      throw toStoreError(e, path, this.url)
    } finally {
      if (tmp !== undefined) await unlink(tmp).catch(() => undefined)
    }
  }

  list(prefix: string): Promise<ObjectMeta[]> {
    return collect(this.listFrom(prefix))
  }

  async *listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    // List the deepest folder the prefix names, then filter by the remaining name prefix.
    const slash = prefix.lastIndexOf('/')
    const dir = slash < 0 ? '' : prefix.slice(0, slash)
    const base = dir === '' ? this.root : this.abs(dir)
    const files: { path: string; abs: string }[] = []
    await walk(base, async (file) => {
      const rel = relative(this.root, file).split(sep).join('/')
      if (!rel.startsWith(prefix)) return
      if (startAfter !== undefined && comparePaths(rel, startAfter) <= 0) return
      const name = rel.slice(rel.lastIndexOf('/') + 1)
      if (!name.startsWith(TMP_PREFIX)) files.push({ path: rel, abs: file })
    })
    // Stat in parallel (bounded): a long Delta log lists thousands of files, and one stat at a
    // time made listing, not replay, the cost of opening a table.
    const out: ObjectMeta[] = []
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      const batch = files.slice(i, i + STAT_BATCH)
      const stats = await Promise.all(batch.map((f) => stat(f.abs).catch(() => undefined)))
      stats.forEach((s, j) => {
        if (s?.isFile()) out.push({ path: batch[j]!.path, size: s.size, modified: Math.floor(s.mtimeMs) })
      })
    }
    yield* out.sort((a, b) => comparePaths(a.path, b.path))
  }

  async delete(path: string): Promise<void> {
    try {
      await unlink(this.abs(path))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toStoreError(e, path, this.url)
    }
  }
}

/** Writes all of `bytes` at the file's current position (a write may take fewer bytes). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done)
    done += bytesWritten
  }
}

async function walk(dir: string, visit: (file: string) => Promise<void>): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return
    throw e
  }
  for (const entry of entries) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) await walk(full, visit)
    else await visit(full)
  }
}

function toStoreError(e: unknown, path: string, url: string): CryptoVizError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new CryptoVizError('STORAGE_NOT_FOUND', `no object at ${path} in ${url}`, {
      cause: e,
      kind: 'user',
    })
  }
  return new CryptoVizError('STORAGE_IO', `storage error at ${path} in ${url}: ${(e as Error).message}`, {
    cause: e,
    kind: 'external',
    canRetry: true,
  })
}
