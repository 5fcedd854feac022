/**
 * The processor role: a consumer-group member that commits its partitions into the warehouse
 * (`cryptoviz process`, and the processor inside `cryptoviz start`).
 *
 * Identity: on Kafka the writer id is the consumer group (txn appIds `<group>:<topic>:<partition>`,
 * shared by the group's members, each partition owned by one at a time). On the in-process bus it
 * is `--writer-id`, or a fresh id per process, so two embedded writers on one warehouse never
 * mistake each other's commits for their own; two that are given the same id fence each other.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { BusConsumer } from '../bus/bus.ts'
import type { Config } from '../config/config.ts'
import type { CryptoVizError } from '../errors.ts'
import { WorkerEncoder } from '../lake/index.ts'
import { MicroBatchProcessor } from '../stream/processor.ts'
import { QuoteSpool } from '../stream/spool.ts'
import type { OpenedBus } from './bus.ts'
import { spoolRoot } from './store.ts'
import type { Warehouse } from './warehouse.ts'

export interface Processing {
  processor: MicroBatchProcessor
  consumer: BusConsumer
  writerId: string
  /** Commits what is buffered, then leaves the group. */
  stop(): Promise<void>
  /** Per-partition lag and processor counters, for /stats. */
  stats(): Promise<Record<string, unknown>>
}

export function writerIdFor(config: Readonly<Config>): string {
  if (config.bus.broker !== undefined) return config.bus.group
  return (
    config.processor.writerId ??
    `embedded-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${randomUUID().slice(0, 8)}`
  )
}

export async function startProcessing(
  config: Readonly<Config>,
  opened: OpenedBus,
  warehouse: Warehouse,
  logger: Logger,
  hooks: {
    onBatchCommitted?: (b: { ms: number; rows: number }) => void
    onFenced?: (e: CryptoVizError) => void
  } = {},
): Promise<Processing> {
  const writerId = writerIdFor(config)
  const replayable = opened.bus.kind === 'kafka'
  // On Kafka, quote batches are encoded on a worker thread so the main thread keeps draining the
  // broker meanwhile (the processor's rate is its main thread's). The in-process bus runs at the
  // collectors' pace, inside `start`, whose memory bound a second isolate would only eat into.
  const encoder = replayable ? new WorkerEncoder() : undefined
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    writerId,
    topics: opened.topics,
    replayable,
    flushIntervalMs: config.processor.flushIntervalMs,
    flushMaxRows: config.processor.flushMaxRows,
    flushMaxBytes: config.processor.flushMaxBytes,
    flushIdleMs: config.processor.flushIdleMs,
    maxBufferRows: config.processor.maxBufferRows,
    maxBufferBytes: config.processor.maxBufferBytes,
    compression: config.lake.compression,
    ...(encoder && { encoder }),
    logger: logger.child({ component: 'processor', writer: writerId }),
    // During a store outage Kafka keeps the data (the partitions pause); the in-process bus
    // cannot, so what its collectors already fetched waits on disk past the buffer bound.
    ...(!replayable && { spool: new QuoteSpool(spoolRoot(config), { warehouse: warehouse.store.url }) }),
    ...(hooks.onBatchCommitted && { onBatchCommitted: hooks.onBatchCommitted }),
    ...(hooks.onFenced && { onFenced: hooks.onFenced }),
  })
  await processor.start()
  const consumer = await opened.bus.consume(writerId, processor)
  processor.attach(consumer)
  let stopping: Promise<void> | undefined
  return {
    processor,
    consumer,
    writerId,
    stop: () =>
      (stopping ??= (async () => {
        await processor.stop()
        await consumer.close()
        await encoder?.close()
      })()),
    stats: async () => {
      const lag = await consumer.lag().catch(() => [])
      return { ...processor.stats(), writer_id: writerId, consumer_lag: lag }
    },
  }
}
