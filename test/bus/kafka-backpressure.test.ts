/**
 * Back-pressure against a real broker: with a slow lake, a processor behind a topic full of
 * quotes pauses its partitions instead of buffering the topic, so what it holds stays within its
 * row/byte bounds (plus one fetch) and its RSS stays flat.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import type { PutIfAbsentResult } from '../../src/storage/object-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'
import { silentLogger, simulatedTicks, testBus, uniquePrefix, waitFor } from '../harness/kafka.ts'

/** A lake whose every commit takes 250 ms. */
class SlowLake extends LocalStore {
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    if (path.includes('_delta_log/')) await new Promise((r) => setTimeout(r, 250))
    return super.putIfAbsent(path, bytes)
  }
  override child(prefix: string): LocalStore {
    return new SlowLake(join(this.root, prefix))
  }
}

test('with a slow lake, the processor pauses its partitions and holds no more than its bounds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-bp-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const prefix = uniquePrefix()
  const fetchPerPartition = 128 << 10
  const bus = testBus(prefix, 6, fetchPerPartition)
  await bus.start()
  // 120k quotes (~25 MB of JSON) waiting in the topic before the processor starts.
  let total = 0
  let chunk = []
  for (const tick of simulatedTicks(150, 800)) {
    total += tick.length
    chunk.push(...tick)
    if (chunk.length >= 10_000) {
      await bus.publishQuotes(chunk)
      chunk = []
    }
  }
  await bus.publishQuotes(chunk)
  const maxBufferRows = 20_000
  const maxBufferBytes = 4 << 20
  const warehouse = await openWarehouse(new SlowLake(dir))
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    writerId: `${prefix}-group`,
    topics: { quotes: bus.quotesTopic, deadLetters: bus.deadLettersTopic },
    replayable: true,
    flushIntervalMs: 30_000,
    flushMaxRows: 10_000,
    flushMaxBytes: 2 << 20,
    flushIdleMs: 300,
    maxBufferRows,
    maxBufferBytes,
    compression: 'snappy',
    logger: silentLogger,
  })
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  let maxRows = 0
  let maxBytes = 0
  let maxRss = rssBefore
  const sampler = setInterval(() => {
    const s = processor.stats()
    maxRows = Math.max(maxRows, s.buffered)
    maxBytes = Math.max(maxBytes, s.buffered_bytes)
    maxRss = Math.max(maxRss, process.memoryUsage().rss)
  }, 5)
  await processor.start()
  processor.attach(await bus.consume(`${prefix}-group`, processor))
  await waitFor(
    '100k quotes committed through the slow lake',
    () => processor.stats().records_written >= 100_000,
    180_000,
  )
  clearInterval(sampler)
  const s = processor.stats()
  await processor.stop()
  await bus.close()
  assert.equal(total, 120_000)
  assert.ok(s.pauses > 0, 'the partitions were paused')
  // One fetch may land after the bound is crossed: ≤ 128 KiB per partition × 6 partitions, on the
  // wire, where record batches are lz4-compressed (JSON quotes compress ~4-5×).
  const fetchSlack = 6 * fetchPerPartition * 6
  assert.ok(maxBytes <= maxBufferBytes + fetchSlack, `held ${maxBytes} bytes`)
  assert.ok(maxRows <= maxBufferRows + 40_000, `held ${maxRows} rows`)
  const growthMb = (maxRss - rssBefore) / 1_048_576
  // Parquet encoding and decoding garbage included; holding the topic would take several times this.
  assert.ok(growthMb < 250, `RSS grew by ${growthMb.toFixed(0)} MB`)
  t.diagnostic(
    `held at most ${maxRows} rows / ${(maxBytes / 1_048_576).toFixed(1)} MB; RSS +${growthMb.toFixed(0)} MB; ${s.pauses} pauses`,
  )
})
