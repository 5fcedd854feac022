/**
 * `QuoteBus` over a Kafka-compatible broker (Apache Kafka, Redpanda), with @platformatic/kafka.
 *
 * Topics `<prefix>.quotes` (key `source:crypto`, so each asset stays in order within its
 * partition) and `<prefix>.dead-letters`, created at start when missing. One JSON message per
 * item (`quote-message.ts`), record batches compressed (`compression`, the `bus.compression`
 * setting, lz4 by default; docs/benchmarks.md "Kafka ingest" compares the codecs), produced by our
 * own idempotent producer (`record-batch-producer.ts`: each quote written straight into its
 * partition's record batch; retries never duplicate a record). Consumers read whatever codec
 * each batch carries.
 *
 * Consumption is our own fetch loop over the group's assignment rather than the client's stream,
 * because exactly once needs three things the stream does not give: per-partition start offsets
 * chosen at every assignment (the lake's txn version + 1, asked of `onAssigned`), per-partition
 * pause, and knowing which partitions were revoked. Kafka's committed offsets are written after
 * the lake commit and are only a hint for tools (lag in `kafka-consumer-groups`). The group
 * (join, heartbeats, assignment, commits) is the client's; the Fetch requests are sent raw
 * (`raw-fetch.ts`) and each partition's record batches read where they lie in the response
 * (`record-batch-reader.ts`), with no object per record.
 *
 * A poison message (not JSON, unknown schema version, invalid fields) becomes a dead letter on the
 * dead-letter topic with its reason, before the batch that skips it is delivered; its offset is
 * still covered by the batch's `lastOffset`, so the partition keeps moving. Dead letters are at
 * least once: a crash between the two can send one twice.
 */
import { randomUUID } from 'node:crypto'
import {
  Admin,
  Consumer,
  defaultPartitioner,
  type ClusterMetadata,
  type CompressionAlgorithmValue,
} from '@platformatic/kafka'
import type { Logger } from 'pino'
import { CryptoVizError } from '../errors.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import { NUMBER_FIELDS, QuoteChunkBuilder, quotesOf, STRING_FIELDS } from '../model/quote-chunk.ts'
import type { Quote } from '../model/quote.ts'
import {
  partitionKey,
  type BusConsumer,
  type BusHealth,
  type BusPartition,
  type ConsumerHandlers,
  type PartitionLag,
  type QuoteBus,
} from './bus.ts'
import {
  decodeDeadLetter,
  decodeQuote,
  encodeDeadLetter,
  quoteKey,
  QuoteValue,
  readQuoteRow,
  type AssetFieldsSlot,
  type Decoded,
} from './quote-message.ts'
import { RecordBatchProducer, type PendingBatch } from './record-batch-producer.ts'
import {
  fetchTopicBy,
  fetchVersionFor,
  rawFetch,
  READ_COMMITTED,
  type FetchTopicRequest,
  type RawFetchPartition,
} from './raw-fetch.ts'
import { lastOffsetIn, RecordBatchReader, recordCountIn } from './record-batch-reader.ts'

export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[]
  topicPrefix: string
  /** Partitions and replication factor of topics this bus creates. */
  partitions: number
  replication: number
  clientId?: string
  logger: Logger
  /** Most bytes fetched per partition per request; default 1 MiB. */
  fetchMaxBytesPerPartition?: number
  /**
   * A group consumer's fetch (a processor's) is answered once this many bytes are ready or
   * `fetchMaxWaitMs` passed; default `DEFAULT_FETCH_MIN_BYTES`. Live views always take any byte.
   */
  fetchMinBytes?: number
  /** Longest the broker holds a group consumer's fetch waiting for `fetchMinBytes`; default `DEFAULT_FETCH_MAX_WAIT_MS`. */
  fetchMaxWaitMs?: number
  /** Codec of the record batches this bus produces (any consumer reads them all); default lz4. */
  compression?: CompressionAlgorithmValue
}

/**
 * A processor's fetches wait for this many bytes (up to `DEFAULT_FETCH_MAX_WAIT_MS`): live, with
 * producers trickling in, an answer-at-the-first-byte fetch carried a few dozen records, and each
 * request and response costs the processor and the broker the same whatever it carries
 * (docs/benchmarks.md, Kafka ingest, follow-up 2026-12-01). A draining processor always finds
 * this much ready, so draining is unchanged.
 */
export const DEFAULT_FETCH_MIN_BYTES = 131_072
/** Longest a processor's fetch waits for `DEFAULT_FETCH_MIN_BYTES`: what it adds to the delay at most, at low rates. */
export const DEFAULT_FETCH_MAX_WAIT_MS = 250
/** A live view's fetch: answered at the first byte (freshness first), else after this long. */
const LIVE_FETCH_MAX_WAIT_MS = 200

const OFFSET_OUT_OF_RANGE = 1
const TOPIC_ALREADY_EXISTS = 36

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class KafkaBus implements QuoteBus {
  readonly kind = 'kafka'
  readonly quotesTopic: string
  readonly deadLettersTopic: string
  private readonly options: KafkaBusOptions
  private readonly clientId: string
  private producer: RecordBatchProducer | undefined
  /** Each asset's message key and partition hash, so a message costs neither (`QuoteKeys`). */
  private readonly quoteKeys = new QuoteKeys()
  /** The value writer of `publishQuotes` (one object, pointed at each quote in turn). */
  private readonly quoteValue = new QuoteValue()
  /** Tells one publish call's batches apart from another's (`PendingBatch.mark`). */
  private publishCalls = 0
  private readonly readers = new Set<PartitionReader>()
  private lastError: { message: string; at: string } | undefined
  private closed = false

  constructor(options: KafkaBusOptions) {
    this.options = options
    this.quotesTopic = `${options.topicPrefix}.quotes`
    this.deadLettersTopic = `${options.topicPrefix}.dead-letters`
    this.clientId = options.clientId ?? `cryptoviz-${randomUUID().slice(0, 8)}`
  }

  /** Creates the topics if missing. Throws BROKER_UNAVAILABLE when the broker cannot be reached. */
  async start(): Promise<void> {
    const admin = new Admin({ clientId: `${this.clientId}-admin`, bootstrapBrokers: this.options.brokers })
    try {
      const existing = new Set(await admin.listTopics())
      const missing = [this.quotesTopic, this.deadLettersTopic].filter((t) => !existing.has(t))
      for (const topic of missing) {
        try {
          await admin.createTopics({
            topics: [topic],
            partitions: this.options.partitions,
            replicas: this.options.replication,
          })
          this.options.logger.info(
            { topic, partitions: this.options.partitions, replication: this.options.replication },
            'topic created',
          )
        } catch (e) {
          if (!hasErrorCode(e, TOPIC_ALREADY_EXISTS)) throw e
        }
      }
    } catch (e) {
      throw new CryptoVizError(
        'BROKER_UNAVAILABLE',
        `cannot set up topics on ${this.options.brokers.join(',')}: ${errorMessage(e)}`,
        { kind: 'external', canRetry: true, cause: e },
      )
    } finally {
      await admin.close()
    }
  }

  /**
   * Writes each quote straight into its partition's record batch and resolves once the broker
   * acknowledged every batch holding one of them (back-pressure). Partitions as the client's
   * default partitioner (`QuoteKeys`).
   */
  async publishQuotes(quotes: readonly Quote[]): Promise<void> {
    if (quotes.length === 0) return
    const producer = this.ensureProducer()
    const topic = producer.topic(this.quotesTopic)
    const t = topic instanceof Promise ? await topic : topic
    const mark = ++this.publishCalls
    const batches: PendingBatch[] = []
    const now = Date.now()
    const value = this.quoteValue
    for (let i = 0; i < quotes.length; i++) {
      const q = quotes[i]!
      const key = this.quoteKeys.of(q.source, q.crypto)
      const batch = producer.append(t, key.partition % t.partitionsCount, key.bytes, now, value.set(q, key))
      if (batch.mark !== mark) {
        batch.mark = mark
        batches.push(batch)
      }
    }
    await this.acknowledged(producer, batches)
  }

  async publishDeadLetters(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return
    const producer = this.ensureProducer()
    const topic = producer.topic(this.deadLettersTopic)
    const t = topic instanceof Promise ? await topic : topic
    const batches = new Set<PendingBatch>()
    const now = Date.now()
    for (const d of deadLetters) {
      const key = Buffer.from(d.source)
      const partition = defaultPartitioner({ topic: t.name, key, value: EMPTY }, key) % t.partitionsCount
      batches.add(producer.appendBytes(t, partition, key, encodeDeadLetter(d), now))
    }
    await this.acknowledged(producer, [...batches])
  }

  /**
   * Sends and waits until the broker acknowledged `batches`. Every failure is retried by the
   * producer without limit (`record-batch-producer.ts`: the same bytes and sequence, so a retry
   * never writes a record twice; only a lost producer state makes new records of a batch, logged
   * at error); /health is degraded meanwhile. Rejects only when the bus is closed first.
   */
  private async acknowledged(producer: RecordBatchProducer, batches: readonly PendingBatch[]): Promise<void> {
    producer.flush()
    if (batches.length === 1) await batches[0]!.done
    else await Promise.all(batches.map((b) => b.done))
  }

  private ensureProducer(): RecordBatchProducer {
    if (this.closed)
      throw new CryptoVizError('BROKER_UNAVAILABLE', 'the bus is closed', {
        kind: 'external',
        canRetry: false,
      })
    this.producer ??= new RecordBatchProducer({
      clientId: `${this.clientId}-producer`,
      brokers: this.options.brokers,
      compression: this.options.compression ?? 'lz4',
      onRetry: (e) => this.noteError('produce', e),
      onRefused: (e, records, asNewRecords) => {
        // Logged once, at error level (not also as a retry warning).
        this.recordError('produce', e)
        this.options.logger.error(
          { err: e, records },
          asNewRecords
            ? 'the broker refused a batch with a non-retriable error; sending it again as new records'
            : 'the broker refused a batch with a non-retriable error; sending it again',
        )
      },
      onAcknowledged: () => {
        this.lastError = undefined
      },
    })
    return this.producer
  }

  async consume(group: string, handlers: ConsumerHandlers): Promise<BusConsumer> {
    const reader = new PartitionReader({
      bus: this,
      brokers: this.options.brokers,
      clientId: `${this.clientId}-${group}`,
      group,
      topics: [this.quotesTopic, this.deadLettersTopic],
      handlers,
      logger: this.options.logger,
      maxBytesPerPartition: this.options.fetchMaxBytesPerPartition ?? 1_048_576,
      minBytes: this.options.fetchMinBytes ?? DEFAULT_FETCH_MIN_BYTES,
      maxWaitMs: this.options.fetchMaxWaitMs ?? DEFAULT_FETCH_MAX_WAIT_MS,
      packQuotes: true,
    })
    this.readers.add(reader)
    await reader.start()
    return reader
  }

  async subscribeLive(onQuotes: (quotes: readonly Quote[]) => void): Promise<() => Promise<void>> {
    const reader = new PartitionReader({
      bus: this,
      brokers: this.options.brokers,
      clientId: `${this.clientId}-live`,
      group: undefined,
      topics: [this.quotesTopic],
      handlers: {
        onQuotes: (b) => onQuotes(quotesOf(b.items)),
        onDeadLetters: () => undefined,
        onAssigned: async () => new Map(),
        onRevoked: async () => undefined,
      },
      logger: this.options.logger,
      maxBytesPerPartition: this.options.fetchMaxBytesPerPartition ?? 1_048_576,
      minBytes: 1,
      maxWaitMs: LIVE_FETCH_MAX_WAIT_MS,
      packQuotes: false,
    })
    this.readers.add(reader)
    await reader.start()
    return async () => {
      this.readers.delete(reader)
      await reader.close()
    }
  }

  health(): BusHealth {
    return this.lastError
      ? {
          status: 'degraded',
          reason: `broker unreachable since ${this.lastError.at}: ${this.lastError.message}`,
        }
      : { status: 'ok' }
  }

  /** Records a broker failure for `/health` and logs it once per distinct failure; cleared by the next success. */
  noteError(what: string, e: unknown): void {
    if (this.recordError(what, e)) this.options.logger.warn({ err: e }, `broker ${what} failed; retrying`)
  }

  /** Records a broker failure for `/health`; true when it differs from the one recorded. */
  private recordError(what: string, e: unknown): boolean {
    const message = `${what}: ${errorMessage(e)}`
    const changed = this.lastError?.message !== message
    this.lastError = { message, at: this.lastError?.at ?? new Date().toISOString() }
    return changed
  }

  noteOk(): void {
    this.lastError = undefined
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.readers].map((r) => r.close()))
    this.readers.clear()
    await this.producer?.close()
  }

  /** A dead letter for a message that did not decode: it keeps the raw bytes and the reason. */
  poison(
    topic: string,
    partition: number,
    offset: number,
    value: Buffer | null,
    d: Decoded<unknown>,
  ): DeadLetter {
    const reason = d.ok ? 'ok' : d.reason
    const detail = d.ok ? '' : d.detail
    return {
      source: 'kafka',
      reason,
      detail: `${topic}[${partition}]@${offset}: ${detail}`,
      raw: value === null ? null : value.toString('utf8'),
      received_at: Date.now() * 1000,
    }
  }
}

/** Assets remembered by `QuoteKeys` before it starts over (a few hundred in practice). */
const QUOTE_KEYS_MAX = 100_000

/**
 * Each asset's message key (`quoteKey`'s bytes) and its partition hash (the client's default
 * partitioner: murmur2 of the key, as the Java client), built once per asset: a collector sends
 * the same few hundred keys again and again, and building, encoding and hashing each message's
 * key was ~5% of a producer's CPU. A message goes to the hash modulo the topic's partitions,
 * exactly as the client places the partitioner's answer, so every key keeps the partition the
 * client's default gives it (test/bus/kafka-partitioner.test.ts). The key bytes are shared by all
 * the asset's messages and never written to; the entry also keeps the asset's encoded string
 * fields (`AssetFieldsSlot`, filled by `writeQuote`).
 */
export class QuoteKeys {
  private readonly bySource = new Map<string, Map<string, QuoteKey>>()
  private size = 0
  private readonly max: number

  /** `max`: assets remembered before starting over. */
  constructor(max = QUOTE_KEYS_MAX) {
    this.max = max
  }

  of(source: string, crypto: string): QuoteKey {
    let byCrypto = this.bySource.get(source)
    const known = byCrypto?.get(crypto)
    if (known !== undefined) return known
    if (this.size >= this.max) {
      this.bySource.clear()
      this.size = 0
      byCrypto = undefined
    }
    if (byCrypto === undefined) {
      byCrypto = new Map()
      this.bySource.set(source, byCrypto)
    }
    const bytes = Buffer.from(quoteKey({ source, crypto }))
    const key: QuoteKey = {
      bytes,
      partition: defaultPartitioner({ topic: '', key: bytes, value: EMPTY }, bytes),
      assetFields: undefined,
    }
    byCrypto.set(crypto, key)
    this.size++
    return key
  }
}

export interface QuoteKey extends AssetFieldsSlot {
  /** The message key: `source:crypto` in UTF-8. */
  bytes: Buffer
  /** What the client's default partitioner answers for it. */
  partition: number
}

const EMPTY = Buffer.alloc(0)

/** One partition's part of a fetch response, with the offset it was fetched from. */
interface FetchedPartition {
  key: string
  from: bigint
  response: Pick<RawFetchPartition, 'errorCode' | 'highWatermark' | 'logStartOffset' | 'records'> &
    Partial<Pick<RawFetchPartition, 'abortedTransactions'>>
}

/** One leader's fetch response. */
interface Fetched {
  partitions: FetchedPartition[]
}

/**
 * Where each partition stands once `fetched` is delivered: past its last record, or at the log
 * start after an out-of-range answer. Only partitions whose `position` is still the offset they
 * were fetched from are predicted (the others' data will be dropped, so guessing from it would
 * send every later fetch after the stale one); those, and partitions that returned nothing or an
 * error, stay where they are.
 */
export function predictedPositions(
  fetched: readonly Fetched[],
  position: (key: string) => bigint | undefined,
): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const { partitions } of fetched) {
    for (const { key, from, response: r } of partitions) {
      if (position(key) !== from) continue
      if (r.errorCode === OFFSET_OUT_OF_RANGE) out.set(key, r.logStartOffset)
      if (r.errorCode !== 0 || !r.records) continue
      const last = BigInt(lastOffsetIn(r.records))
      if (last >= from) out.set(key, last + 1n)
    }
  }
  return out
}

/**
 * The `minBytes` a fetch asks for: `wanted`, but at most half of what one partition may return.
 * The broker counts each partition's ready bytes up to its `partitionMaxBytes`, and a partition
 * with a backlog returns at least half of that (whole record batches: k batches of b bytes with
 * k = ⌊max / b⌋ ≥ 1, so k·b > max − b and k·b ≥ b); so one partition with a backlog always
 * answers at once. Asking for more than a response can hold would make every fetch wait its
 * full `maxWaitMs`, backlog or not (a processor owning one partition at the 64 KiB floor).
 */
export function fetchMinBytesFor(wanted: number, maxBytesPerPartition: number): number {
  return Math.max(1, Math.min(wanted, Math.floor(maxBytesPerPartition / 2)))
}

interface ReaderOptions {
  bus: KafkaBus
  brokers: string[]
  clientId: string
  /** Undefined: no group, every partition from the end (live views). */
  group: string | undefined
  topics: string[]
  handlers: ConsumerHandlers
  logger: Logger
  maxBytesPerPartition: number
  /** The broker answers a fetch once this many bytes are ready, or after `maxWaitMs`. */
  minBytes: number
  maxWaitMs: number
  /**
   * Deliver quotes packed column-wise (`QuoteChunk`), decoded straight from the message bytes
   * where they are in `encodeQuote`'s shape (`readQuoteRow`): a processor's path, with no object
   * per quote. Live views get quote objects.
   */
  packQuotes: boolean
}

interface Owned extends BusPartition {
  position: bigint
  paused: boolean
  end: bigint
}

/** The fetch loop of one consumer (a group member, or a group-less live reader). */
class PartitionReader implements BusConsumer {
  private readonly o: ReaderOptions
  private readonly consumer: Consumer
  private readonly owned = new Map<string, Owned>()
  private readonly pausedKeys = new Set<string>()
  private running: Promise<void> | undefined
  private closed = false
  /**
   * Set when the client's background rejoin of the group failed: it then stops heartbeating, so
   * this member is out of the group while still holding its partitions. The loop revokes them all
   * and joins again; the lake's txns make whatever the new owner re-reads exactly once.
   */
  private groupLost: unknown = undefined
  /** The Fetch version spoken with the brokers: asked once, of a bootstrap broker, as the client does. */
  private fetchVersion: number | undefined
  /** Set when a fetch failed: the next one reads the cluster's metadata afresh (a leader may have moved). */
  private refreshMetadata = false
  private pendingCommits = new Map<
    string,
    { topic: string; partition: number; offset: bigint; leaderEpoch: number }
  >()

  constructor(o: ReaderOptions) {
    this.o = o
    this.consumer = new Consumer({
      clientId: o.clientId,
      groupId: o.group ?? `cryptoviz-live-${randomUUID()}`,
      bootstrapBrokers: o.brokers,
      autocommit: false,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      retryDelay: 250,
    })
    // The client reports a failed background rejoin as an 'error' event: unheard, it kills the
    // process (it did during graceful stops under load, when the broker was mid-rebalance).
    this.consumer.on('error', (e: unknown) => {
      if (this.closed || o.group === undefined) {
        o.logger.debug({ err: e }, 'consumer error while closing or without a group (ignored)')
        return
      }
      this.groupLost = e
      o.bus.noteError('group rejoin', e)
    })
  }

  async start(): Promise<void> {
    if (this.o.group !== undefined) {
      for (const t of this.o.topics) this.consumer.topics.track(t)
      await this.consumer.joinGroup({})
    } else {
      // Live: every partition, from the end, no group membership.
      const metadata = await this.consumer.metadata({ topics: this.o.topics })
      const ends = await this.consumer.listOffsets({ topics: this.o.topics })
      for (const t of this.o.topics) {
        const count = metadata.topics.get(t)?.partitionsCount ?? 0
        for (let p = 0; p < count; p++) {
          const end = ends.get(t)?.[p] ?? 0n
          this.owned.set(partitionKey({ topic: t, partition: p }), {
            topic: t,
            partition: p,
            position: end,
            paused: false,
            end,
          })
        }
      }
    }
    this.running = this.loop()
  }

  pause(partitions: readonly BusPartition[]): void {
    for (const p of partitions) this.pausedKeys.add(partitionKey(p))
  }

  resume(partitions: readonly BusPartition[]): void {
    for (const p of partitions) this.pausedKeys.delete(partitionKey(p))
  }

  committed(offsets: ReadonlyArray<BusPartition & { offset: number }>): void {
    if (this.o.group === undefined) return
    for (const c of offsets) {
      this.pendingCommits.set(partitionKey(c), {
        topic: c.topic,
        partition: c.partition,
        offset: BigInt(c.offset),
        leaderEpoch: -1,
      })
    }
  }

  assignment(): BusPartition[] {
    return [...this.owned.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  async lag(): Promise<PartitionLag[]> {
    const owned = [...this.owned.values()]
    if (owned.length === 0) return []
    const ends = await this.consumer.listOffsets({ topics: [...new Set(owned.map((p) => p.topic))] })
    return owned.map((p) => {
      const end = ends.get(p.topic)?.[p.partition] ?? p.position
      return {
        topic: p.topic,
        partition: p.partition,
        position: Number(p.position),
        end: Number(end),
        lag: Math.max(0, Number(end - p.position)),
        paused: this.pausedKeys.has(partitionKey(p)),
      }
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.running?.catch(() => undefined)
    await this.flushCommits()
    const owned = this.assignment()
    this.owned.clear()
    if (this.o.group !== undefined && owned.length > 0) await this.o.handlers.onRevoked(owned)
    await this.consumer.close(true).catch(() => undefined)
  }

  /**
   * Fetch-ahead: the next fetch is sent, from where the current response leaves each partition,
   * before that response is decoded and handed over, so the broker's turn overlaps our decoding.
   * What a response carries is used only for a partition still owned, not paused, and still at
   * exactly the offset it was fetched from (checked at delivery, `deliverAll`): records at an
   * offset never change, so such a response is the one a fetch sent now would get. Anything
   * else (a revoke, a new assignment, a reset, a pause, a delivery that failed) makes those
   * partitions' data be dropped and fetched again from their real position.
   */
  private async loop(): Promise<void> {
    let backoff = 100
    let ahead: Promise<Fetched[]> | undefined
    while (!this.closed) {
      try {
        if (this.groupLost !== undefined) await this.rejoin()
        if (this.o.group !== undefined) await this.syncAssignment()
        await this.flushCommits()
        let current = ahead
        ahead = undefined
        if (current === undefined) {
          const active = this.activePositions(new Map())
          if (active.length === 0) {
            await sleep(50)
            continue
          }
          current = this.fetchAll(active)
        }
        const fetched = await current
        // Predicted only where the response will be delivered: a stale one must not steer the next.
        const next = this.activePositions(predictedPositions(fetched, (key) => this.owned.get(key)?.position))
        if (next.length > 0) {
          ahead = this.fetchAll(next)
          // Awaited next round (or dropped on an error): never an unhandled rejection.
          ahead.catch(() => undefined)
        }
        await this.deliverAll(fetched)
        this.o.bus.noteOk()
        backoff = 100
      } catch (e) {
        if (this.closed) break
        this.o.bus.noteError('fetch', e)
        await sleep(backoff)
        backoff = Math.min(5_000, backoff * 2)
      }
    }
    await ahead?.catch(() => undefined)
  }

  /** The owned, unpaused partitions with the offset to fetch each from (`after`, else its position). */
  private activePositions(after: ReadonlyMap<string, bigint>): Array<{ p: Owned; offset: bigint }> {
    const out: Array<{ p: Owned; offset: bigint }> = []
    for (const [key, p] of this.owned) {
      if (this.pausedKeys.has(key)) continue
      out.push({ p, offset: after.get(key) ?? p.position })
    }
    return out
  }

  /** Gives up every partition (the group may have given them to others already), then joins again. */
  private async rejoin(): Promise<void> {
    const owned = this.assignment()
    this.owned.clear()
    this.pendingCommits.clear()
    if (owned.length > 0) await this.o.handlers.onRevoked(owned)
    // Bounded: a join that never answers is retried by the loop (with its backoff), not awaited forever.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('consumer group rejoin timed out')), 30_000)
    })
    try {
      await Promise.race([this.consumer.joinGroup({}), timeout])
    } finally {
      clearTimeout(timer)
    }
    this.groupLost = undefined
    this.o.logger.info({ revoked: owned.length }, 'rejoined the consumer group')
  }

  /** Diffs the group's assignment with what we own: revoked first, then the newly assigned. */
  private async syncAssignment(): Promise<void> {
    const assigned = new Map<string, BusPartition>()
    for (const a of this.consumer.assignments ?? []) {
      for (const partition of a.partitions)
        assigned.set(partitionKey({ topic: a.topic, partition }), { topic: a.topic, partition })
    }
    const revoked = [...this.owned.values()].filter((p) => !assigned.has(partitionKey(p)))
    if (revoked.length > 0) {
      for (const p of revoked) {
        this.owned.delete(partitionKey(p))
        this.pendingCommits.delete(partitionKey(p))
      }
      await this.o.handlers.onRevoked(revoked.map((p) => ({ topic: p.topic, partition: p.partition })))
    }
    const added = [...assigned.entries()].filter(([k]) => !this.owned.has(k)).map(([, p]) => p)
    if (added.length === 0) return
    const starts = await this.o.handlers.onAssigned(added)
    const earliest = await this.consumer.listOffsets({
      topics: [...new Set(added.map((p) => p.topic))],
      timestamp: -2n,
    })
    for (const p of added) {
      const start = starts.get(partitionKey(p))
      const floor = earliest.get(p.topic)?.[p.partition] ?? 0n
      const position = start === undefined || BigInt(start) < floor ? floor : BigInt(start)
      this.owned.set(partitionKey(p), { ...p, position, paused: false, end: position })
    }
  }

  private async flushCommits(): Promise<void> {
    if (this.pendingCommits.size === 0) return
    const offsets = [...this.pendingCommits.values()].filter((c) => this.owned.has(partitionKey(c)))
    this.pendingCommits.clear()
    if (offsets.length === 0) return
    // Only a hint (the lake's txns decide): a failure, e.g. during a rebalance, is not an error.
    await this.consumer
      .commit({ offsets })
      .catch((e: unknown) => this.o.logger.debug({ err: e }, 'offset commit (hint) failed'))
  }

  /**
   * One fetch per leader for `parts`, each from its `offset`; nothing is delivered yet. Sent raw
   * (`rawFetch`): each partition's records stay bytes, read by `deliver` without an object per
   * record.
   */
  private async fetchAll(parts: ReadonlyArray<{ p: Owned; offset: bigint }>): Promise<Fetched[]> {
    const forceUpdate = this.refreshMetadata
    this.refreshMetadata = false
    try {
      const metadata = await this.consumer.metadata({ topics: this.o.topics, forceUpdate })
      this.fetchVersion ??= fetchVersionFor(await this.consumer.listApis())
      const version = this.fetchVersion
      const byNode = new Map<number, Array<{ p: Owned; offset: bigint }>>()
      for (const part of parts) {
        const leader = metadata.topics.get(part.p.topic)?.partitions[part.p.partition]?.leader ?? -1
        const list = byNode.get(leader) ?? []
        list.push(part)
        byNode.set(leader, list)
      }
      return await Promise.all(
        [...byNode].map(([node, list]) => this.fetchFrom(metadata, version, node, list)),
      )
    } catch (e) {
      this.refreshMetadata = true
      throw e
    }
  }

  /** One fetch of `list` from broker `node`, answered as `Fetched`. */
  private async fetchFrom(
    metadata: ClusterMetadata,
    version: number,
    node: number,
    list: ReadonlyArray<{ p: Owned; offset: bigint }>,
  ): Promise<Fetched> {
    const broker = metadata.brokers.get(node)
    if (broker === undefined) throw new Error(`no broker with node id ${node} leads the fetched partitions`)
    const connection = await this.consumer.connections.get(broker)
    // Topics are named by id from Fetch v13, by name before: `topicOf` maps the answer back.
    const byName = fetchTopicBy(version) === 'name'
    const topicOf = new Map<string, string>()
    const requested = new Map<string, bigint>()
    const topics = new Map<string, FetchTopicRequest>()
    for (const { p, offset } of list) {
      const topicId = byName ? p.topic : metadata.topics.get(p.topic)!.id
      topicOf.set(topicId, p.topic)
      requested.set(partitionKey(p), offset)
      const t = topics.get(topicId) ?? { topicId, partitions: [] }
      t.partitions.push({
        partition: p.partition,
        fetchOffset: offset,
        partitionMaxBytes: this.o.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      })
      topics.set(topicId, t)
    }
    const response = await rawFetch(connection, version, {
      maxWaitMs: this.o.maxWaitMs,
      minBytes: fetchMinBytesFor(this.o.minBytes, this.o.maxBytesPerPartition),
      maxBytes: 16 * 1_048_576,
      isolationLevel: READ_COMMITTED,
      topics: [...topics.values()],
    })
    const out: Fetched = { partitions: [] }
    for (const t of response.topics) {
      const topic = topicOf.get(t.topic)
      if (topic === undefined) continue
      for (const r of t.partitions) {
        const key = partitionKey({ topic, partition: r.partitionIndex })
        const from = requested.get(key)
        if (from !== undefined) out.partitions.push({ key, from, response: r })
      }
    }
    return out
  }

  /** Hands over what was fetched, for the partitions still owned, unpaused and at the fetched offset. */
  private async deliverAll(fetched: readonly Fetched[]): Promise<void> {
    for (const { partitions } of fetched) {
      for (const { key, from, response: r } of partitions) {
        const owned = this.owned.get(key)
        // Revoked, moved or paused since the fetch was sent: what it returned is not to be used.
        if (!owned || owned.position !== from || this.pausedKeys.has(key)) continue
        owned.end = r.highWatermark
        if (r.errorCode === OFFSET_OUT_OF_RANGE) {
          owned.position = r.logStartOffset
          this.o.logger.warn({ partition: key, reset_to: String(r.logStartOffset) }, 'offset out of range')
          continue
        }
        if (r.errorCode !== 0) {
          // Most partition errors (not the leader, leader not available, fenced epoch…) mean the
          // metadata is stale: the next fetch reads it afresh.
          this.refreshMetadata = true
          throw new Error(`fetch ${key}: Kafka error code ${r.errorCode}`)
        }
        if (r.records !== null && r.records.length > 0)
          await this.deliver(owned, r.records, r.abortedTransactions)
      }
    }
  }

  /**
   * Reads `records` (a partition's record set, `RecordBatchReader`) from the partition's position
   * and hands the items over. A processor's quotes go from each record's bytes straight into a
   * chunk row (`readQuoteRow`) where they are in `encodeQuote`'s shape: no object per record on
   * that path; other messages (and every message of a live view) are decoded from a view of their
   * bytes.
   */
  private async deliver(
    owned: Owned,
    records: Buffer,
    aborted: RawFetchPartition['abortedTransactions'] | undefined,
  ): Promise<void> {
    const isDead = owned.topic === this.o.bus.deadLettersTopic
    const chunk = !isDead && this.o.packQuotes ? new QuoteChunkBuilder(recordCountIn(records)) : undefined
    const quotes: Quote[] = []
    const deadLetters: DeadLetter[] = []
    const offsets: number[] = []
    const poison: DeadLetter[] = []
    let bytes = 0
    // Offsets stay far below 2^53 (the reader throws past it): plain numbers here; positions stay
    // BigInt like the client's.
    const position = Number(owned.position)
    let last = position - 1
    const batches = new RecordBatchReader(records, aborted)
    while (batches.nextBatch()) {
      const batchLast = batches.lastOffset
      if (batchLast < position) continue
      if (batchLast > last) last = batchLast
      // Transaction markers and aborted transactions: offsets to move past, nothing to read.
      if (batches.isControl || batches.aborted) continue
      batches.openRecords()
      while (batches.nextRecord()) {
        const offset = batches.offset
        if (offset < position) continue
        const start = batches.valueStart
        const end = batches.valueEnd
        if (
          chunk !== undefined &&
          start >= 0 &&
          readQuoteRow(batches.records, start, end, rowNumbers, rowStrings)
        ) {
          chunk.appendRow(rowNumbers, rowStrings)
        } else {
          const value = batches.value()
          const decoded = isDead ? decodeDeadLetter(value) : decodeQuote(value)
          if (!decoded.ok) {
            poison.push(this.o.bus.poison(owned.topic, owned.partition, offset, value, decoded))
            continue
          }
          if (isDead) deadLetters.push(decoded.value as DeadLetter)
          else if (chunk !== undefined) chunk.appendQuote(decoded.value as Quote)
          else quotes.push(decoded.value as Quote)
        }
        if (start >= 0) bytes += end - start
        offsets.push(offset)
      }
    }
    if (last < position) return
    // The poison goes to the dead-letter topic before the batch that skips it is committed.
    if (poison.length > 0 && !isDead) await this.o.bus.publishDeadLetters(poison)
    if (poison.length > 0 && isDead) {
      this.o.logger.error(
        { partition: partitionKey(owned), count: poison.length },
        'undecodable dead letters skipped',
      )
    }
    const base = { topic: owned.topic, partition: owned.partition, offsets, lastOffset: last, bytes }
    if (isDead) this.o.handlers.onDeadLetters({ ...base, items: deadLetters })
    else this.o.handlers.onQuotes({ ...base, items: chunk?.finish() ?? quotes })
    owned.position = BigInt(last) + 1n
  }
}

/** The row `readQuoteRow` fills for each record (reused; read by `QuoteChunkBuilder.appendRow`). */
const rowNumbers = new Float64Array(NUMBER_FIELDS.length)
const rowStrings: string[] = STRING_FIELDS.map(() => '')

function errorMessage(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return errorMessage(e.errors[0])
  return e instanceof Error ? e.message : String(e)
}

function hasErrorCode(e: unknown, code: number): boolean {
  const seen = new Set<unknown>()
  const visit = (x: unknown): boolean => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return false
    seen.add(x)
    const o = x as { errors?: unknown[]; response?: unknown; errorCode?: unknown; cause?: unknown }
    if (o.errorCode === code) return true
    if (JSON.stringify(o.response ?? null).includes(`"errorCode":${code}`)) return true
    return (o.errors ?? []).some(visit) || visit(o.cause)
  }
  return visit(e)
}
