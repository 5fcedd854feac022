/**
 * The consumer's fetch-ahead (the next fetch is in flight while a response is handed over),
 * against a real broker: data fetched for a partition that was paused meanwhile is never handed
 * over, and what each partition delivers is contiguous (no offset skipped or given twice), across
 * pauses and resumes.
 */
import assert from 'node:assert/strict'
import type { EventEmitter } from 'node:events'
import { test } from 'node:test'
import { predictedPositions } from '../../src/bus/kafka-bus.ts'
import type { BusConsumer, QuoteBatch } from '../../src/bus/bus.ts'
import {
  BATCH_BASE_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LENGTH,
  BATCH_LOG_OVERHEAD,
  BATCH_MAGIC,
  CURRENT_MAGIC,
} from '../../src/bus/record-batch-layout.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import { quoteId, simulatedTicks, testBus, uniquePrefix, waitFor } from '../harness/kafka.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('predicted positions: past the last record of each partition, the log start after out-of-range, nothing for a partition that moved', () => {
  // A batch's header alone (no record): what the prediction reads of a fetched record set.
  const batch = (firstOffset: bigint, lastOffsetDelta: number): Buffer => {
    const b = Buffer.alloc(BATCH_HEADER_SIZE)
    b.writeBigInt64BE(firstOffset, BATCH_BASE_OFFSET)
    b.writeInt32BE(BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD, BATCH_LENGTH)
    b[BATCH_MAGIC] = CURRENT_MAGIC
    b.writeInt32BE(lastOffsetDelta, BATCH_LAST_OFFSET_DELTA)
    return b
  }
  const partition = (key: string, from: bigint, errorCode: number, batches: Buffer[]) => ({
    key,
    from,
    response: { errorCode, highWatermark: 100n, logStartOffset: 7n, records: Buffer.concat(batches) },
  })
  const fetched = [
    {
      partitions: [
        partition('t:0', 10n, 0, [batch(8n, 4), batch(13n, 2)]),
        partition('t:1', 10n, 0, []),
        partition('t:2', 3n, 1, []),
        // A batch wholly before the fetch offset (the broker returns whole batches) moves nothing.
        partition('t:3', 10n, 0, [batch(0n, 9)]),
        // Moved since the fetch (a new assignment elsewhere): its data will be dropped, no guess.
        partition('t:4', 10n, 0, [batch(10n, 5)]),
      ],
    },
  ]
  const positions = new Map([
    ['t:0', 10n],
    ['t:1', 10n],
    ['t:2', 3n],
    ['t:3', 10n],
    ['t:4', 2n],
  ])
  const next = predictedPositions(fetched, (key) => positions.get(key))
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
  const count = (p: number): number => (delivered.get(p) ?? []).reduce((n, b) => n + b.offsets.length, 0)
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
      for (const q of quotesOf(b.items)) {
        assert.ok(!seen.has(quoteId(q)), `${quoteId(q)} once`)
        seen.add(quoteId(q))
      }
    }
  }
  assert.equal(seen.size, produced.size)
  await consumer.close()
})

test('partitions given an earlier start while a fetch is in flight are read again from that start, contiguously', async (t) => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 3, 4_096)
  t.after(() => bus.close())
  await bus.start()
  const batches: QuoteBatch[] = []
  let assignments = 0
  let rejoinedAt = Number.POSITIVE_INFINITY
  const consumer = await bus.consume(`${prefix}-g`, {
    onQuotes: (b) => void batches.push(b),
    onDeadLetters: () => undefined,
    // Every assignment starts each partition at its earliest offset (as if nothing was committed).
    onAssigned: async () => {
      assignments++
      if (assignments === 2) rejoinedAt = batches.length
      return new Map()
    },
    onRevoked: async () => undefined,
  })
  // Quotes keep coming, so the fetch in flight at the rejoin carries records past the new start.
  let producing = true
  const producer = (async () => {
    for (const tick of simulatedTicks(30, 100_000)) {
      if (!producing) return
      await bus.publishQuotes(tick)
      await sleep(2)
    }
  })()
  t.after(() => (producing = false))
  const read = (): number => batches.reduce((n, b) => n + b.offsets.length, 0)
  await waitFor('some quotes read', () => read() >= 3_000, 60_000)
  // The client's report of a failed rejoin: every partition is given up, then assigned again.
  const client = (consumer as unknown as { consumer: EventEmitter }).consumer
  client.emit('error', new Error('Rebalance in progress (injected)'))
  await waitFor('assigned again', () => assignments >= 2, 60_000)
  const restarted = (): Set<number> =>
    new Set(
      batches
        .slice(rejoinedAt)
        .filter((b) => b.offsets[0] === 0)
        .map((b) => b.partition),
    )
  await waitFor('every partition read again from offset 0', () => restarted().size === 3, 30_000)
  producing = false
  await producer
  await consumer.close()
  const next = new Map<number, number>()
  for (const b of batches.slice(rejoinedAt)) {
    if (!next.has(b.partition) && b.offsets[0] !== 0) continue // the first pass's tail, dropped at the rejoin
    const expected = next.get(b.partition) ?? 0
    assert.equal(b.offsets[0], expected, `partition ${b.partition} contiguous from the new start`)
    next.set(b.partition, b.lastOffset + 1)
  }
})
