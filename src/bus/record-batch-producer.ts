/**
 * The bus's own idempotent producer: records are written straight into one open record batch per
 * partition (`record-batch.ts`), and batches are sent with the Produce API over
 * @platformatic/kafka's connections (its public client calls: metadata, API versions, broker
 * connections, InitProducerId). The client's `Producer.send` built a record object, a writer and
 * a buffer list per record, and joined them again per batch: ~40% of a producer's CPU.
 *
 * Invariants:
 * - Order: a partition's records are sent in the order they were appended, in batches sent one
 *   at a time (at most one batch per partition in flight), so a later batch never overtakes an
 *   earlier one, retries included. A batch is sealed (compressed, its bytes final) when its
 *   partition has nothing in flight, or when it reaches `MAX_BATCH_RECORD_BYTES`; records
 *   appended while a batch is in flight wait in the next one (the Java client's accumulator).
 * - Sequences: a batch is stamped with the producer id, epoch and the partition's next sequence
 *   when first sent (the sequence then grows by its records, wrapping as Kafka does). acks=all.
 * - Retries: a batch whose request timed out, whose connection was lost, or that the broker
 *   answered with a retriable error (NOT_LEADER_OR_FOLLOWER: metadata refreshed first) is sent
 *   again, the SAME bytes with the SAME producer id and sequence, without limit, with a doubling
 *   pause: the broker writes it once (DUPLICATE_SEQUENCE_NUMBER means it already had it, and
 *   counts as success). Only UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER and
 *   INVALID_PRODUCER_EPOCH (the broker lost or fenced our producer state) make a new producer id:
 *   that batch is then stamped anew and sent as new records (`onRefused`, logged at error: the
 *   broker may have written it before). A batch refused by a non-retriable error (e.g. too large)
 *   is sent again unchanged after the pause, reported by `onRefused` each time.
 * - A batch's promise resolves once the broker acknowledged it; `close` rejects every batch not
 *   acknowledged yet.
 */
import {
  Producer,
  produceV10,
  produceV11,
  produceV3,
  produceV4,
  produceV5,
  produceV6,
  produceV7,
  produceV8,
  produceV9,
  protocolErrors,
  protocolErrorsCodesById,
  createAPI,
  Writer,
  type CompressionAlgorithmValue,
  type Connection,
  type ConnectionPool,
  type ProducerInfo,
} from '@platformatic/kafka'
import { agreedVersion } from './api-versions.ts'
import {
  nextSequence,
  RECORD_OVERHEAD_MAX,
  RecordBatchWriter,
  stampProducer,
  type SealedRecordBatch,
  type ValueWriter,
} from './record-batch.ts'

/**
 * Most record bytes (before compression) in a batch: a full batch is sealed even while its
 * partition is busy. Well below the broker's default 1 MiB `message.max.bytes` however the codec
 * fares, and a writer's buffer (doubling from 64 KiB) stops at 512 KiB.
 */
export const MAX_BATCH_RECORD_BYTES = 512 * 1024 - 4 * 1024
/** How long the broker may wait for the replicas' acknowledgement (acks=all). */
const PRODUCE_TIMEOUT_MS = 5_000
/** First pause before a batch is sent again; it doubles up to `RETRY_MAX_DELAY_MS`. */
const RETRY_DELAY_MS = 250
const RETRY_MAX_DELAY_MS = 5_000
type ProduceResponse = ReturnType<typeof produceV3.parseResponse>

/** Produce versions this module writes requests for (3+: record batches v2, idempotence). */
const PRODUCE_PARSERS = new Map<number, typeof produceV3.parseResponse>([
  [3, produceV3.parseResponse],
  [4, produceV4.parseResponse],
  [5, produceV5.parseResponse],
  [6, produceV6.parseResponse],
  [7, produceV7.parseResponse],
  [8, produceV8.parseResponse],
  [9, produceV9.parseResponse],
  [10, produceV10.parseResponse],
  [11, produceV11.parseResponse],
])
const PRODUCE_API_KEY = 0
const MIN_PRODUCE_VERSION = 3
const MAX_PRODUCE_VERSION = 11
/** Versions 9+ are "flexible": compact strings and arrays, tagged fields. */
const FIRST_FLEXIBLE_PRODUCE_VERSION = 9

const DUPLICATE_SEQUENCE_NUMBER = 46
/** The broker lost or fenced our producer state: a new producer id, the batch sent as new records. */
const PRODUCER_STATE_LOST = new Set([45, 47, 59])
/** Errors that say the partition's leader moved: metadata is fetched again before the retry. */
const STALE_METADATA = new Set([3, 5, 6, 74, 75])

export interface RecordBatchProducerOptions {
  brokers: string[]
  clientId: string
  compression: CompressionAlgorithmValue
  /** A send failed and will be retried as is (broker down, leader moved, timeout…). */
  onRetry(error: unknown): void
  /** The broker refused a batch for good; `asNewRecords`: it is sent again under a new producer id. */
  onRefused(error: unknown, records: number, asNewRecords: boolean): void
  /** A batch was acknowledged. */
  onAcknowledged(): void
  /** Highest Produce version to use (3–11); default the highest both sides know. */
  maxProduceVersion?: number
}

/** A batch of one partition: being written, then sealed and sent until acknowledged. */
export class PendingBatch {
  /** Settles once the broker acknowledged the batch (rejected only by `close`). */
  readonly done: Promise<void>
  /** For callers collecting the distinct batches their records went to. */
  mark = 0
  writer: RecordBatchWriter | undefined
  sealed: SealedRecordBatch | undefined
  /** The producer id it was stamped with (undefined: not sent yet, or to be stamped anew). */
  stampedBy: ProducerInfo | undefined
  readonly resolve: () => void
  readonly reject: (e: Error) => void

  constructor(writer: RecordBatchWriter) {
    this.writer = writer
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    promise.catch(() => undefined)
    this.done = promise
    this.resolve = resolve
    this.reject = reject
  }
}

/** One partition's batches: the open one, the sealed ones in order (the first may be in flight). */
export class PartitionBatches {
  readonly topic: string
  readonly partition: number
  open: PendingBatch | undefined
  readonly queue: PendingBatch[] = []
  /** The head of `queue` is being sent, or waits for its retry. */
  busy = false
  attempts = 0
  /** Next sequence under `sequenceOf`. */
  sequence = 0
  sequenceOf: ProducerInfo | undefined
  /** A writer whose batch was sealed (compressed), for the next open batch. */
  spare: RecordBatchWriter | undefined

  constructor(topic: string, partition: number) {
    this.topic = topic
    this.partition = partition
  }
}

/** A topic as the producer knows it: partition count, leaders, each partition's batches. */
export class TopicBatches {
  readonly name: string
  partitionsCount: number
  leaders: number[]
  readonly partitions: Array<PartitionBatches | undefined>

  constructor(name: string, leaders: number[]) {
    this.name = name
    this.partitionsCount = leaders.length
    this.leaders = leaders
    this.partitions = Array.from({ length: leaders.length }, () => undefined)
  }
}

export class RecordBatchProducer {
  private readonly o: RecordBatchProducerOptions
  /** Used for metadata, API versions, broker connections and InitProducerId only (never `send`). */
  private readonly client: Producer<Buffer, Buffer, Buffer, Buffer>
  private readonly topics = new Map<string, TopicBatches>()
  private readonly loading = new Map<string, Promise<TopicBatches>>()
  private producer: ProducerInfo | undefined
  private produceVersion: number | undefined
  private produceApi: ReturnType<typeof createAPI<[ProduceTopic[]], ProduceResponse>> | undefined
  private staleMetadata = false
  private pumping = false
  private pumpAgain = false
  private pumpFailures = 0
  private closed = false
  /** What was sent: batches acknowledged, sends repeated, producer ids taken. */
  readonly stats = { acknowledged: 0, records: 0, retries: 0, producerIds: 0 }

  constructor(options: RecordBatchProducerOptions) {
    this.o = options
    this.client = new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      retries: Number.MAX_SAFE_INTEGER,
      retryDelay: (_client, _operation, attempt) => retryDelay(attempt),
    })
    this.client.on('client:performWithRetry:retry', () => {
      if (!this.closed) this.o.onRetry(new Error('broker unavailable, retrying'))
    })
  }

  /**
   * `name`'s batches, once its partitions are known (synchronous once known). Callers waiting for
   * the same topic wait for one promise, so they resume, and append, in the order they called.
   */
  topic(name: string): TopicBatches | Promise<TopicBatches> {
    const known = this.topics.get(name)
    if (known !== undefined) return known
    let loading = this.loading.get(name)
    if (loading === undefined) {
      loading = this.loadTopic(name).finally(() => this.loading.delete(name))
      this.loading.set(name, loading)
    }
    return loading
  }

  private async loadTopic(name: string): Promise<TopicBatches> {
    const metadata = await this.client.metadata({ topics: [name] })
    const t = metadata.topics.get(name)
    if (t === undefined) throw new Error(`topic ${name} has no metadata`)
    const topic = new TopicBatches(
      name,
      t.partitions.map((p) => p.leader),
    )
    this.topics.set(name, topic)
    return topic
  }

  /**
   * Appends a record to `partition`'s open batch; the batch it went to (await its `done` after
   * `flush`). `value` writes the value in place.
   */
  append(
    topic: TopicBatches,
    partition: number,
    key: Uint8Array | null,
    timestamp: number,
    value: ValueWriter,
  ): PendingBatch {
    const p = (topic.partitions[partition] ??= new PartitionBatches(topic.name, partition))
    let batch = p.open
    // A batch that this record could take past the bound is sealed first (a record larger than
    // the bound goes alone), so a writer's buffer stays within one doubling of the bound.
    if (
      batch !== undefined &&
      batch.writer!.recordBytes + RECORD_OVERHEAD_MAX + (key?.length ?? 0) + value.max >
        MAX_BATCH_RECORD_BYTES
    ) {
      this.seal(p)
      batch = undefined
    }
    if (batch === undefined) {
      batch = new PendingBatch(p.spare ?? new RecordBatchWriter())
      p.spare = undefined
      p.open = batch
    }
    batch.writer!.appendWith(key, timestamp, value)
    return batch
  }

  /** Appends a record of plain bytes (dead letters). */
  appendBytes(
    topic: TopicBatches,
    partition: number,
    key: Uint8Array | null,
    value: Uint8Array,
    timestamp: number,
  ): PendingBatch {
    return this.append(topic, partition, key, timestamp, {
      max: value.length,
      write: (b, at) => {
        b.set(value, at)
        return at + value.length
      },
      bytes: () => value,
    })
  }

  /** Sends what was appended (batches of partitions with nothing in flight now, the rest after). */
  flush(): void {
    void this.pump()
  }

  /** Compresses `p`'s open batch and queues it. */
  private seal(p: PartitionBatches): void {
    const batch = p.open!
    const writer = batch.writer!
    batch.sealed = writer.seal(this.o.compression)
    batch.writer = undefined
    writer.reset()
    p.spare = writer
    p.open = undefined
    p.queue.push(batch)
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        if (this.closed) return
        await this.ready()
        if (this.closed) return
        this.dispatch()
      } while (this.pumpAgain)
      this.pumpFailures = 0
    } catch (e) {
      if (this.closed) return
      this.o.onRetry(e)
      setTimeout(() => void this.pump(), retryDelay(++this.pumpFailures)).unref()
    } finally {
      this.pumping = false
    }
  }

  /** The produce version, a producer id and fresh metadata, each fetched when missing. */
  private async ready(): Promise<void> {
    if (this.produceApi === undefined) {
      const version = agreedVersion(await this.client.listApis(), {
        apiKey: PRODUCE_API_KEY,
        name: 'Produce',
        min: MIN_PRODUCE_VERSION,
        max: Math.min(this.o.maxProduceVersion ?? MAX_PRODUCE_VERSION, MAX_PRODUCE_VERSION),
      })
      const parser = PRODUCE_PARSERS.get(version)!
      this.produceVersion = version
      this.produceApi = createAPI<[ProduceTopic[]], ProduceResponse>(
        PRODUCE_API_KEY,
        version,
        (topics: ProduceTopic[]) => produceRequest(version, topics),
        parser,
        // Request and response headers carry tagged fields only in the flexible versions.
        version >= FIRST_FLEXIBLE_PRODUCE_VERSION,
        version >= FIRST_FLEXIBLE_PRODUCE_VERSION,
      )
    }
    if (this.producer === undefined) {
      this.producer = await this.client.initIdempotentProducer({})
      this.stats.producerIds++
    }
    if (this.staleMetadata) {
      this.staleMetadata = false
      const names = [...this.topics.keys()]
      const metadata = await this.client.metadata({ topics: names, forceUpdate: true })
      for (const name of names) {
        const t = metadata.topics.get(name)
        const topic = this.topics.get(name)!
        if (t !== undefined) topic.leaders = t.partitions.map((p) => p.leader)
      }
    }
  }

  /** Sends the next batch of every partition with none in flight: one request per leader. */
  private dispatch(): void {
    const producer = this.producer!
    const byLeader = new Map<number, PartitionBatches[]>()
    for (const topic of this.topics.values()) {
      for (const p of topic.partitions) {
        if (p === undefined || p.busy) continue
        if (p.queue.length === 0) {
          if (p.open === undefined) continue
          this.seal(p)
        }
        const leader = topic.leaders[p.partition] ?? -1
        if (leader < 0) {
          this.staleMetadata = true
          this.retryLater(p, new Error(`no leader for ${p.topic}[${p.partition}]`))
          continue
        }
        const head = p.queue[0]!
        if (head.stampedBy === undefined) {
          if (p.sequenceOf !== producer) {
            p.sequenceOf = producer
            p.sequence = 0
          }
          stampProducer(head.sealed!.bytes, {
            producerId: producer.producerId,
            producerEpoch: producer.producerEpoch,
            baseSequence: p.sequence,
          })
          head.stampedBy = producer
          p.sequence = nextSequence(p.sequence, head.sealed!.records)
        }
        p.busy = true
        const list = byLeader.get(leader)
        if (list === undefined) byLeader.set(leader, [p])
        else list.push(p)
      }
    }
    for (const [leader, partitions] of byLeader) this.send(leader, partitions)
  }

  private send(leader: number, partitions: PartitionBatches[]): void {
    this.client.connectToBrokers([leader], (error, connections) => {
      const connection = connections?.get(leader)
      if (error || connection === undefined) {
        this.staleMetadata = true
        for (const p of partitions)
          this.retryLater(p, error ?? new Error(`no connection to broker ${leader}`))
        return
      }
      this.produce(connection, partitions)
    })
  }

  private produce(connection: Connection, partitions: PartitionBatches[]): void {
    const byTopic = new Map<string, ProduceTopic>()
    for (const p of partitions) {
      let t = byTopic.get(p.topic)
      if (t === undefined) {
        t = { name: p.topic, partitions: [] }
        byTopic.set(p.topic, t)
      }
      t.partitions.push({ index: p.partition, bytes: p.queue[0]!.sealed!.bytes })
    }
    this.produceApi!(connection, [...byTopic.values()], (error, response) => {
      const answer = response ?? responseOf(error)
      for (const p of partitions) this.answered(p, error, answer)
      void this.pump()
    })
  }

  /** What the broker said of `p`'s batch in flight (or the request's failure). */
  private answered(p: PartitionBatches, error: Error | null, response: ProduceResponse | undefined): void {
    if (this.closed) return
    const head = p.queue[0]!
    const code = response?.responses
      .find((t) => t.name === p.topic)
      ?.partitionResponses.find((r) => r.index === p.partition)?.errorCode
    if (code === undefined) {
      // The request failed as a whole (connection lost, timed out): the same bytes again.
      this.staleMetadata = true
      this.retryLater(p, error ?? new Error('produce answered without this partition'))
      return
    }
    if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) {
      p.queue.shift()
      p.busy = false
      p.attempts = 0
      this.stats.acknowledged++
      this.stats.records += head.sealed!.records
      head.resolve()
      this.o.onAcknowledged()
      return
    }
    const id = protocolErrorsCodesById[code] ?? `error ${code}`
    const refusal = new Error(`produce ${p.topic}[${p.partition}]: ${id}`)
    if (PRODUCER_STATE_LOST.has(code)) {
      // Our producer state is gone: a new producer id, and this batch stamped anew with it.
      if (this.producer === head.stampedBy) this.producer = undefined
      head.stampedBy = undefined
      this.o.onRefused(refusal, head.sealed!.records, true)
    } else if (protocolErrors[id]?.canRetry === true) {
      if (STALE_METADATA.has(code)) this.staleMetadata = true
      this.o.onRetry(refusal)
    } else {
      this.o.onRefused(refusal, head.sealed!.records, false)
    }
    this.retryLater(p, undefined)
  }

  /** `p`'s head batch is sent again after a pause (`error`, when given, is reported as a retry). */
  private retryLater(p: PartitionBatches, error: unknown): void {
    if (error !== undefined) this.o.onRetry(error)
    this.stats.retries++
    p.busy = true
    setTimeout(() => {
      p.busy = false
      void this.pump()
    }, retryDelay(++p.attempts)).unref()
  }

  /** Rejects every batch not acknowledged yet and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const error = new Error('the bus was closed before the broker acknowledged these records')
    for (const topic of this.topics.values()) {
      for (const p of topic.partitions) {
        if (p === undefined) continue
        for (const b of p.queue) b.reject(error)
        p.open?.reject(error)
        p.queue.length = 0
        p.open = undefined
      }
    }
    await this.client.close().catch(() => undefined)
  }

  /** The client's broker connections (their sockets), e.g. for a test that cuts them mid-request. */
  get connections(): ConnectionPool {
    return this.client.connections
  }

  /** The Produce version in use (after the first send). */
  get version(): number | undefined {
    return this.produceVersion
  }
}

/** A topic's partitions in a produce request, each with its batch's bytes. */
interface ProduceTopic {
  name: string
  partitions: Array<{ index: number; bytes: Buffer }>
}

/**
 * A Produce request (v3–v11) carrying one record batch per partition, acks=all, no transaction.
 * v3–v8 share one layout; v9+ is the same in compact form with tagged fields.
 */
export function produceRequest(version: number, topics: ProduceTopic[]): Writer {
  const compact = version >= FIRST_FLEXIBLE_PRODUCE_VERSION
  const w = Writer.create()
    .appendString(null, compact)
    .appendInt16(-1)
    .appendInt32(PRODUCE_TIMEOUT_MS)
    .appendArray(
      topics,
      (w, t) => {
        w.appendString(t.name, compact).appendArray(
          t.partitions,
          (w, p) => {
            w.appendInt32(p.index)
            if (compact) w.appendUnsignedVarInt(p.bytes.length + 1)
            else w.appendInt32(p.bytes.length)
            w.append(p.bytes)
          },
          compact,
          compact,
        )
      },
      compact,
      compact,
    )
  if (compact) w.appendTaggedFields()
  return w
}

/** The response a failed request still carried (the client throws when any partition has an error). */
function responseOf(error: Error | null): ProduceResponse | undefined {
  const response = (error as { response?: unknown } | null)?.response
  return response !== null && typeof response === 'object' && 'responses' in response
    ? (response as ProduceResponse)
    : undefined
}

const retryDelay = (attempt: number): number =>
  Math.min(RETRY_MAX_DELAY_MS, RETRY_DELAY_MS * 2 ** Math.min(Math.max(attempt, 1) - 1, 5))
