/**
 * Our own produce path against a real broker: what it writes is read back, exactly and in order,
 * by the client's consumer and by the bus's group consumer (the processor's reader); and batches
 * re-sent after their connection was cut mid-request are written once (same bytes, same
 * sequence: the broker drops the copy), in order, with no new producer id.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import type { Quote } from '../../src/model/quote.ts'
import { QuoteKeys } from '../../src/bus/kafka-bus.ts'
import { encodeQuote } from '../../src/bus/quote-message.ts'
import { RecordBatchProducer, type PendingBatch } from '../../src/bus/record-batch-producer.ts'
import {
  kafkaBootstrap,
  readTopic,
  simulatedTicks,
  testBus,
  uniquePrefix,
  waitFor,
} from '../harness/kafka.ts'

/** The values of `rs` by partition, in offset order. */
function byPartition(rs: readonly { partition: number; value: string }[]): Map<number, string[]> {
  const out = new Map<number, string[]>()
  for (const r of rs) out.set(r.partition, [...(out.get(r.partition) ?? []), r.value])
  return out
}

test('quotes published with many calls in flight come back exactly, in publish order per partition, through the client’s consumer and the bus’s group consumer', async () => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 6)
  await bus.start()
  const keys = new QuoteKeys()
  const quotes: Quote[] = [...simulatedTicks(50, 40)].flat()
  try {
    // 40 calls of 50 quotes at once: appended in call order, sent as batches one at a time per
    // partition while later calls keep appending.
    const ticks: Quote[][] = []
    for (let i = 0; i < quotes.length; i += 50) ticks.push(quotes.slice(i, i + 50))
    await Promise.all(ticks.map((t) => bus.publishQuotes(t)))

    const expected = byPartition(
      quotes.map((q) => ({
        partition: keys.of(q.source, q.crypto).partition % 6,
        value: encodeQuote(q).toString('latin1'),
      })),
    )
    const read = await readTopic(bus.quotesTopic)
    assert.equal(read.length, quotes.length)
    for (const r of read)
      assert.equal(
        r.key,
        r.value
          .toString()
          .match(/"source":"([^"]+)","crypto":"([^"]+)"/)!
          .slice(1)
          .join(':'),
      )
    assert.deepEqual(
      byPartition(read.map((r) => ({ partition: r.partition, value: r.value.toString('latin1') }))),
      expected,
    )

    // The processor's reader (fast path from the record bytes into chunks) sees the same.
    const delivered: { partition: number; value: string }[] = []
    const consumer = await bus.consume(`${prefix}-group`, {
      onQuotes: (b) => {
        for (const q of quotesOf(b.items))
          delivered.push({ partition: b.partition, value: encodeQuote(q).toString('latin1') })
      },
      onDeadLetters: () => undefined,
      onAssigned: async () => new Map(),
      onRevoked: async () => undefined,
    })
    await waitFor('every quote delivered', () => delivered.length >= quotes.length, 60_000)
    await consumer.close()
    assert.equal(delivered.length, quotes.length)
    assert.deepEqual(byPartition(delivered), expected)
  } finally {
    await bus.close()
  }
})

test('batches re-sent after their connection was cut mid-request are written once, in order, under the same producer id', async () => {
  const topicName = `${uniquePrefix()}.cut`
  const admin = new Admin({ clientId: `${topicName}-admin`, bootstrapBrokers: [kafkaBootstrap()] })
  await admin.createTopics({ topics: [topicName], partitions: 6, replicas: 1 })
  await admin.close()
  const refused: unknown[] = []
  const producer = new RecordBatchProducer({
    brokers: [kafkaBootstrap()],
    clientId: `${topicName}-producer`,
    compression: 'lz4',
    onRetry: () => undefined,
    onRefused: (e) => refused.push(e),
    onAcknowledged: () => undefined,
  })
  const sent: { partition: number; value: string }[] = []
  try {
    const topic = await producer.topic(topicName)
    const rounds = 20
    for (let round = 0; round < rounds; round++) {
      const batches = new Set<PendingBatch>()
      for (let i = 0; i < 600; i++) {
        const partition = i % 6
        const value = `${round}:${i}:${'x'.repeat(i % 90)}`
        batches.add(
          producer.appendBytes(topic, partition, Buffer.from(`k${i % 30}`), Buffer.from(value), Date.now()),
        )
        sent.push({ partition, value })
      }
      producer.flush()
      // Let the requests leave, then hold this thread while the broker writes the batches and
      // answers (the answers wait unread in the sockets), and cut the connections: the batches
      // are written but their acknowledgements are lost, so the producer sends them again.
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150)
      for (const [, connection] of producer.connections) connection.socket?.destroy()
      await Promise.all([...batches].map((b) => b.done))
    }
    assert.ok(producer.stats.retries >= rounds, `batches were sent again (${producer.stats.retries} retries)`)
    const read = await readTopic(topicName)
    assert.equal(read.length, sent.length, 'each record written once')
    assert.equal(
      producer.stats.producerIds,
      1,
      'no new producer id: every retry was the same bytes and sequence',
    )
    assert.deepEqual(refused, [])
    assert.deepEqual(
      byPartition(read.map((r) => ({ partition: r.partition, value: r.value.toString() }))),
      byPartition(sent),
    )
  } finally {
    await producer.close()
  }
})

test('a batch refused for a lost producer state (out-of-order sequence) is sent again as new records under a new producer id, reported as such', async () => {
  const topicName = `${uniquePrefix()}.state`
  const admin = new Admin({ clientId: `${topicName}-admin`, bootstrapBrokers: [kafkaBootstrap()] })
  await admin.createTopics({ topics: [topicName], partitions: 1, replicas: 1 })
  await admin.close()
  const refused: Array<{ error: unknown; records: number; asNewRecords: boolean }> = []
  const producer = new RecordBatchProducer({
    brokers: [kafkaBootstrap()],
    clientId: `${topicName}-producer`,
    compression: 'zstd',
    onRetry: () => undefined,
    onRefused: (error, records, asNewRecords) => refused.push({ error, records, asNewRecords }),
    onAcknowledged: () => undefined,
  })
  try {
    const topic = await producer.topic(topicName)
    const send = async (values: string[]): Promise<void> => {
      const batches = new Set<PendingBatch>()
      for (const v of values) batches.add(producer.appendBytes(topic, 0, null, Buffer.from(v), Date.now()))
      producer.flush()
      await Promise.all([...batches].map((b) => b.done))
    }
    await send(['a', 'b', 'c'])
    // The broker expects sequence 3 next; a gap makes it refuse the next batch as out of order.
    topic.partitions[0]!.sequence = 10
    await send(['d', 'e'])
    await send(['f'])
    assert.equal(refused.length, 1)
    assert.equal(refused[0]!.asNewRecords, true)
    assert.equal(refused[0]!.records, 2)
    assert.match(String(refused[0]!.error), /OUT_OF_ORDER_SEQUENCE_NUMBER/)
    assert.equal(producer.stats.producerIds, 2)
    const read = await readTopic(topicName)
    assert.deepEqual(
      read.map((r) => r.value.toString()),
      ['a', 'b', 'c', 'd', 'e', 'f'],
    )
  } finally {
    await producer.close()
  }
})

for (const version of [3, 7, 8, 9, 11]) {
  test(`Produce v${version} requests carry our batches to the broker (brokers offering fewer versions, e.g. Redpanda)`, async () => {
    const topicName = `${uniquePrefix()}.v${version}`
    const admin = new Admin({ clientId: `${topicName}-admin`, bootstrapBrokers: [kafkaBootstrap()] })
    await admin.createTopics({ topics: [topicName], partitions: 2, replicas: 1 })
    await admin.close()
    const producer = new RecordBatchProducer({
      brokers: [kafkaBootstrap()],
      clientId: `${topicName}-producer`,
      compression: 'lz4',
      onRetry: () => undefined,
      onRefused: (e) => assert.fail(String(e)),
      onAcknowledged: () => undefined,
      maxProduceVersion: version,
    })
    try {
      const topic = await producer.topic(topicName)
      const batches = new Set<PendingBatch>()
      const sent: { partition: number; value: string }[] = []
      for (let i = 0; i < 100; i++) {
        const value = `v${version}-${i}`
        batches.add(producer.appendBytes(topic, i % 2, Buffer.from(`k${i}`), Buffer.from(value), Date.now()))
        sent.push({ partition: i % 2, value })
      }
      producer.flush()
      await Promise.all([...batches].map((b) => b.done))
      assert.equal(producer.version, version)
      const read = await readTopic(topicName)
      assert.deepEqual(
        byPartition(read.map((r) => ({ partition: r.partition, value: r.value.toString() }))),
        byPartition(sent),
      )
    } finally {
      await producer.close()
    }
  })
}
