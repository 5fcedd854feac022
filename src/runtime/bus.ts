/**
 * The bus a runtime uses: Kafka / Redpanda when `--broker` is set, else the in-process bus.
 *
 * The Kafka client is imported only when a broker is configured: loading it costs ~50 MB of
 * resident memory and most of a second, which a process on the in-process bus never needs.
 */
import type { Logger } from 'pino'
import type { QuoteBus } from '../bus/bus.ts'
import { MEMORY_DEAD_LETTERS_TOPIC, MEMORY_QUOTES_TOPIC, MemoryBus } from '../bus/memory-bus.ts'
import type { Config } from '../config/config.ts'

export interface OpenedBus {
  bus: QuoteBus
  topics: { quotes: string; deadLetters: string }
}

export async function openBus(config: Readonly<Config>, logger: Logger): Promise<OpenedBus> {
  if (config.bus.broker === undefined) {
    const bus = new MemoryBus({ onSubscriberError: (err) => logger.error({ err }, 'bus subscriber failed') })
    return { bus, topics: { quotes: MEMORY_QUOTES_TOPIC, deadLetters: MEMORY_DEAD_LETTERS_TOPIC } }
  }
  const { KafkaBus } = await import('../bus/kafka-bus.ts')
  const bus = new KafkaBus({
    brokers: config.bus.broker.split(','),
    topicPrefix: config.bus.topicPrefix,
    partitions: config.bus.partitions,
    replication: config.bus.replication,
    compression: config.bus.compression,
    logger: logger.child({ component: 'kafka' }),
    fetchMaxBytesPerPartition: fetchSizeFor(config),
    fetchMinBytes: config.bus.fetchMinBytes,
    fetchMaxWaitMs: fetchWaitFor(config),
  })
  await bus.start()
  return { bus, topics: { quotes: bus.quotesTopic, deadLetters: bus.deadLettersTopic } }
}

/**
 * Bytes fetched per partition per request. One fetch can land after the buffer bound was crossed
 * (all partitions at once, and batches arrive compressed, ~4× smaller than decoded), so the fetch
 * size follows the bound: a processor never overshoots it by more than about a quarter.
 */
function fetchSizeFor(config: Readonly<Config>): number {
  const perPartition = config.processor.maxBufferBytes / (4 * 4 * config.bus.partitions)
  return Math.round(Math.min(1_048_576, Math.max(65_536, perPartition)))
}

/**
 * How long a processor's fetch may wait for `bus.fetchMinBytes`: `bus.fetchMaxWaitMs`, but never
 * more than half of `processor.flushIdleMs`, so quotes trickling in never look like idle input
 * between two fetches (which would commit every fetch's few quotes on their own).
 */
export function fetchWaitFor(config: Readonly<Config>): number {
  return Math.max(1, Math.min(config.bus.fetchMaxWaitMs, Math.floor(config.processor.flushIdleMs / 2)))
}
