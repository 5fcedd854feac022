/**
 * The quote bus: collectors publish, processors consume in groups, live views subscribe. Embedded
 * mode uses `MemoryBus` (one process, no durability); distributed mode uses `KafkaBus` (a
 * Kafka-compatible broker: Apache Kafka or Redpanda). Both honour the same contract:
 *
 * - `publish*` resolves once the bus has accepted the items (Kafka: acknowledged by the broker);
 *   a full consumer makes it wait (back-pressure), it never buffers without bound.
 * - A group consumer receives batches with their position: topic, partition and the offsets of
 *   every item. Within a partition, offsets only grow.
 * - Before the first batch of a newly owned partition, `onAssigned` says where to start (the
 *   lake's txn version + 1): the lake, not the bus, is the source of truth for what is committed.
 * - `committed` is a hint (Kafka's committed offsets), written after the lake commit.
 */
import type { DeadLetter } from '../model/dead-letter.ts'
import type { QuoteChunk } from '../model/quote-chunk.ts'
import type { Quote } from '../model/quote.ts'

/** One partition of one topic. */
export interface BusPartition {
  topic: string
  partition: number
}

/**
 * Items read from one partition, with the offset of each (`items` and `offsets` in parallel,
 * ascending offsets). `Items` is how the items come: an array of `T` unless said otherwise.
 */
export interface PositionedBatch<T, Items = readonly T[]> extends BusPartition {
  /** The items; `T` names what each is (an item of `Items`, whatever its representation). */
  items: Items
  offsets: readonly number[]
  /**
   * The last offset this batch accounts for; ≥ the last item's offset when records that carried
   * no item (poison messages, already sent to the dead letters) came after it.
   */
  lastOffset: number
  /** Encoded size of the items (bytes on the wire), for memory bounds. */
  bytes: number
}

/**
 * Quotes as a batch carries them: objects, or packed column-wise on arrival (what `KafkaBus`
 * delivers to a group consumer: no object per quote; the processor holds chunks anyway).
 */
export type QuoteItems = readonly Quote[] | QuoteChunk
export type QuoteBatch = PositionedBatch<Quote, QuoteItems>
export type DeadLetterBatch = PositionedBatch<DeadLetter>

export interface ConsumerHandlers {
  onQuotes(batch: QuoteBatch): void
  onDeadLetters(batch: DeadLetterBatch): void
  /**
   * Partitions this consumer now owns. Resolves with the offset to start each at (keyed by
   * `partitionKey`); a partition missing from the map starts at the earliest retained offset.
   */
  onAssigned(partitions: readonly BusPartition[]): Promise<ReadonlyMap<string, number>>
  /** Partitions this consumer lost: resolves once their uncommitted data is flushed or dropped. */
  onRevoked(partitions: readonly BusPartition[]): Promise<void>
}

/** Where a consumer is in one partition, for lag reporting. */
export interface PartitionLag extends BusPartition {
  /** Next offset this consumer will read. */
  position: number
  /** Offset the broker will give the next produced record. */
  end: number
  lag: number
  paused: boolean
}

export interface BusConsumer {
  /** Stops fetching these partitions until `resume` (what is already delivered stays delivered). */
  pause(partitions: readonly BusPartition[]): void
  resume(partitions: readonly BusPartition[]): void
  /** Everything before each `offset` is in the lake (Kafka: the group's committed offsets). */
  committed(offsets: ReadonlyArray<BusPartition & { offset: number }>): void
  /** Partitions currently owned. */
  assignment(): BusPartition[]
  lag(): Promise<PartitionLag[]>
  close(): Promise<void>
}

export interface BusHealth {
  status: 'ok' | 'degraded'
  reason?: string
}

export interface QuoteBus {
  readonly kind: 'memory' | 'kafka'
  publishQuotes(quotes: readonly Quote[]): Promise<void>
  publishDeadLetters(deadLetters: readonly DeadLetter[]): Promise<void>
  /** Joins consumer group `group`: partitions are shared among the group's members. */
  consume(group: string, handlers: ConsumerHandlers): Promise<BusConsumer>
  /** Every quote published from now on, for live views (no group, no positions, no replay). */
  subscribeLive(onQuotes: (quotes: readonly Quote[]) => void): Promise<() => Promise<void>>
  health(): BusHealth
  close(): Promise<void>
}

export const partitionKey = (p: BusPartition): string => `${p.topic}:${p.partition}`
