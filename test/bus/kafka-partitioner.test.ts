/**
 * The producer's message keys: each asset's key bytes and partition are built once (`QuoteKeys`)
 * and must be exactly what the client would make of the `source:crypto` string key, so that an
 * asset keeps its partition (and its order) whichever producer wrote it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admin, defaultPartitioner, Producer, stringSerializers } from '@platformatic/kafka'
import { QuoteKeys } from '../../src/bus/kafka-bus.ts'
import { encodeQuote, quoteKey } from '../../src/bus/quote-message.ts'
import type { Quote } from '../../src/model/quote.ts'
import { kafkaBootstrap, readTopic, simulatedTicks, testBus, uniquePrefix } from '../harness/kafka.ts'

test('remembered keys are the key string’s bytes and the default partitioner’s hash, first time, again and after starting over', () => {
  const keys = new QuoteKeys(1_000)
  const assets = Array.from({ length: 3_000 }, (_, i) => ({
    source: `source-${i % 7}`,
    crypto: `asset-${i}`,
  }))
  for (const round of [1, 2]) {
    for (const a of assets) {
      const bytes = Buffer.from(quoteKey(a))
      const key = keys.of(a.source, a.crypto)
      assert.deepEqual(key.bytes, bytes, `${quoteKey(a)}, round ${round}`)
      assert.equal(key.partition, defaultPartitioner({ topic: 't', key: bytes, value: bytes }, bytes))
    }
  }
  const again = keys.of('source-1', 'asset-2999')
  assert.equal(keys.of('source-1', 'asset-2999'), again, 'a remembered key is the same object')
})

test('against a real broker, the bus puts each asset in the partition the client’s default gives its string key, with the same key and value bytes', async () => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 6)
  await bus.start()
  const quotes: Quote[] = [...simulatedTicks(60, 5)].flat()
  const reference = `${prefix}-reference`
  const producer = new Producer({
    clientId: `${prefix}-reference`,
    bootstrapBrokers: [kafkaBootstrap()],
    serializers: { ...stringSerializers, value: (v: Buffer | undefined) => v },
  })
  try {
    await bus.publishQuotes(quotes)
    // The same quotes with the plain string key, partitioned by the client itself, into a topic
    // of the same partition count.
    const admin = new Admin({ clientId: `${prefix}-admin`, bootstrapBrokers: [kafkaBootstrap()] })
    await admin.createTopics({ topics: [reference], partitions: 6, replicas: 1 })
    await admin.close()
    await producer.send({
      messages: quotes.map((q) => ({ topic: reference, key: quoteKey(q), value: encodeQuote(q) })),
    })

    const ours = await readTopic(bus.quotesTopic)
    const theirs = await readTopic(reference)
    assert.equal(ours.length, quotes.length, 'the idempotent bus wrote each quote once')
    const partitionOf = (rs: typeof ours): Map<string, number> => {
      const m = new Map<string, number>()
      for (const r of rs) {
        assert.equal(m.get(r.key) ?? r.partition, r.partition, `${r.key} in one partition`)
        m.set(r.key, r.partition)
      }
      return m
    }
    const expected = partitionOf(theirs)
    assert.equal(expected.size, 60)
    assert.ok(new Set(expected.values()).size > 1, 'the keys spread over several partitions')
    assert.deepEqual(partitionOf(ours), expected)
    // The plain reference producer is not idempotent: a retry may have written a record twice.
    const values = (rs: typeof ours): string[] =>
      [...new Set(rs.map((r) => r.value.toString('latin1')))].sort()
    assert.deepEqual(values(ours), values(theirs))
    assert.deepEqual(values(ours), quotes.map((q) => encodeQuote(q).toString('latin1')).sort())
  } finally {
    await producer.close()
    await bus.close()
  }
})
