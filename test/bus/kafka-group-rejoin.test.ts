/**
 * Against a real Kafka broker: when the client reports that its background rejoin of the group
 * failed (an 'error' event, which unheard kills the process), the consumer gives up its
 * partitions, joins again, resumes where the handlers say, and nothing is lost or read twice.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { EventEmitter } from 'node:events'
import { partitionKey, type BusPartition } from '../../src/bus/bus.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import type { Quote } from '../../src/model/quote.ts'
import { quoteId, simulatedTicks, testBus, uniquePrefix, waitFor } from '../harness/kafka.ts'

test('a failed group rejoin reported by the client revokes, rejoins and resumes exactly once', async () => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 3)
  await bus.start()
  const received: Quote[] = []
  /** Next offset per partition, as a processor would read it back from the lake's txns. */
  const next = new Map<string, number>()
  const revoked: BusPartition[][] = []
  let assignments = 0
  const consumer = await bus.consume(`${prefix}-g`, {
    onQuotes: (b) => {
      received.push(...quotesOf(b.items))
      next.set(partitionKey(b), b.lastOffset + 1)
    },
    onDeadLetters: () => assert.fail('no dead letter expected'),
    onAssigned: async (parts) => {
      assignments++
      return new Map(
        parts.flatMap((p) =>
          next.has(partitionKey(p)) ? [[partitionKey(p), next.get(partitionKey(p))!]] : [],
        ),
      )
    },
    onRevoked: async (parts) => void revoked.push([...parts]),
  })
  const ticks = [...simulatedTicks(30, 40)]
  const first = ticks.slice(0, 20).flat()
  const second = ticks.slice(20).flat()
  await bus.publishQuotes(first)
  await waitFor('the first quotes read', () => received.length >= first.length, 60_000)
  assert.equal(assignments, 1)

  const owned = consumer.assignment().length
  assert.ok(owned >= 3, 'owns the quote topic partitions (and the dead-letter ones)')
  // What the client does when its rejoin fails (consumer.js: emitWithDebug(null, 'error', …)).
  const client = (consumer as unknown as { consumer: EventEmitter }).consumer
  client.emit('error', new Error('Rebalance in progress (injected)'))

  await bus.publishQuotes(second)
  await waitFor('every quote read', () => received.length >= first.length + second.length, 60_000)
  await waitFor('assigned again after the rejoin', () => assignments >= 2, 60_000)
  await consumer.close()
  await bus.close()
  assert.equal(revoked[0]?.length, owned, 'every partition given up at the rejoin')
  assert.deepEqual(
    received.map(quoteId).sort(),
    [...first, ...second].map(quoteId).sort(),
    'each quote read exactly once',
  )
})
