/**
 * Against a real Kafka broker: quotes produced through KafkaBus land in the lake exactly once,
 * across 6 partitions, and poison messages reach the dead-letter table while their partition
 * keeps moving.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Producer, stringSerializers } from '@platformatic/kafka'
import type { KafkaBus } from '../../src/bus/kafka-bus.ts'
import { readRows } from '../../src/lake/scan.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'
import { openWarehouse, type Warehouse } from '../../src/runtime/warehouse.ts'
import {
  kafkaBootstrap,
  quoteId,
  silentLogger,
  simulatedTicks,
  tableKeys,
  testBus,
  uniquePrefix,
  waitFor,
} from '../harness/kafka.ts'

async function processorOn(bus: KafkaBus, warehouse: Warehouse, group: string) {
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    writerId: group,
    topics: { quotes: bus.quotesTopic, deadLetters: bus.deadLettersTopic },
    replayable: true,
    flushIntervalMs: 30_000,
    flushMaxRows: 50_000,
    flushMaxBytes: 32 << 20,
    flushIdleMs: 500,
    maxBufferRows: 200_000,
    maxBufferBytes: 64 << 20,
    compression: 'snappy',
    logger: silentLogger,
  })
  await processor.start()
  processor.attach(await bus.consume(group, processor))
  return processor
}

test('200k quotes across 6 partitions land in the lake exactly once', async () => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 6)
  await bus.start()
  const warehouse = await openWarehouse(new MemoryStore())
  const processor = await processorOn(bus, warehouse, `${prefix}-group`)
  const produced = new Set<string>()
  let inFlight: Promise<void>[] = []
  let chunk = []
  for (const tick of simulatedTicks(100, 2_000)) {
    for (const q of tick) produced.add(quoteId(q))
    chunk.push(...tick)
    if (chunk.length >= 5_000) {
      inFlight.push(bus.publishQuotes(chunk))
      chunk = []
      if (inFlight.length >= 4) {
        await Promise.all(inFlight)
        inFlight = []
      }
    }
  }
  inFlight.push(bus.publishQuotes(chunk))
  await Promise.all(inFlight)
  assert.equal(produced.size, 200_000)
  await waitFor('200k quotes committed', () => processor.stats().records_written >= 200_000)
  await processor.stop()
  await bus.close()
  const keys = await tableKeys(warehouse.quotes)
  const duplicates = [...keys.values()].filter((n) => n > 1).length
  assert.equal(duplicates, 0, 'no quote twice')
  assert.equal(keys.size, produced.size)
  for (const id of produced) assert.ok(keys.has(id), `missing ${id}`)
  const snap = await warehouse.quotes.snapshot()
  const txns = [0, 1, 2, 3, 4, 5].map((p) => snap.txnVersion(`${prefix}-group:${prefix}.quotes:${p}`))
  assert.ok(
    txns.every((v) => v !== undefined && v > 0),
    `a txn per partition: ${txns.join(',')}`,
  )
})

test('poison messages reach the dead-letter table with their reason; the partition keeps moving', async () => {
  const prefix = uniquePrefix()
  const bus = testBus(prefix, 1)
  await bus.start()
  const warehouse = await openWarehouse(new MemoryStore())
  const processor = await processorOn(bus, warehouse, `${prefix}-group`)
  const [good1, good2] = [...simulatedTicks(2, 2)]
  await bus.publishQuotes(good1!)
  const raw = new Producer({
    clientId: `${prefix}-raw`,
    bootstrapBrokers: [kafkaBootstrap()],
    idempotent: true,
    serializers: stringSerializers,
  })
  await raw.send({
    messages: [
      { topic: bus.quotesTopic, key: 'x', value: '{not json' },
      { topic: bus.quotesTopic, key: 'x', value: JSON.stringify({ ...good2![0], schema_version: 99 }) },
      { topic: bus.quotesTopic, key: 'x', value: JSON.stringify({ schema_version: 1, ts: 'yesterday' }) },
    ],
  })
  await raw.close()
  await bus.publishQuotes(good2!)
  await waitFor('good quotes committed', () => processor.stats().records_written >= 4)
  await waitFor(
    'dead letters committed',
    async () => ((await warehouse.deadLetters.snapshot()).numRecords() ?? 0) >= 3,
  )
  await processor.stop()
  await bus.close()
  const dead = await readRows(warehouse.deadLetters.store, await warehouse.deadLetters.snapshot())
  assert.deepEqual(dead.map((r) => r['reason']).sort(), [
    'message_invalid',
    'message_not_json',
    'schema_version_unknown',
  ])
  assert.ok(
    dead.every((r) => String(r['detail']).startsWith(`${bus.quotesTopic}[0]@`)),
    'the position is in the detail',
  )
  assert.equal(dead.find((r) => r['reason'] === 'message_not_json')?.['raw'], '{not json')
  const keys = await tableKeys(warehouse.quotes)
  assert.equal(keys.size, 4)
  const snap = await warehouse.quotes.snapshot()
  assert.equal(
    snap.txnVersion(`${prefix}-group:${bus.quotesTopic}:0`),
    6,
    'the txn covers the poison offsets too',
  )
})
