/**
 * The processor's overflow while the warehouse is unreachable, on a bus that cannot replay (the
 * in-process bus): once more quotes wait than the in-memory bound allows, the oldest buffered
 * segments go, with their positions, to numbered JSONL files in a local folder, and are committed
 * from there, oldest first, once the store answers again. (On Kafka the broker keeps the data:
 * the processor pauses its partitions instead, and has no spool.)
 *
 * Invariants:
 * - A segment keeps its position (topic, partition, offsets) and its writer's txn appId on disk,
 *   so a spooled batch commits with the same per-partition txns as if it had never left memory:
 *   the lake's txn versions make a second commit of it (a retry, or a restart) a no-op.
 * - A quote is in exactly one place at a time: the processor's memory or one spool file. A file
 *   appears complete (temp + rename) before its segments leave memory, and it is deleted only
 *   after its commit succeeded (a crash in between leaves it for the next start, whose commit is
 *   then skipped by its txns).
 * - Files are taken in the order they were written (older offsets first, per partition).
 * - Each spool owns a fresh folder `spool-<host>-<pid>-<id>`, labelled with its warehouse. At start,
 *   a spool adopts the folders of dead processes of this host that wrote to the same warehouse
 *   (atomic rename into a name of its own, so two starting processes never adopt the same folder)
 *   and serves their files first: they are older.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import type { PositionedBatch } from '../bus/bus.ts'
import { quoteSchema, type Quote } from '../model/quote.ts'

/** A buffered segment with the txn appId of the partition it was read for. */
export interface SpooledSegment extends PositionedBatch<Quote> {
  appId: string
}

/** One spool file, read back: committed as one batch, then `remove`d. */
export interface SpoolFile {
  id: string
  segments: SpooledSegment[]
  /** True for a file adopted from a dead process (its txns may be committed already). */
  adopted: boolean
}

const segmentLine = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  appId: z.string().min(1),
  lastOffset: z.number().int(),
  bytes: z.number().nonnegative(),
  offsets: z.array(z.number().int()),
  items: z.array(quoteSchema),
})

const FIRST_SEQ = 500_000_000_000
const OWNER_FILE = 'owner.json'
const HOST = hostname().replace(/[^A-Za-z0-9._]/g, '_')
const FOLDER = /^spool-(.+)-(\d+)-[0-9a-f]{8}$/

interface Entry {
  path: string
  rows: number
  adopted: boolean
}

export class QuoteSpool {
  readonly root: string
  readonly dir: string
  private readonly entries: Entry[] = []
  /** Folders adopted from dead processes: removed once their files are committed. */
  private readonly adoptedDirs: string[] = []
  private readonly highest = new Map<string, number>()
  /** File numbers: own files count up from the middle, files put `first` count down from it. */
  private labelled = false
  private seq = FIRST_SEQ
  private frontSeq = FIRST_SEQ - 1
  private rowCount = 0

  private readonly isAlive: (pid: number) => boolean
  private readonly warehouse: string

  /**
   * `root`: the spool folder; this spool writes into a fresh subfolder of it. `warehouse`: the
   * warehouse URL its quotes are for (only its spools are adopted). `isAlive` says whether a
   * process of this host still runs (tests stand in for a dead one).
   */
  constructor(root: string, o: { warehouse: string; isAlive?: (pid: number) => boolean }) {
    this.root = root
    this.dir = join(root, folderName())
    this.warehouse = o.warehouse
    this.isAlive = o.isAlive ?? processAlive
  }

  /** Quotes currently on disk. */
  get rows(): number {
    return this.rowCount
  }

  /** Spool files waiting to be committed. */
  get files(): number {
    return this.entries.length
  }

  /** The last offset spooled for `appId` (a restarted writer numbers past it); -1 when none. */
  lastOffset(appId: string): number {
    return this.highest.get(appId) ?? -1
  }

  /**
   * Takes over the spool folders of dead processes of this host, their files ahead of this
   * spool's own. Resolves with the number of quotes adopted.
   */
  async adoptOrphans(): Promise<number> {
    let names: string[]
    try {
      names = (await readdir(this.root)).sort()
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw e
    }
    let adopted = 0
    for (const name of names) {
      const m = FOLDER.exec(name)
      if (!m || m[1] !== HOST || this.isAlive(Number(m[2])) || join(this.root, name) === this.dir) continue
      const label = await readFile(join(this.root, name, OWNER_FILE), 'utf8').catch(() => undefined)
      if (label === undefined || (JSON.parse(label) as { warehouse?: unknown }).warehouse !== this.warehouse)
        continue
      const claimed = join(this.root, folderName())
      try {
        await rename(join(this.root, name), claimed)
      } catch {
        continue // another process adopted it first
      }
      this.adoptedDirs.push(claimed)
      for (const file of (await readdir(claimed)).filter((f) => f.endsWith('.jsonl')).sort()) {
        const path = join(claimed, file)
        const segments = await readSegments(path)
        const rows = segments.reduce((n, s) => n + s.items.length, 0)
        this.note(segments)
        this.entries.push({ path, rows, adopted: true })
        this.rowCount += rows
        adopted += rows
      }
    }
    return adopted
  }

  /**
   * Writes `segments` to a new spool file (call before dropping them from memory). `first`: they
   * are older than this spool's other files (served after adopted files only).
   */
  async spill(segments: readonly SpooledSegment[], o: { first?: boolean } = {}): Promise<void> {
    if (segments.length === 0) return
    if (!this.labelled) {
      await mkdir(this.dir, { recursive: true })
      await writeFile(join(this.dir, OWNER_FILE), JSON.stringify({ warehouse: this.warehouse }))
      this.labelled = true
    }
    const name = `${String(o.first ? this.frontSeq-- : this.seq++).padStart(12, '0')}.jsonl`
    const tmp = join(this.dir, `.tmp-${name}`)
    const lines = segments.map((s) =>
      JSON.stringify({
        topic: s.topic,
        partition: s.partition,
        appId: s.appId,
        lastOffset: s.lastOffset,
        bytes: s.bytes,
        offsets: s.offsets,
        items: s.items,
      }),
    )
    await writeFile(tmp, lines.join('\n') + '\n')
    await rename(tmp, join(this.dir, name))
    const rows = segments.reduce((n, s) => n + s.items.length, 0)
    this.note(segments)
    const entry = { path: join(this.dir, name), rows, adopted: false }
    if (o.first) this.entries.splice(this.entries.filter((e) => e.adopted).length, 0, entry)
    else this.entries.push(entry)
    this.rowCount += rows
  }

  /** The oldest spool file, still on disk; undefined when the spool is empty. */
  async oldest(): Promise<SpoolFile | undefined> {
    const entry = this.entries[0]
    if (!entry) return undefined
    return { id: entry.path, segments: await readSegments(entry.path), adopted: entry.adopted }
  }

  /** Deletes a file returned by `oldest` once its batch is committed. */
  async remove(id: string): Promise<void> {
    const i = this.entries.findIndex((e) => e.path === id)
    if (i < 0) return
    const [entry] = this.entries.splice(i, 1)
    this.rowCount -= entry!.rows
    await unlink(id)
  }

  /** Removes the spool's folders once empty (spooled quotes are never thrown away). */
  async close(): Promise<void> {
    for (const dir of this.adoptedDirs) {
      // A leftover `.tmp-` file is a spill its process did not finish: those quotes never left its memory.
      if (!this.entries.some((e) => e.path.startsWith(dir + '/')))
        await rm(dir, { recursive: true, force: true })
    }
    if (!this.entries.some((e) => e.path.startsWith(this.dir + '/')))
      await rm(this.dir, { recursive: true, force: true })
  }

  private note(segments: readonly SpooledSegment[]): void {
    for (const s of segments) this.highest.set(s.appId, Math.max(this.lastOffset(s.appId), s.lastOffset))
  }
}

function folderName(): string {
  return `spool-${HOST}-${process.pid}-${randomUUID().slice(0, 8)}`
}

async function readSegments(path: string): Promise<SpooledSegment[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => segmentLine.parse(JSON.parse(l)) as SpooledSegment)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
