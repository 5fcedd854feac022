/**
 * Against a real broker: a processor's raw fetch reads committed transactions only. Records of an
 * aborted transaction are never handed over, the transaction markers are moved past, and plain
 * (non-transactional) records around them arrive, in order, once each.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Producer } from '@platformatic/kafka'
import type { QuoteBatch } from '../../src/bus/bus.ts'
import { encodeQuote, quoteKey } from '../../src/bus/quote-message.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import type { Quote } from '../../src/model/quote.ts'
import { kafkaBootstrap, quoteId, simulatedTicks, testBus, uniquePrefix, waitFor } from '../harness/kafka.ts'

test('records of an aborted transaction are skipped, committed ones and plain ones read once each, in order', async (t) => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 1)
  t.after(() => bus.close())
  await bus.start()
  const producer = new Producer({
    clientId: `${prefix}-tx`,
    bootstrapBrokers: [kafkaBootstrap()],
    transactionalId: `${prefix}-tx`,
    idempotent: true,
    compression: 'lz4',
  })
  t.after(() => producer.close())
  const ticks = [...simulatedTicks(20, 4)]
  const [aborted, committed, plainBefore, plainAfter] = ticks as [Quote[], Quote[], Quote[], Quote[]]
  const inTransaction = async (quotes: Quote[], outcome: 'commit' | 'abort'): Promise<void> => {
    const tx = await producer.beginTransaction()
    await tx.send({
      messages: quotes.map((q) => ({
        topic: bus.quotesTopic,
        key: Buffer.from(quoteKey(q)),
        value: encodeQuote(q),
        partition: 0,
      })),
    })
    await (outcome === 'commit' ? tx.commit() : tx.abort())
  }
  await bus.publishQuotes(plainBefore)
  await inTransaction(aborted, 'abort')
  await inTransaction(committed, 'commit')
  await bus.publishQuotes(plainAfter)

  const batches: QuoteBatch[] = []
  const consumer = await bus.consume(`${prefix}-g`, {
    onQuotes: (b) => void batches.push(b),
    onDeadLetters: () => undefined,
    onAssigned: async () => new Map(),
    onRevoked: async () => undefined,
  })
  const expected = [...plainBefore, ...committed, ...plainAfter].map(quoteId)
  const received = (): string[] => batches.flatMap((b) => quotesOf(b.items).map(quoteId))
  await waitFor('every committed quote read', () => received().length >= expected.length)
  // And the partition's position moves past the last record (the plain ones after the markers).
  await waitFor('position at the end of the partition', async () => {
    const lag = await consumer.lag()
    return lag.some((l) => l.topic === bus.quotesTopic && l.lag === 0 && l.position > expected.length)
  })
  assert.deepEqual(received(), expected)
  const offsets = batches.flatMap((b) => [...b.offsets])
  assert.deepEqual(
    offsets,
    [...offsets].sort((a, b) => a - b),
    'offsets ascend',
  )
  assert.equal(new Set(offsets).size, offsets.length, 'each offset once')
  const abortedIds = new Set(aborted.map(quoteId))
  assert.ok(!received().some((id) => abortedIds.has(id)), 'no quote of the aborted transaction')
})
