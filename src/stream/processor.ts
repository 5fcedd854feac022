/**
 * The micro-batch processor: buffers quotes from the bus and commits them to the quotes table, one
 * Delta commit per batch, flushed on an interval or when the buffer reaches `flushMaxRows`.
 *
 * Invariants:
 * - Flushes are serialised; a batch is removed from the buffer only after its commit succeeded.
 * - Each batch carries `txn(appId, version)` in the same commit as its files, and a failed flush
 *   is retried with the same version: if the failure happened after the commit landed, the retry
 *   is a no-op instead of a duplicate (exactly once).
 * - `stop()` flushes everything buffered before it resolves (graceful shutdown loses nothing).
 * - Quotes received but not yet committed are visible through `pending()` (the hot tail), except
 *   those spilled to the spool during an outage.
 * - Degraded mode (the store unreachable): batches stay pending and are retried every interval;
 *   beyond `memoryBoundRows` the oldest wait in the `spool` on disk and are committed first once
 *   the store is back (see spool.ts).
 */
import type { Logger } from 'pino'
import type { DeltaTable } from '../lake/index.ts'
import { deadLetterToRow } from '../model/dead-letter-table.ts'
import type { Quote } from '../model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../model/quote-table.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import type { QuoteSpool } from './spool.ts'

export interface ProcessorOptions {
  quotes: DeltaTable
  deadLetters: DeltaTable
  /** Identity of this writer in the tables' `txn` actions. */
  appId: string
  flushIntervalMs: number
  flushMaxRows: number
  compression: 'snappy' | 'zstd'
  logger: Logger
  /** Where quotes wait beyond `memoryBoundRows` while commits fail; without it all stay in memory. */
  spool?: QuoteSpool
  /** Quotes kept in memory while commits fail before the oldest go to the spool (default 4 × flushMaxRows). */
  memoryBoundRows?: number
  /** Called after each committed batch, e.g. to feed a latency histogram. */
  onBatchCommitted?: (batch: {
    version: number
    rows: number
    files: number
    bytes: number
    ms: number
  }) => void
}

export interface ProcessorStats {
  records_received: number
  records_written: number
  records_rejected: number
  batches: number
  files: number
  bytes_written: number
  last_table_version: number | null
  last_flush_at: string | null
  flush_errors: number
  /** Failed flushes since the last successful one; > 0 means data is waiting on a failing lake. */
  consecutive_flush_errors: number
  last_flush_error: string | null
  buffered: number
  /** Quotes waiting in the on-disk spool (degraded mode). */
  spooled: number
}

interface Batch {
  version: number
  quotes: Quote[]
}

export class MicroBatchProcessor {
  private readonly options: ProcessorOptions
  private buffer: Quote[] = []
  private deadBuffer: DeadLetter[] = []
  /** A batch cut from the buffer but not yet committed (retried with the same txn version). */
  private inFlight: Batch | undefined
  private nextVersion = 0
  private timer: NodeJS.Timeout | undefined
  /** A flush triggered by buffer size is queued or running; don't queue another per arrival. */
  private sizeFlushQueued = false
  private flushing: Promise<void> = Promise.resolve()
  private readonly counters: ProcessorStats = {
    records_received: 0,
    records_written: 0,
    records_rejected: 0,
    batches: 0,
    files: 0,
    bytes_written: 0,
    last_table_version: null,
    last_flush_at: null,
    flush_errors: 0,
    consecutive_flush_errors: 0,
    last_flush_error: null,
    buffered: 0,
    spooled: 0,
  }
  /** Spills in progress, serialised so spool files keep arrival order. */
  private spilling: Promise<void> = Promise.resolve()

  constructor(options: ProcessorOptions) {
    this.options = options
  }

  /** Resumes the txn sequence from the table, then starts the flush timer. */
  async start(): Promise<void> {
    const snapshot = await this.options.quotes.snapshot()
    this.nextVersion = (snapshot.txnVersion(this.options.appId) ?? -1) + 1
    this.counters.last_table_version = snapshot.version
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs)
    this.timer.unref()
  }

  accept(quotes: readonly Quote[]): void {
    for (const q of quotes) this.buffer.push(q)
    this.counters.records_received += quotes.length
    this.spillIfDegraded()
    if (this.buffer.length >= this.options.flushMaxRows && !this.sizeFlushQueued) {
      this.sizeFlushQueued = true
      void this.flush().finally(() => (this.sizeFlushQueued = false))
    }
  }

  /** While commits fail, moves the oldest buffered quotes beyond the memory bound to the spool. */
  private spillIfDegraded(): void {
    const spool = this.options.spool
    const bound = this.options.memoryBoundRows ?? 4 * this.options.flushMaxRows
    // Whole batches only: a spool file is committed as one batch once the store is back.
    if (!spool || this.counters.consecutive_flush_errors === 0) return
    if (this.buffer.length < bound + this.options.flushMaxRows) return
    const chunk = this.buffer.splice(0, this.options.flushMaxRows)
    this.spilling = this.spilling.then(() =>
      spool.spill(chunk).catch((err: unknown) => {
        // The disk failed too: keep the quotes in memory rather than lose them.
        this.buffer.unshift(...chunk)
        this.options.logger.error({ err }, 'spooling to disk failed; quotes stay in memory')
      }),
    )
  }

  acceptDeadLetters(deadLetters: readonly DeadLetter[]): void {
    for (const d of deadLetters) this.deadBuffer.push(d)
    this.counters.records_rejected += deadLetters.length
  }

  /** Quotes received but not committed yet, oldest first. */
  pending(): Quote[] {
    return this.inFlight ? [...this.inFlight.quotes, ...this.buffer] : [...this.buffer]
  }

  stats(): ProcessorStats {
    return {
      ...this.counters,
      buffered: this.buffer.length + (this.inFlight?.quotes.length ?? 0),
      spooled: this.options.spool?.rows ?? 0,
    }
  }

  /** Commits what is buffered; concurrent calls queue behind the running flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce())
    return this.flushing
  }

  private async flushOnce(): Promise<void> {
    try {
      await this.flushDeadLetters()
      // Drain only what was buffered when this flush started: quotes arriving during the commits
      // wait for the next flush, so batches stay large under load instead of shrinking to one
      // commit per arrival.
      let remaining = this.buffer.length
      // Spooled quotes are older than the buffer's: they go first, one spool file per batch.
      await this.spilling
      while (this.inFlight !== undefined || remaining > 0 || (this.options.spool?.rows ?? 0) > 0) {
        const spooled = this.inFlight === undefined ? await this.options.spool?.takeOldest() : undefined
        if (spooled !== undefined) this.inFlight = { version: this.nextVersion++, quotes: spooled }
        else if (this.inFlight === undefined) {
          // Quotes may have left the buffer for the spool meanwhile.
          remaining = Math.min(remaining, this.buffer.length)
          if (remaining === 0) break
          const quotes = this.buffer.splice(0, Math.min(remaining, this.options.flushMaxRows))
          remaining -= quotes.length
          this.inFlight = { version: this.nextVersion++, quotes }
        }
        await this.commit(this.inFlight)
        this.inFlight = undefined
        // The store answers again: stop spilling while the backlog drains.
        this.counters.consecutive_flush_errors = 0
      }
      this.counters.consecutive_flush_errors = 0
    } catch (e) {
      this.counters.flush_errors++
      this.counters.consecutive_flush_errors++
      this.counters.last_flush_error = e instanceof Error ? e.message : String(e)
      this.options.logger.error({ err: e }, 'flush failed; the batch stays buffered and is retried')
    }
  }

  private async commit(batch: Batch): Promise<void> {
    const started = performance.now()
    const result = await this.options.quotes.append(batch.quotes.map(quoteToRow), {
      txn: { appId: this.options.appId, version: batch.version },
      sortBy: QUOTES_SORT_BY,
      compression: this.options.compression,
      operation: 'STREAMING UPDATE',
    })
    this.counters.last_flush_at = new Date().toISOString()
    if (result.status === 'committed') {
      this.counters.records_written += result.rows
      this.counters.batches++
      this.counters.files += result.files.length
      this.counters.bytes_written += result.bytes
      this.counters.last_table_version = result.version
      this.options.onBatchCommitted?.({
        version: result.version,
        rows: result.rows,
        files: result.files.length,
        bytes: result.bytes,
        ms: performance.now() - started,
      })
      this.options.logger.info(
        {
          version: result.version,
          rows: result.rows,
          files: result.files.length,
          bytes: result.bytes,
          ms: Math.round(performance.now() - started),
        },
        'batch committed',
      )
    } else if (result.reason === 'txn-already-committed') {
      // Already committed by an earlier attempt whose acknowledgement was lost.
      this.counters.records_written += batch.quotes.length
      this.options.logger.warn(
        { txnVersion: result.txnVersion, batch: batch.version },
        'batch already committed',
      )
    }
  }

  private async flushDeadLetters(): Promise<void> {
    if (this.deadBuffer.length === 0) return
    const batch = this.deadBuffer.slice()
    const result = await this.options.deadLetters.append(batch.map(deadLetterToRow), {
      compression: this.options.compression,
    })
    this.deadBuffer.splice(0, batch.length)
    this.options.logger.warn(
      { rows: batch.length, version: result.status === 'committed' ? result.version : undefined },
      'dead letters committed',
    )
  }

  /** Stops the timer and commits everything buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
    if (this.buffer.length > 0 || this.inFlight !== undefined || (this.options.spool?.rows ?? 0) > 0)
      await this.flush()
    await this.options.spool?.close()
  }
}
