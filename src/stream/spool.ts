/**
 * The processor's overflow while the warehouse is unreachable: once more quotes wait than the
 * in-memory bound allows, the oldest are written to numbered JSONL files in a local folder and
 * committed from there, oldest first, once the store answers again.
 *
 * Invariants:
 * - A quote is in exactly one place at a time: the processor's memory or one spool file. A file
 *   appears complete (temp + rename) before its quotes leave memory, and it is deleted only once
 *   the processor holds its quotes again (it then commits them with a txn version like any batch,
 *   so a retry never duplicates them).
 * - Files are taken in the order they were written (older quotes first).
 * - Spool files of this process are never read by another (each spool owns a fresh folder), so
 *   two processes sharing a folder cannot steal each other's quotes.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { quoteSchema, type Quote } from '../model/quote.ts'

export class QuoteSpool {
  readonly dir: string
  private readonly files: { name: string; rows: number }[] = []
  private seq = 0
  private rowCount = 0

  /** `root`: the spool folder; this spool writes into a fresh subfolder of it. */
  constructor(root: string) {
    this.dir = join(root, `spool-${process.pid}-${randomUUID().slice(0, 8)}`)
  }

  /** Quotes currently on disk. */
  get rows(): number {
    return this.rowCount
  }

  /** Writes `quotes` to a new spool file (call before dropping them from memory). */
  async spill(quotes: readonly Quote[]): Promise<void> {
    if (quotes.length === 0) return
    await mkdir(this.dir, { recursive: true })
    const name = `${String(this.seq++).padStart(12, '0')}.jsonl`
    const tmp = join(this.dir, `.tmp-${name}`)
    await writeFile(tmp, quotes.map((q) => JSON.stringify(q)).join('\n') + '\n')
    await rename(tmp, join(this.dir, name))
    this.files.push({ name, rows: quotes.length })
    this.rowCount += quotes.length
  }

  /** The oldest spool file's quotes, removed from the spool; undefined when the spool is empty. */
  async takeOldest(): Promise<Quote[] | undefined> {
    const file = this.files[0]
    if (!file) return undefined
    const path = join(this.dir, file.name)
    const text = await readFile(path, 'utf8')
    const quotes = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => quoteSchema.parse(JSON.parse(l)))
    this.files.shift()
    this.rowCount -= file.rows
    await unlink(path)
    return quotes
  }

  /** Removes the spool folder (only when empty: spooled quotes are never thrown away). */
  async close(): Promise<void> {
    if (this.files.length === 0) await rm(this.dir, { recursive: true, force: true })
  }
}
