/**
 * The consumer's fetch-ahead (the next fetch is in flight while a response is handed over),
 * against a real broker: data fetched for a partition that was paused meanwhile is never handed
 * over, and what each partition delivers is contiguous (no offset skipped or given twice), across
 * pauses and resumes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RecordsBatch } from '@platformatic/kafka'
import { predictedPositions } from '../../src/bus/kafka-bus.ts'
import type { BusConsumer, QuoteBatch } from '../../src/bus/bus.ts'
import { quoteId, simulatedTicks, testBus, uniquePrefix, waitFor } from '../harness/kafka.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('predicted positions: past the last record of each partition, the log start after out-of-range, else unchanged', () => {
  const batch = (firstOffset: bigint, lastOffsetDelta: number) =>
    ({ firstOffset, lastOffsetDelta }) as unknown as RecordsBatch
  const partition = (key: string, from: bigint, errorCode: number, records: ReturnType<typeof batch>[]) => ({
    key,
    from,
    response: { errorCode, highWatermark: 100n, logStartOffset: 7n, records },
  })
  const next = predictedPositions([
    {
      partitions: [
        partition('t:0', 10n, 0, [batch(8n, 4), batch(13n, 2)]),
        partition('t:1', 10n, 0, []),
        partition('t:2', 3n, 1, []),
        // A batch wholly before the fetch offset (the broker returns whole batches) moves nothing.
        partition('t:3', 10n, 0, [batch(0n, 9)]),
      ],
    },
  ])
  assert.deepEqual(
    [...next],
    [
      ['t:0', 16n],
      ['t:2', 7n],
    ],
  )
})

test('a partition paused while the next fetch is in flight gets nothing more until resumed, then continues where it was', async (t) => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 3, 4_096)
  t.after(() => bus.close())
  await bus.start()
  const produced = new Set<string>()
  for (const tick of simulatedTicks(60, 400)) {
    for (const q of tick) produced.add(quoteId(q))
    await bus.publishQuotes(tick)
  }
  const delivered = new Map<number, QuoteBatch[]>()
  const handle: { consumer?: BusConsumer } = {}
  let pausedAt: number | undefined
  let afterPause = 0
  const paused = { topic: bus.quotesTopic, partition: 0 }
  const consumer = await bus.consume(`${prefix}-g`, {
    onQuotes: (b) => {
      const list = delivered.get(b.partition) ?? []
      list.push(b)
      delivered.set(b.partition, list)
      if (b.partition !== 0) return
      if (pausedAt !== undefined) afterPause++
      // Paused from inside the hand-over: the next fetch, with this partition in it, is already out.
      else if (handle.consumer) {
        handle.consumer.pause([paused])
        pausedAt = Date.now()
      }
    },
    onDeadLetters: () => undefined,
    onAssigned: async () => new Map(),
    onRevoked: async () => undefined,
  })
  handle.consumer = consumer
  const count = (p: number): number => (delivered.get(p) ?? []).reduce((n, b) => n + b.items.length, 0)
  await waitFor('the other partitions drained', async () => {
    const lag = await consumer.lag()
    return lag.filter((l) => l.topic === bus.quotesTopic && l.partition !== 0).every((l) => l.lag === 0)
  })
  await waitFor('partition 0 paused', () => pausedAt !== undefined)
  await sleep(1_000)
  assert.equal(afterPause, 0, 'nothing handed over for the paused partition')
  const heldBack = count(0)
  consumer.resume([paused])
  await waitFor('every quote delivered', () => count(0) + count(1) + count(2) >= produced.size)
  assert.ok(count(0) > heldBack, 'the partition continued after resume')
  const seen = new Set<string>()
  for (const [partition, batches] of delivered) {
    let next = batches[0]!.offsets[0]!
    assert.equal(next, 0, `partition ${partition} starts at its first offset`)
    for (const b of batches) {
      assert.equal(b.offsets[0], next, `partition ${partition} contiguous at ${next}`)
      next = b.lastOffset + 1
      for (const q of b.items) {
        assert.ok(!seen.has(quoteId(q)), `${quoteId(q)} once`)
        seen.add(quoteId(q))
      }
    }
  }
  assert.equal(seen.size, produced.size)
  await consumer.close()
})
