/**
 * A broker restart mid-run, on a broker of this test's own (the shared one must stay up):
 * producer and processor recover by themselves, `/health` says degraded meanwhile, and every
 * produced quote lands exactly once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaBus } from '../../src/bus/kafka-bus.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'
import { quoteId, silentLogger, simulatedTicks, tableKeys, uniquePrefix, waitFor } from '../harness/kafka.ts'
import { startKafka } from '../harness/kafka-server.ts'

test('broker restart mid-run: producer and processor recover by themselves, nothing lost or doubled', async (t) => {
  const kafka = await startKafka()
  t.after(() => kafka.stop())
  const prefix = uniquePrefix()
  const newBus = () =>
    new KafkaBus({
      brokers: [kafka.bootstrap],
      topicPrefix: prefix,
      partitions: 3,
      replication: 1,
      logger: silentLogger,
    })
  const consumerBus = newBus()
  await consumerBus.start()
  const producerBus = newBus()
  const warehouse = await openWarehouse(new MemoryStore())
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    writerId: `${prefix}-group`,
    topics: { quotes: consumerBus.quotesTopic, deadLetters: consumerBus.deadLettersTopic },
    replayable: true,
    flushIntervalMs: 30_000,
    flushMaxRows: 20_000,
    flushMaxBytes: 32 << 20,
    flushIdleMs: 300,
    maxBufferRows: 100_000,
    maxBufferBytes: 64 << 20,
    compression: 'snappy',
    logger: silentLogger,
  })
  await processor.start()
  processor.attach(await consumerBus.consume(`${prefix}-group`, processor))

  const produced = new Set<string>()
  let sentChunks = 0
  let producerDone = false
  const producing = (async () => {
    for (const tick of simulatedTicks(50, 1_000)) {
      for (const q of tick) produced.add(quoteId(q))
      await producerBus.publishQuotes(tick)
      if (++sentChunks % 50 === 0) await new Promise((r) => setTimeout(r, 20))
    }
    producerDone = true
  })()
  await waitFor('some quotes committed', () => processor.stats().records_written > 5_000, 60_000)
  assert.equal(producerDone, false, 'the broker goes down while quotes are still being produced')
  await kafka.kill()
  await waitFor('the outage seen by the consumer', () => consumerBus.health().status === 'degraded', 30_000)
  assert.match(consumerBus.health().reason ?? '', /broker unreachable since/)
  await new Promise((r) => setTimeout(r, 1_000))
  await kafka.restart()
  await producing
  await waitFor('the consumer healthy again', () => consumerBus.health().status === 'ok', 60_000)
  await waitFor(
    'every quote committed',
    async () => ((await warehouse.quotes.snapshot()).numRecords() ?? 0) >= produced.size,
    120_000,
  )
  await processor.stop()
  await Promise.all([consumerBus.close(), producerBus.close()])
  const keys = await tableKeys(warehouse.quotes)
  assert.equal([...keys.values()].filter((n) => n > 1).length, 0, 'no quote twice')
  assert.equal(keys.size, produced.size, 'every quote once')
})
