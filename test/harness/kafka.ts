/**
 * What Kafka tests share: the broker of the run (started by test/global-setup.ts), unique names
 * per test (the broker is shared), a pipeline of one KafkaBus + processor into a warehouse, and
 * reading a table's keys back to compare sets.
 */
import { randomUUID } from 'node:crypto'
import { Consumer } from '@platformatic/kafka'
import { pino } from 'pino'
import { KafkaBus } from '../../src/bus/kafka-bus.ts'
import type { DeltaTable } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import type { Quote } from '../../src/model/quote.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'

export function kafkaBootstrap(): string {
  const b = process.env['TEST_KAFKA_BOOTSTRAP']
  if (!b) {
    throw new Error(
      'no test broker: run through `npm test`, or node --test --test-global-setup=test/global-setup.ts <file>',
    )
  }
  return b
}

export const uniquePrefix = (): string => `t-${randomUUID().slice(0, 8)}`

export const silentLogger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' })

export function testBus(prefix: string, partitions = 6, fetchMaxBytesPerPartition?: number): KafkaBus {
  return new KafkaBus({
    brokers: [kafkaBootstrap()],
    topicPrefix: prefix,
    partitions,
    replication: 1,
    logger: silentLogger,
    ...(fetchMaxBytesPerPartition !== undefined && { fetchMaxBytesPerPartition }),
  })
}

export const quoteId = (q: Pick<Quote, 'source' | 'crypto' | 'ts'>): string =>
  `${q.source}:${q.crypto}:${q.ts}`

/** `ticks × assets` distinct simulated quotes, in ticks. */
export function* simulatedTicks(assets: number, ticks: number, seed = 7): Generator<Quote[]> {
  const start = Date.UTC(2024, 0, 1) * 1000
  const sim = new MarketSimulator({ assets, seed, startTs: start })
  for (let i = 0; i < ticks; i++) yield sim.tick(start + i * 1_000_000)
}

/** Every row's quote id, with the count of each (a duplicate shows as 2). */
export async function tableKeys(table: DeltaTable): Promise<Map<string, number>> {
  const snap = await table.snapshot()
  const rows = await readRows(table.store, snap)
  const out = new Map<string, number>()
  for (const r of rows) {
    const id = quoteId(r as unknown as Quote)
    out.set(id, (out.get(id) ?? 0) + 1)
  }
  return out
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Every quote in the `<prefix>.quotes` topic, from the earliest offset to the end, with the
 * partition and offset of each copy: a quote at two offsets was written twice by the producer
 * side; one offset committed twice would be the processor's doing.
 */
export async function topicQuoteOffsets(prefix: string): Promise<Map<string, string[]>> {
  const bus = testBus(prefix, 6)
  const out = new Map<string, string[]>()
  const ends = new Map<number, number>()
  const reached = new Map<number, number>()
  const reader = new Consumer({
    clientId: `${prefix}-topic-reader`,
    groupId: `${prefix}-topic-reader`,
    bootstrapBrokers: [kafkaBootstrap()],
  })
  try {
    const offsets = await reader.listOffsets({ topics: [bus.quotesTopic] })
    for (const [p, end] of (offsets.get(bus.quotesTopic) ?? []).entries()) ends.set(p, Number(end))
  } finally {
    await reader.close(true)
  }
  const done = Promise.withResolvers<void>()
  const check = (): void => {
    if ([...ends].every(([p, end]) => (reached.get(p) ?? -1) >= end - 1)) done.resolve()
  }
  const consumer = await bus.consume(`${prefix}-topic-reader-${randomUUID().slice(0, 8)}`, {
    onQuotes: (b) => {
      quotesOf(b.items).forEach((q, i) => {
        const id = quoteId(q)
        const at = `${b.partition}@${b.offsets[i]}`
        const list = out.get(id)
        if (list) list.push(at)
        else out.set(id, [at])
      })
      reached.set(b.partition, Math.max(reached.get(b.partition) ?? -1, b.lastOffset))
      check()
    },
    onDeadLetters: () => undefined,
    onAssigned: async () => new Map(),
    onRevoked: async () => undefined,
  })
  check()
  await done.promise
  await consumer.close()
  await bus.close()
  return out
}

/** A record as the client's consumer reads it back. */
export interface TopicRecord {
  partition: number
  offset: bigint
  /** The key as UTF-8 text ('' when it has none). */
  key: string
  value: Buffer
}

/**
 * Every record of `topic` up to its partitions' end offsets at the call, read back once by the
 * client's own consumer (a consumer stream may deliver a record again after a rebalance, so
 * records are kept by partition and offset), in partition then offset order.
 */
export async function readTopic(topic: string): Promise<TopicRecord[]> {
  const consumer = new Consumer({
    clientId: `${topic}-reader`,
    groupId: `${topic}-reader`,
    bootstrapBrokers: [kafkaBootstrap()],
  })
  const seen = new Map<string, TopicRecord>()
  try {
    const ends = await consumer.listOffsets({ topics: [topic] })
    const count = (ends.get(topic) ?? []).reduce((n, end) => n + Number(end), 0)
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false })
    for await (const m of stream) {
      seen.set(`${m.partition}@${m.offset}`, {
        partition: m.partition,
        offset: m.offset,
        key: m.key ? (m.key as Buffer).toString('utf8') : '',
        value: m.value as Buffer,
      })
      if (seen.size >= count) break
    }
    await stream.close()
  } finally {
    await consumer.close(true)
  }
  return [...seen.values()].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
}
