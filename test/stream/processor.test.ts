import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { DeltaTable } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { DEAD_LETTERS_PARTITION_COLUMNS, DEAD_LETTERS_SCHEMA } from '../../src/model/dead-letter-table.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA } from '../../src/model/quote-table.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import type { ObjectStore, PutIfAbsentResult } from '../../src/storage/object-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'

const START = Date.UTC(2024, 4, 1) * 1000

/** A store whose next commit lands but whose acknowledgement is lost (the caller sees an error). */
class LosesNextAck extends MemoryStore {
  armed = false
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    const r = await super.putIfAbsent(path, bytes)
    if (this.armed && path.startsWith('_delta_log/') && path.endsWith('.json')) {
      this.armed = false
      throw new Error('connection reset after the write')
    }
    return r
  }
}

async function setup(quotesStore: ObjectStore = new MemoryStore(), o: { flushMaxRows?: number } = {}) {
  const store = new MemoryStore()
  const quotes = await DeltaTable.create(quotesStore, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const deadLetters = await DeltaTable.create(store.child('dead_letters'), {
    schema: DEAD_LETTERS_SCHEMA,
    partitionColumns: DEAD_LETTERS_PARTITION_COLUMNS,
  })
  const processor = new MicroBatchProcessor({
    quotes,
    deadLetters,
    appId: 'test-processor',
    flushIntervalMs: 3_600_000,
    flushMaxRows: o.flushMaxRows ?? 1_000,
    compression: 'snappy',
    logger: pino({ level: 'silent' }),
  })
  await processor.start()
  const sim = new MarketSimulator({ assets: 3, seed: 1, startTs: START })
  let tick = 0
  const next = (n: number) => {
    const out = []
    for (let i = 0; i < n; i++) out.push(...sim.tick(START + tick++ * 1_000_000))
    return out
  }
  return { quotes, deadLetters, processor, next, store }
}

const rowCount = async (table: DeltaTable): Promise<number> => (await table.snapshot()).numRecords() ?? -1

test('buffered quotes are visible as pending until a flush commits them in one commit', async () => {
  const { quotes, processor, next } = await setup()
  processor.accept(next(10))
  assert.equal(processor.pending().length, 30)
  assert.equal(await rowCount(quotes), 0)
  await processor.flush()
  assert.equal(processor.pending().length, 0)
  assert.equal(await rowCount(quotes), 30)
  const snap = await quotes.snapshot()
  assert.equal(snap.version, 1)
  assert.equal(snap.txnVersion('test-processor'), 0)
  assert.equal(processor.stats().records_written, 30)
  assert.equal(processor.stats().batches, 1)
})

test('a full buffer triggers a flush without waiting for the interval', async () => {
  const { quotes, processor, next } = await setup(undefined, { flushMaxRows: 30 })
  processor.accept(next(10))
  await processor.flush()
  assert.equal(await rowCount(quotes), 30)
  assert.equal(
    (await quotes.snapshot()).version,
    1,
    'the size-triggered flush and the explicit one made one commit',
  )
})

test('a flush commits what was buffered when it started; later quotes wait for the next batch', async () => {
  const { quotes, processor, next } = await setup()
  processor.accept(next(5))
  const flushing = processor.flush()
  // Let the flush cut its batch, then keep receiving while it commits.
  await new Promise((r) => setImmediate(r))
  processor.accept(next(5))
  await flushing
  assert.equal(await rowCount(quotes), 15)
  assert.equal(processor.pending().length, 15)
  await processor.stop()
  assert.equal(await rowCount(quotes), 30)
})

test('a commit whose acknowledgement is lost is retried with the same txn version and not duplicated', async () => {
  const store = new LosesNextAck()
  const { quotes, processor, next } = await setup(store)
  processor.accept(next(4))
  store.armed = true
  await processor.flush()
  // Whether the lake sees through the lost acknowledgement itself (its own txn in the winning
  // commit) or the processor retries the batch later, the batch lands exactly once.
  if (processor.stats().flush_errors > 0) assert.equal(processor.pending().length, 12)
  await processor.flush()
  assert.equal(store.armed, false, 'the fault was injected')
  assert.equal(processor.pending().length, 0)
  const snap = await quotes.snapshot()
  assert.equal(snap.numRecords(), 12, 'exactly once')
  assert.equal(snap.version, 1, 'the retry was a no-op')
  assert.equal(processor.stats().records_written, 12)
})

test('a restarted processor resumes its txn sequence from the table', async () => {
  const { quotes, deadLetters, processor, next } = await setup()
  processor.accept(next(2))
  await processor.stop()
  const again = new MicroBatchProcessor({
    quotes,
    deadLetters,
    appId: 'test-processor',
    flushIntervalMs: 3_600_000,
    flushMaxRows: 1_000,
    compression: 'snappy',
    logger: pino({ level: 'silent' }),
  })
  await again.start()
  again.accept(next(2))
  await again.stop()
  const snap = await quotes.snapshot()
  assert.equal(snap.txnVersion('test-processor'), 1)
  assert.equal(snap.numRecords(), 12)
})

test('dead letters are committed to their own table with the raw payload and reason', async () => {
  const { deadLetters, processor } = await setup()
  processor.acceptDeadLetters([
    {
      source: 'coingecko',
      reason: 'price_missing',
      detail: 'bitcoin: no price',
      raw: { id: 'bitcoin' },
      received_at: START,
    },
  ])
  await processor.stop()
  const snap = await deadLetters.snapshot()
  const rows = await readRows(deadLetters.store, snap)
  assert.deepEqual(rows, [
    {
      received_at: START,
      source: 'coingecko',
      reason: 'price_missing',
      detail: 'bitcoin: no price',
      raw: '{"id":"bitcoin"}',
    },
  ])
  assert.equal(processor.stats().records_rejected, 1)
})

/** A store that refuses the next `failures` commits outright (e.g. a full disk), writing nothing. */
class FailsCommits extends MemoryStore {
  failures = 0
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    if (this.failures > 0 && path.startsWith('_delta_log/') && path.endsWith('.json')) {
      this.failures--
      throw new Error('ENOSPC: no space left on device')
    }
    return super.putIfAbsent(path, bytes)
  }
}

test('while commits fail, quotes stay buffered and the failure is reported; the next good flush commits them once', async () => {
  const store = new FailsCommits()
  const { quotes, processor, next } = await setup(store)
  processor.accept(next(3))
  store.failures = 1_000
  await processor.flush()
  await processor.flush()
  assert.equal(processor.stats().consecutive_flush_errors, 2)
  assert.match(processor.stats().last_flush_error ?? '', /ENOSPC/)
  assert.equal(processor.pending().length, 9)
  assert.equal(await rowCount(quotes), 0)
  store.failures = 0
  processor.accept(next(1))
  await processor.flush()
  assert.equal(processor.stats().consecutive_flush_errors, 0)
  assert.equal(processor.pending().length, 0)
  assert.equal(await rowCount(quotes), 12)
})
