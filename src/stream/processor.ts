/**
 * The micro-batch processor: a bus consumer that buffers quotes and dead letters per input
 * partition and commits them to the lake, one Delta commit per batch, flushed on an interval,
 * on rows, on bytes, and when the input goes idle.
 *
 * Invariants (exactly once):
 * - Every commit carries, in the same commit as its files, one `txn(appId, version)` per input
 *   partition it holds: appId `<writerId>:<topic>:<partition>`, version the last offset it covers.
 *   The lake's txn versions, not the bus, say what is committed: on every assignment each
 *   partition starts at its txn version + 1, and items at or below it are dropped on arrival.
 * - Flushes are serialised per table; a batch leaves the buffer only after its commit succeeded.
 *   A failed commit is retried with the same txns, so a commit that landed but whose
 *   acknowledgement was lost is skipped, not duplicated.
 * - A batch another writer already committed (a previous owner of the partition, after a
 *   rebalance) is dropped: on a replayable bus (Kafka) it holds the same records. On a bus that
 *   cannot replay (memory) it means two writers share one identity: the processor is fenced,
 *   stops committing and reports it loudly (`onFenced`, `/health`).
 * - Dead letters go to their own table with their own txns, on their own flush chain: a failing
 *   dead-letter table never blocks quote commits.
 * - Buffers are bounded in rows and bytes (in-flight batches included): past a bound the consumer
 *   pauses its partitions, and resumes them once commits brought the buffer back under.
 * - Quotes are held column-wise from arrival (`QuoteChunk`, quote-columns.ts), not as objects:
 *   a decoded object is garbage at once instead of living until its commit (and being promoted),
 *   and a held quote is ~130 bytes of typed arrays.
 *   A commit joins its chunks into one column batch, encoded by `encoder` (a worker thread when
 *   reading Kafka) while this thread keeps receiving.
 * - On revocation, what belongs to the revoked partitions is dropped uncommitted (the next owner
 *   reads it again from the lake's txn version + 1): a rebalance neither loses nor duplicates.
 *   The batch in flight is one object, edited in place and never swapped for a copy: a commit
 *   running meanwhile trims (after a partial conflict) the very batch the next flush retries, so
 *   a raised `committed` never goes out with segments it already covers.
 * - `stop()` commits everything buffered before it resolves.
 * - Degraded mode (the store unreachable) on a bus that cannot replay (memory): pausing would
 *   stall the collectors, so past the bound the oldest buffered quote segments go, with their
 *   positions and appIds, to the on-disk `spool` (see spool.ts) instead. Spooled segments are
 *   older than anything buffered: while the spool holds any, flushes commit spool files (one per
 *   batch, same txns as from memory, deleted only once committed) and nothing from memory. A
 *   `stop()` while the store is still down leaves what it holds in the spool, and the next start
 *   adopts and commits it first. On Kafka there is no spool: the broker keeps the data.
 */
import type { Logger } from 'pino'
import {
  partitionKey,
  type BusConsumer,
  type BusPartition,
  type ConsumerHandlers,
  type PositionedBatch,
  type QuoteBatch,
  type QuoteItems,
} from '../bus/bus.ts'
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { AppendOptions, AppendResult, DeltaTable, FileEncoder } from '../lake/index.ts'
import { deadLetterToRow } from '../model/dead-letter-table.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import type { Quote } from '../model/quote.ts'
import { QUOTES_SORT_BY } from '../model/quote-table.ts'
import { isQuoteChunk, packQuotes, sliceChunk, unpackQuotes, type QuoteChunk } from '../model/quote-chunk.ts'
import { chunksToColumns } from './quote-columns.ts'
import type { QuoteSpool, SpoolFile, SpooledSegment } from './spool.ts'

export interface ProcessorOptions {
  quotes: DeltaTable
  deadLetters: DeltaTable
  /** This writer's identity, the prefix of its txn appIds (Kafka: the consumer group). */
  writerId: string
  /** Which topic feeds which table. */
  topics: { quotes: string; deadLetters: string }
  /**
   * True when the bus re-delivers from an offset (Kafka): a batch already committed by another
   * writer is dropped as a duplicate. False (memory): that means a shared identity, and fences.
   */
  replayable: boolean
  flushIntervalMs: number
  flushMaxRows: number
  flushMaxBytes: number
  /** A non-empty buffer with no new input for this long is flushed without waiting the interval. */
  flushIdleMs: number
  /** Bounds of what is held (buffered + in flight); past either, the partitions are paused. */
  maxBufferRows: number
  maxBufferBytes: number
  compression: 'snappy' | 'zstd'
  /**
   * Encodes quote batches into Parquet (e.g. a `WorkerEncoder`, off the main thread); default on
   * this thread. The processor does not close it.
   */
  encoder?: FileEncoder
  logger: Logger
  /**
   * Where quotes wait on disk, past the buffer bounds, while commits fail (a bus that cannot
   * replay); without it the partitions are paused, as on Kafka.
   */
  spool?: QuoteSpool
  /** Called after each committed quote batch, e.g. to feed a latency histogram. */
  onBatchCommitted?: (batch: {
    version: number
    rows: number
    files: number
    bytes: number
    ms: number
  }) => void
  /** Called once when another writer with this identity is detected; the processor stops committing. */
  onFenced?: (error: CryptoVizError) => void
}

export interface PartitionStats {
  topic: string
  partition: number
  /** Items held (buffered and in flight). */
  buffered: number
  /** The lake's txn version for this partition: the last offset committed. -1 when none. */
  committed_offset: number
}

export interface ProcessorStats {
  records_received: number
  records_written: number
  records_rejected: number
  /** Items dropped because another writer had already committed them (after a rebalance). */
  records_duplicate_skipped: number
  batches: number
  files: number
  bytes_written: number
  last_table_version: number | null
  last_flush_at: string | null
  last_batch_rows: number
  last_commit_ms: number | null
  flush_errors: number
  /** Failed flushes since the last successful one; > 0 means data is waiting on a failing lake. */
  consecutive_flush_errors: number
  last_flush_error: string | null
  dead_letter_flush_errors: number
  last_dead_letter_error: string | null
  buffered: number
  buffered_bytes: number
  /** Quotes waiting in the on-disk spool (degraded mode), being written included. */
  spooled: number
  /** Times the consumer was paused because a buffer bound was reached. */
  pauses: number
  paused: boolean
  /** Set when another writer with this identity was detected; nothing is committed any more. */
  fenced: string | null
  partitions: PartitionStats[]
}

/** A delivered batch as a lane holds it: its positions, its item count, its items packed (`H`). */
interface Segment<H> extends BusPartition {
  items: H
  rows: number
  offsets: readonly number[]
  lastOffset: number
  bytes: number
}

interface PartitionBuffer<H> extends BusPartition {
  appId: string
  segments: Segment<H>[]
  /** The lake's txn version for `appId`: items at or below it are already committed. */
  committed: number
  /** The last offset admitted (buffered, in flight or committed): a re-delivery stops here. */
  received: number
}

/** A batch cut from the buffers, retried as is (same txns) until it commits. */
interface Cut<H> {
  parts: Array<{ buffer: PartitionBuffer<H>; segments: Segment<H>[] }>
  attempts: number
  /** The spool file this batch was read from (its rows are not counted as held in memory). */
  spoolFile?: string
  /** Read from a dead process's spool: its txns may be in the table already. */
  adopted?: boolean
}

/** How a lane holds its items (`H`) from arrival to commit, and appends them. */
interface Holding<T, H, I> {
  /** The delivered items (`I`: as the bus delivers them) as the lane holds them. */
  pack(items: I): H
  /** How many items `held` holds. */
  rows(held: H): number
  /** The items from position `from` on. */
  slice(held: H, from: number): H
  unpack(held: H): readonly T[]
  /** Appends the items of `held`, in order, in one commit. */
  append(table: DeltaTable, held: readonly H[], o: AppendOptions): Promise<AppendResult>
}

/** One table's side of the processor: its buffers, its flush chain, its in-flight batch. */
interface Lane<T, H, I = readonly T[]> {
  name: 'quotes' | 'dead_letters'
  table: DeltaTable
  hold: Holding<T, H, I>
  sortBy: string[]
  buffers: Map<string, PartitionBuffer<H>>
  inFlight: Cut<H> | undefined
  flushing: Promise<void>
  sizeFlushQueued: boolean
}

/**
 * Paused partitions resume once what is held falls to this fraction of the bounds. Not a half:
 * with the default bounds (two batches), one committed batch brings the buffer to about half,
 * and waiting for less kept the consumer paused until the next batch committed too, so the
 * consumer sat idle through a whole commit (docs/benchmarks.md "Kafka ingest").
 */
const RESUME_AT_FRACTION = 0.75

const lastOf = <H>(segments: readonly Segment<H>[]): number => segments.at(-1)!.lastOffset
const countItems = <H>(segments: readonly Segment<H>[]): number => segments.reduce((n, s) => n + s.rows, 0)
const countBytes = <H>(segments: readonly Segment<H>[]): number => segments.reduce((n, s) => n + s.bytes, 0)

export class MicroBatchProcessor implements ConsumerHandlers {
  private readonly options: ProcessorOptions
  private readonly quoteLane: Lane<Quote, QuoteChunk, QuoteItems>
  private readonly deadLane: Lane<DeadLetter, readonly DeadLetter[]>
  private consumer: BusConsumer | undefined
  private timer: NodeJS.Timeout | undefined
  private lastArrival = 0
  private tickFlush: Promise<void> | undefined
  private lastQuoteFlush = performance.now()
  private heldRows = 0
  private heldBytes = 0
  /** Spills to the spool, serialised so files keep arrival order. */
  private spilling: Promise<void> = Promise.resolve()
  /** Rows on their way to the spool (out of memory accounting, not in a file yet). */
  private spillingRows = 0
  /** Set when the spool failed to write: from then on the bound pauses, as without a spool. */
  private spoolBroken = false
  /** Partitions of adopted spool files that are not (or no longer) assigned here, by appId. */
  private readonly detached = new Map<string, PartitionBuffer<QuoteChunk>>()
  private readonly counters = {
    records_received: 0,
    records_written: 0,
    records_rejected: 0,
    records_duplicate_skipped: 0,
    batches: 0,
    files: 0,
    bytes_written: 0,
    last_table_version: null as number | null,
    last_flush_at: null as string | null,
    last_batch_rows: 0,
    last_commit_ms: null as number | null,
    flush_errors: 0,
    consecutive_flush_errors: 0,
    last_flush_error: null as string | null,
    dead_letter_flush_errors: 0,
    last_dead_letter_error: null as string | null,
    pauses: 0,
    paused: false,
    fenced: null as string | null,
  }

  constructor(options: ProcessorOptions) {
    this.options = options
    this.quoteLane = {
      name: 'quotes',
      table: options.quotes,
      hold: {
        pack: (items) => (isQuoteChunk(items) ? items : packQuotes(items)),
        rows: (chunk) => chunk.rows,
        slice: sliceChunk,
        unpack: unpackQuotes,
        append: (table, chunks, o) =>
          table.appendColumns(chunksToColumns(chunks), {
            ...o,
            ...(options.encoder && { encoder: options.encoder }),
          }),
      },
      sortBy: QUOTES_SORT_BY,
      buffers: new Map(),
      inFlight: undefined,
      flushing: Promise.resolve(),
      sizeFlushQueued: false,
    }
    this.deadLane = {
      name: 'dead_letters',
      table: options.deadLetters,
      hold: {
        pack: (items) => items,
        rows: (items) => items.length,
        slice: (items, from) => items.slice(from),
        unpack: (items) => items,
        append: (table, held, o) => table.append(held.flat().map(deadLetterToRow), o),
      },
      sortBy: [],
      buffers: new Map(),
      inFlight: undefined,
      flushing: Promise.resolve(),
      sizeFlushQueued: false,
    }
  }

  /** Starts the flush timer; `attach` the bus consumer once `consume` returned it. */
  async start(): Promise<void> {
    this.counters.last_table_version = (await this.options.quotes.snapshot()).version
    const adopted = await this.options.spool?.adoptOrphans()
    if (adopted)
      this.options.logger.warn(
        { rows: adopted, spool: this.options.spool!.root },
        'spooled quotes of a stopped process found: they are committed first',
      )
    const tick = Math.max(10, Math.min(this.options.flushIntervalMs, this.options.flushIdleMs) / 2)
    this.timer = setInterval(() => this.onTick(), tick)
    this.timer.unref()
  }

  /** The consumer whose partitions this processor pauses, resumes and reports as committed. */
  attach(consumer: BusConsumer): void {
    this.consumer = consumer
  }

  async onAssigned(partitions: readonly BusPartition[]): Promise<ReadonlyMap<string, number>> {
    const [quotes, dead] = await Promise.all([
      this.options.quotes.snapshot(),
      this.options.deadLetters.snapshot(),
    ])
    const starts = new Map<string, number>()
    for (const p of partitions) {
      const key = partitionKey(p)
      const isDead = p.topic === this.options.topics.deadLetters
      const appId = `${this.options.writerId}:${p.topic}:${p.partition}`
      const committed = (isDead ? dead : quotes).txnVersion(appId) ?? -1
      // A restarted writer of the same identity continues past what its spool still holds.
      const received = Math.max(committed, isDead ? -1 : (this.options.spool?.lastOffset(appId) ?? -1))
      const buffer = {
        topic: p.topic,
        partition: p.partition,
        appId,
        segments: [],
        committed,
        received,
      }
      if (isDead) this.deadLane.buffers.set(key, buffer)
      else {
        this.quoteLane.buffers.set(key, buffer)
        this.detached.delete(appId)
      }
      starts.set(key, received + 1)
    }
    this.options.logger.info(
      { partitions: partitions.map((p) => `${partitionKey(p)}@${starts.get(partitionKey(p))}`) },
      'partitions assigned: starting each at its lake txn version + 1',
    )
    return starts
  }

  async onRevoked(partitions: readonly BusPartition[]): Promise<void> {
    // Let a running commit finish (it may hold these partitions), then drop what is left of them:
    // the next owner reads it again from the lake's txn version + 1.
    await Promise.all([this.quoteLane.flushing, this.deadLane.flushing])
    let dropped = 0
    for (const p of partitions) {
      const key = partitionKey(p)
      for (const lane of [this.quoteLane, this.deadLane] as Lane<unknown, unknown, unknown>[]) {
        const buffer = lane.buffers.get(key)
        if (!buffer) continue
        dropped += this.release(buffer.segments)
        lane.buffers.delete(key)
        const inFlight = lane.inFlight
        if (inFlight) {
          // A batch read from the spool stays in its file (it was never counted as held).
          for (const part of inFlight.parts)
            if (part.buffer === buffer && inFlight.spoolFile === undefined)
              dropped += this.release(part.segments)
          // In place: a flush that started after the wait above may be committing this very cut.
          // A copy would leave that commit's trim (after a partial conflict) on an object the next
          // flush no longer retries, and the copy's untrimmed segments would commit twice.
          inFlight.parts = inFlight.parts.filter((part) => part.buffer !== buffer)
          if (inFlight.parts.length === 0) lane.inFlight = undefined
        }
      }
    }
    this.options.logger.info(
      { partitions: partitions.map(partitionKey), dropped_uncommitted: dropped },
      'partitions revoked: uncommitted items dropped for the next owner to re-read',
    )
    this.maybeResume()
  }

  onQuotes(batch: QuoteBatch): void {
    const kept = this.admit(this.quoteLane, batch)
    if (kept) this.counters.records_received += kept.rows
  }

  onDeadLetters(batch: PositionedBatch<DeadLetter>): void {
    const kept = this.admit(this.deadLane, batch)
    if (kept) this.counters.records_rejected += kept.rows
  }

  /** Quotes received but not committed yet, oldest first per partition. */
  pending(): Quote[] {
    const out: Quote[] = []
    const unpack = this.quoteLane.hold.unpack
    for (const part of this.quoteLane.inFlight?.parts ?? [])
      for (const s of part.segments) out.push(...unpack(s.items))
    for (const b of this.quoteLane.buffers.values()) for (const s of b.segments) out.push(...unpack(s.items))
    return out
  }

  stats(): ProcessorStats {
    const partitions: PartitionStats[] = []
    for (const lane of [this.quoteLane, this.deadLane] as Lane<unknown, unknown, unknown>[]) {
      for (const b of lane.buffers.values()) {
        const inFlight = lane.inFlight?.parts.find((p) => p.buffer === b)?.segments ?? []
        partitions.push({
          topic: b.topic,
          partition: b.partition,
          buffered: countItems(b.segments) + countItems(inFlight),
          committed_offset: b.committed,
        })
      }
    }
    return {
      ...this.counters,
      buffered: this.heldRows,
      buffered_bytes: this.heldBytes,
      spooled: (this.options.spool?.rows ?? 0) + this.spillingRows,
      partitions,
    }
  }

  /** Commits what is buffered in both tables; concurrent calls queue behind the running flush. */
  async flush(): Promise<void> {
    await Promise.all([this.flushLane(this.deadLane), this.flushLane(this.quoteLane)])
  }

  /**
   * Stops the timer and commits everything buffered. With a spool, what the store still refuses
   * is left in it, for the next start.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
    if (this.heldRows > 0 || (this.options.spool?.files ?? 0) > 0) await this.flush()
    await this.spillForRestart()
    await this.options.spool?.close()
  }

  private admit<T, H, I>(lane: Lane<T, H, I>, batch: PositionedBatch<T, I>): Segment<H> | undefined {
    const buffer = lane.buffers.get(partitionKey(batch))
    // Not (or no longer) ours: a batch fetched before a revocation.
    if (!buffer) return undefined
    const floor = Math.max(buffer.committed, buffer.received)
    if (batch.lastOffset <= floor) return undefined
    const kept = trimSegment(segmentOf(lane.hold, batch), floor, lane.hold.slice)
    buffer.segments.push(kept)
    buffer.received = kept.lastOffset
    this.heldRows += kept.rows
    this.heldBytes += kept.bytes
    this.lastArrival = performance.now()
    if (this.overBound() && !this.spillOverflow()) this.pauseAll()
    const buffered = this.bufferedTotals(lane)
    if (
      !lane.sizeFlushQueued &&
      (buffered.rows >= this.options.flushMaxRows || buffered.bytes >= this.options.flushMaxBytes)
    ) {
      lane.sizeFlushQueued = true
      void this.flushLane(lane).finally(() => (lane.sizeFlushQueued = false))
    }
    return kept
  }

  private bufferedTotals<T, H, I>(lane: Lane<T, H, I>): { rows: number; bytes: number } {
    let rows = 0
    let bytes = 0
    for (const b of lane.buffers.values()) {
      rows += countItems(b.segments)
      bytes += countBytes(b.segments)
    }
    return { rows, bytes }
  }

  private onTick(): void {
    // One timer flush at a time: against a store that hangs, ticks must not pile flushes up.
    if (this.tickFlush) return
    const now = performance.now()
    const held = this.heldRows > 0 || (this.options.spool?.files ?? 0) > 0
    // Paused behind a running commit, nothing arrives because of the pause, not because the input
    // went quiet: the commit's end (or the size bound) starts the next flush, with a full batch.
    const pausedBehindCommit = this.counters.paused && this.quoteLane.inFlight !== undefined
    const idle = held && !pausedBehindCommit && now - this.lastArrival >= this.options.flushIdleMs
    if (idle || now - this.lastQuoteFlush >= this.options.flushIntervalMs) {
      this.tickFlush = this.flush().finally(() => (this.tickFlush = undefined))
    }
  }

  private overBound(): boolean {
    return this.heldRows > this.options.maxBufferRows || this.heldBytes > this.options.maxBufferBytes
  }

  /**
   * While quote commits fail and a spool is configured, moves the oldest buffered quote segments
   * (not the batch in flight) to the spool until the buffer is back at half its bounds, in files
   * of about `flushMaxRows` rows. Returns false when that could not bring it under the bounds.
   */
  private spillOverflow(): boolean {
    const spool = this.options.spool
    if (!spool || this.spoolBroken || this.counters.consecutive_flush_errors === 0) return false
    if (this.counters.fenced !== null) return false
    const files: Spilled[][] = []
    let file: Spilled[] = []
    let fileRows = 0
    const underHalf = (): boolean =>
      this.heldRows <= this.options.maxBufferRows / 2 && this.heldBytes <= this.options.maxBufferBytes / 2
    for (const buffer of this.quoteLane.buffers.values()) {
      while (buffer.segments.length > 0 && !underHalf()) {
        const segment = buffer.segments.shift()!
        this.release([segment])
        file.push({ segment, appId: buffer.appId })
        fileRows += segment.rows
        if (fileRows >= this.options.flushMaxRows) {
          files.push(file)
          file = []
          fileRows = 0
        }
      }
    }
    if (file.length > 0) files.push(file)
    for (const segments of files) this.queueSpill(spool, segments)
    if (files.length > 0) this.maybeResume()
    return !this.overBound()
  }

  /** Writes `segments` to the spool after the spills before them; on failure they return to memory. */
  private queueSpill(spool: QuoteSpool, segments: Spilled[], first = false): Promise<void> {
    const rows = countItems(segments.map((s) => s.segment))
    this.spillingRows += rows
    this.spilling = this.spilling.then(async () => {
      try {
        if (this.spoolBroken) throw new Error('an earlier spill failed')
        await spool.spill(
          segments.map((s) => toSpooled(s.segment, s.appId)),
          { first },
        )
      } catch (err) {
        // The disk failed too: keep the quotes in memory (in offset order) rather than lose them.
        if (!this.spoolBroken)
          this.options.logger.error({ err }, 'spooling to disk failed; quotes stay in memory')
        this.spoolBroken = true
        for (const { segment, appId } of segments) {
          const buffer = [...this.quoteLane.buffers.values()].find((b) => b.appId === appId)
          if (!buffer) continue
          buffer.segments.push(segment)
          buffer.segments.sort((a, b) => a.lastOffset - b.lastOffset)
          this.heldRows += segment.rows
          this.heldBytes += segment.bytes
        }
        if (this.overBound()) this.pauseAll()
      } finally {
        this.spillingRows -= rows
      }
    })
    return this.spilling
  }

  /** At stop, with the store still failing: what is held goes to the spool for the next start. */
  private async spillForRestart(): Promise<void> {
    const spool = this.options.spool
    if (!spool || this.spoolBroken || this.counters.fenced !== null) return
    await this.spilling
    const lane = this.quoteLane
    // The batch in flight from memory is older than every spool file written while it failed.
    const inFlight = lane.inFlight
    const older: Spilled[] = []
    if (inFlight && inFlight.spoolFile === undefined) {
      for (const part of inFlight.parts) {
        this.release(part.segments)
        for (const segment of part.segments) older.push({ segment, appId: part.buffer.appId })
      }
      lane.inFlight = undefined
    }
    const newer: Spilled[] = []
    for (const buffer of lane.buffers.values()) {
      this.release(buffer.segments)
      for (const segment of buffer.segments) newer.push({ segment, appId: buffer.appId })
      buffer.segments = []
    }
    if (older.length > 0) await this.queueSpill(spool, older, true)
    if (newer.length > 0) await this.queueSpill(spool, newer)
    if (older.length + newer.length > 0)
      this.options.logger.warn(
        { rows: countItems([...older, ...newer].map((s) => s.segment)), spool: spool.dir },
        'the warehouse is still unreachable at stop: quotes left in the spool for the next start',
      )
  }

  private pauseAll(): void {
    if (this.counters.paused) return
    this.counters.paused = true
    this.counters.pauses++
    this.consumer?.pause(this.consumer.assignment())
    this.options.logger.warn(
      { rows: this.heldRows, bytes: this.heldBytes },
      'buffer bound reached: partitions paused until commits catch up',
    )
  }

  private maybeResume(): void {
    if (!this.counters.paused) return
    const under = RESUME_AT_FRACTION
    if (
      this.heldRows > this.options.maxBufferRows * under ||
      this.heldBytes > this.options.maxBufferBytes * under
    )
      return
    this.counters.paused = false
    // Nothing arrived while paused because of the pause: the idle clock starts again now, or the
    // next tick would flush the few rows left as if the input had gone quiet.
    this.lastArrival = performance.now()
    this.consumer?.resume(this.consumer.assignment())
    this.options.logger.info({ rows: this.heldRows, bytes: this.heldBytes }, 'partitions resumed')
  }

  private release<H>(segments: readonly Segment<H>[]): number {
    const rows = countItems(segments)
    this.heldRows -= rows
    this.heldBytes -= countBytes(segments)
    return rows
  }

  private flushLane<T, H, I>(lane: Lane<T, H, I>): Promise<void> {
    lane.flushing = lane.flushing.then(() => this.flushLaneOnce(lane))
    return lane.flushing
  }

  private async flushLaneOnce<T, H, I>(lane: Lane<T, H, I>): Promise<void> {
    const isQuotes = lane === (this.quoteLane as Lane<unknown, unknown, unknown>)
    if (isQuotes) this.lastQuoteFlush = performance.now()
    if (this.counters.fenced !== null) return
    const spool = isQuotes ? this.options.spool : undefined
    try {
      // Drain only what was buffered when this flush started: items arriving during the commits
      // wait for the next flush, so batches stay large under load.
      let remaining = 0
      for (const b of lane.buffers.values()) remaining += b.segments.length
      for (;;) {
        if (lane.inFlight === undefined && spool) {
          // Spooled segments are older than the buffer's: they go first, one file per batch.
          await this.spilling
          const file = await spool.oldest()
          if (file) lane.inFlight = (await this.spoolCut(file)) as Cut<unknown> as Cut<H>
          // Checked right before cutting from memory: a spill may have started meanwhile.
          else if (spool.files > 0 || this.spillingRows > 0) continue
        }
        if (lane.inFlight === undefined) {
          if (remaining <= 0) break
          const cut = this.cut(lane)
          if (cut === undefined) break
          for (const part of cut.parts) remaining -= part.segments.length
          lane.inFlight = cut
        }
        await this.commit(lane, lane.inFlight)
        lane.inFlight = undefined
        // The store answers: no more spilling while the backlog drains.
        if (isQuotes) this.counters.consecutive_flush_errors = 0
      }
      if (isQuotes) this.counters.consecutive_flush_errors = 0
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      if (lane.name === 'quotes') {
        this.counters.flush_errors++
        this.counters.consecutive_flush_errors++
        this.counters.last_flush_error = message
      } else {
        this.counters.dead_letter_flush_errors++
        this.counters.last_dead_letter_error = message
      }
      this.options.logger.error(
        { err: e, table: lane.name },
        'flush failed; the batch stays buffered and is retried',
      )
      // Paused on the bound before this failure was known: the overflow can go to the spool now.
      if (isQuotes && this.overBound()) this.spillOverflow()
    }
    this.maybeResume()
  }

  /** A spool file as a batch: its segments regrouped by appId, with their partitions' state. */
  private async spoolCut(file: SpoolFile): Promise<Cut<QuoteChunk>> {
    const parts = new Map<string, Cut<QuoteChunk>['parts'][number]>()
    for (const { appId, ...spooled } of file.segments) {
      let part = parts.get(appId)
      if (!part) {
        part = { buffer: await this.partitionFor(appId, spooled), segments: [] }
        parts.set(appId, part)
      }
      part.segments.push(segmentOf(this.quoteLane.hold, spooled))
    }
    return { parts: [...parts.values()], attempts: 0, spoolFile: file.id, adopted: file.adopted }
  }

  private async partitionFor(appId: string, p: BusPartition): Promise<PartitionBuffer<QuoteChunk>> {
    for (const b of this.quoteLane.buffers.values()) if (b.appId === appId) return b
    let buffer = this.detached.get(appId)
    if (!buffer) {
      const committed = (await this.options.quotes.snapshot()).txnVersion(appId) ?? -1
      buffer = { topic: p.topic, partition: p.partition, appId, segments: [], committed, received: committed }
      this.detached.set(appId, buffer)
    }
    return buffer
  }

  /** Takes whole segments from the partitions, oldest first, up to `flushMaxRows` rows. */
  private cut<T, H, I>(lane: Lane<T, H, I>): Cut<H> | undefined {
    const parts: Cut<H>['parts'] = []
    let rows = 0
    for (const buffer of lane.buffers.values()) {
      if (buffer.segments.length === 0) continue
      let n = 0
      while (
        n < buffer.segments.length &&
        (rows < this.options.flushMaxRows || (n === 0 && parts.length === 0))
      ) {
        rows += buffer.segments[n]!.rows
        n++
      }
      if (n === 0) break
      parts.push({ buffer, segments: buffer.segments.splice(0, n) })
    }
    return parts.length > 0 ? { parts, attempts: 0 } : undefined
  }

  private async commit<T, H, I>(lane: Lane<T, H, I>, cut: Cut<H>): Promise<void> {
    const started = performance.now()
    cut.attempts++
    // Each partition's batch continues from what this processor believes the table holds: if
    // another writer committed past that meanwhile, the lake refuses instead of duplicating.
    const txns = cut.parts.map((p) => ({
      appId: p.buffer.appId,
      version: lastOf(p.segments),
      startsAfter: p.buffer.committed,
    }))
    const options = {
      txns,
      sortBy: lane.sortBy,
      compression: this.options.compression,
      operation: 'STREAMING UPDATE',
    }
    let result
    try {
      // Joined afresh on every attempt: a column batch is handed over (transferred) to its encoder.
      result = await lane.hold.append(
        lane.table,
        cut.parts.flatMap((p) => p.segments.map((s) => s.items)),
        options,
      )
    } catch (e) {
      if (
        isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT') &&
        e.details?.['reason'] === 'txn-partially-committed'
      ) {
        // Another writer committed part of this batch: keep only what it did not, and retry.
        // (An adopted spool file may have been committed in part by the process that wrote it.)
        if (!this.options.replayable && !cut.adopted) this.fence(lane, txns)
        else await this.trimCommitted(lane, cut)
      }
      throw e
    }
    const heldBefore = countItems(cut.parts.flatMap((p) => p.segments))
    if (cut.spoolFile !== undefined) await this.options.spool!.remove(cut.spoolFile)
    else this.release(cut.parts.flatMap((p) => p.segments))
    for (const t of txns) {
      // Missing when its partition was revoked during the commit (its buffer is gone).
      const part = cut.parts.find((p) => p.buffer.appId === t.appId)
      if (part) part.buffer.committed = Math.max(part.buffer.committed, t.version)
    }
    this.consumer?.committed(
      cut.parts.map((p) => ({
        topic: p.buffer.topic,
        partition: p.buffer.partition,
        offset: p.buffer.committed + 1,
      })),
    )
    const ms = performance.now() - started
    if (result.status === 'committed') {
      if (lane.name === 'quotes') {
        this.counters.records_written += result.rows
        this.counters.batches++
        this.counters.files += result.files.length
        this.counters.bytes_written += result.bytes
        this.counters.last_table_version = result.version
        this.counters.last_flush_at = new Date().toISOString()
        this.counters.last_batch_rows = result.rows
        this.counters.last_commit_ms = Math.round(ms)
        this.options.onBatchCommitted?.({
          version: result.version,
          rows: result.rows,
          files: result.files.length,
          bytes: result.bytes,
          ms,
        })
      }
      this.options.logger.info(
        {
          table: lane.name,
          version: result.version,
          rows: result.rows,
          files: result.files.length,
          bytes: result.bytes,
          partitions: txns.length,
          ms: Math.round(ms),
        },
        'batch committed',
      )
    } else if (result.status === 'skipped' && result.reason === 'txn-already-committed') {
      if (cut.adopted) {
        this.options.logger.warn(
          { table: lane.name, txns, rows: heldBefore },
          'spooled batch already committed before the restart: dropped',
        )
      } else if (cut.attempts > 1) {
        // An earlier attempt of ours landed; its acknowledgement was lost.
        if (lane.name === 'quotes') this.counters.records_written += heldBefore
        this.options.logger.warn({ table: lane.name, txns }, 'batch already committed by an earlier attempt')
      } else if (this.options.replayable) {
        this.counters.records_duplicate_skipped += heldBefore
        this.options.logger.warn(
          { table: lane.name, txns, rows: heldBefore },
          'batch already committed by another writer (a previous owner of the partition): dropped',
        )
      } else {
        this.fence(lane, txns)
      }
    }
  }

  /**
   * Drops what the table already holds per partition (after a partial txn conflict), from `cut`
   * and from the partitions' buffers alike, and raises their `committed` to what it recorded.
   */
  private async trimCommitted<T, H, I>(lane: Lane<T, H, I>, cut: Cut<H>): Promise<void> {
    const snapshot = await lane.table.snapshot()
    const parts: Cut<H>['parts'] = []
    for (const part of cut.parts) {
      const recorded = snapshot.txnVersion(part.buffer.appId) ?? -1
      part.buffer.committed = Math.max(part.buffer.committed, recorded)
      const before = countItems(part.segments)
      const kept = part.segments
        .filter((seg) => seg.lastOffset > recorded)
        .map((seg) => trimSegment(seg, recorded, lane.hold.slice))
      // A batch read from the spool is not counted as held in memory.
      if (cut.spoolFile === undefined) {
        this.release(part.segments)
        this.heldRows += countItems(kept)
        this.heldBytes += countBytes(kept)
      }
      this.counters.records_duplicate_skipped += before - countItems(kept)
      if (kept.length > 0) parts.push({ buffer: part.buffer, segments: kept })
      // What arrived after the cut may be covered too: `committed` now says so, and the next cut
      // would carry it with that as its start, past the lake's overlap check.
      const buffered = part.buffer.segments
      const stillNew = buffered
        .filter((seg) => seg.lastOffset > recorded)
        .map((seg) => trimSegment(seg, recorded, lane.hold.slice))
      this.release(buffered)
      this.heldRows += countItems(stillNew)
      this.heldBytes += countBytes(stillNew)
      this.counters.records_duplicate_skipped += countItems(buffered) - countItems(stillNew)
      part.buffer.segments = stillNew
    }
    cut.parts = parts
    cut.attempts = 0
    if (parts.length === 0 && lane.inFlight === cut) lane.inFlight = undefined
  }

  private fence(lane: { name: string }, txns: ReadonlyArray<{ appId: string; version: number }>): never {
    const error = new CryptoVizError(
      'WRITER_FENCED',
      `another writer committed ${txns.map((t) => `${t.appId}@${t.version}`).join(', ')} to ${lane.name}: ` +
        `two writers share the identity "${this.options.writerId}"; this one stops committing (give each writer its own --writer-id)`,
      { kind: 'user', details: { writerId: this.options.writerId, txns } },
    )
    if (this.counters.fenced === null) {
      this.counters.fenced = error.message
      this.options.logger.fatal({ err: error }, 'writer fenced')
      this.options.onFenced?.(error)
    }
    throw error
  }
}

/** A delivered batch as held by a lane. */
function segmentOf<T, H, I>(hold: Holding<T, H, I>, b: PositionedBatch<T, I>): Segment<H> {
  const items = hold.pack(b.items)
  return {
    topic: b.topic,
    partition: b.partition,
    items,
    rows: hold.rows(items),
    offsets: b.offsets,
    lastOffset: b.lastOffset,
    bytes: b.bytes,
  }
}

/** A held quote segment on its way to the spool, with its partition's appId. */
interface Spilled {
  segment: Segment<QuoteChunk>
  appId: string
}

/** A held quote segment as the spool writes it: its quotes as objects, with its appId. */
function toSpooled(s: Segment<QuoteChunk>, appId: string): SpooledSegment {
  const { items, rows: _rows, ...position } = s
  return { ...position, items: unpackQuotes(items), appId }
}

/** The part of a segment after `floor` (offsets ≤ floor are already committed). */
function trimSegment<H>(s: Segment<H>, floor: number, slice: (held: H, from: number) => H): Segment<H> {
  if (s.offsets.length === 0 || s.offsets[0]! > floor) return s
  let i = 0
  while (i < s.offsets.length && s.offsets[i]! <= floor) i++
  const share = s.rows === 0 ? 0 : (s.rows - i) / s.rows
  return {
    topic: s.topic,
    partition: s.partition,
    items: slice(s.items, i),
    rows: s.rows - i,
    offsets: s.offsets.slice(i),
    lastOffset: s.lastOffset,
    bytes: Math.round(s.bytes * share),
  }
}
