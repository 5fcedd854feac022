/**
 * Degraded mode in the processor on the in-process bus (which cannot replay): while the store
 * fails, quote segments beyond the in-memory bound go, with their positions, to the on-disk
 * spool instead of pausing the bus; once the store answers again every quote is committed exactly
 * once, spooled ones first and in offset order, and the spool folder is removed. A processor
 * stopped during the outage leaves what it holds in the spool, and the next start commits it.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pino } from 'pino'
import { MEMORY_DEAD_LETTERS_TOPIC, MEMORY_QUOTES_TOPIC, MemoryBus } from '../../src/bus/memory-bus.ts'
import { CryptoVizError } from '../../src/errors.ts'
import { DeltaTable } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { DEAD_LETTERS_PARTITION_COLUMNS, DEAD_LETTERS_SCHEMA } from '../../src/model/dead-letter-table.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA } from '../../src/model/quote-table.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import type { ObjectMeta } from '../../src/storage/object-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'
import { QuoteSpool } from '../../src/stream/spool.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

/** A store that can be switched off: every request then fails like an unreachable S3. */
class Switchable extends MemoryStore {
  down = false
  private check(): void {
    if (this.down)
      throw new CryptoVizError('STORAGE_IO', 'store unreachable', { kind: 'external', canRetry: true })
  }
  override async get(path: string): Promise<Uint8Array> {
    this.check()
    return super.get(path)
  }
  override async put(path: string, bytes: Uint8Array): Promise<void> {
    this.check()
    return super.put(path, bytes)
  }
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
    this.check()
    return super.putIfAbsent(path, bytes)
  }
  override async *listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    this.check()
    yield* super.listFrom(prefix, startAfter)
  }
}

const APP_ID = `spool-test:${MEMORY_QUOTES_TOPIC}:0`
const quote = (i: number) => makeQuote({ ts: 1_700_000_000_000_000 + i * 1_000_000 })

async function tables(store: MemoryStore) {
  const quotes = await DeltaTable.openOrCreate(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const deadLetters = await DeltaTable.openOrCreate(new MemoryStore(), {
    schema: DEAD_LETTERS_SCHEMA,
    partitionColumns: DEAD_LETTERS_PARTITION_COLUMNS,
  })
  // Every committed quote batch's txn version, in commit order.
  const committedVersions: number[] = []
  const append = quotes.appendColumns.bind(quotes)
  quotes.appendColumns = async (batch, o) => {
    const r = await append(batch, o)
    if (r.status === 'committed') committedVersions.push(o?.txns?.[0]?.version ?? -1)
    return r
  }
  return { quotes, deadLetters, committedVersions }
}

/** A processor on a fresh in-process bus, as `cryptoviz start` wires it. */
async function embedded(t: Awaited<ReturnType<typeof tables>>, spool: QuoteSpool) {
  const processor = new MicroBatchProcessor({
    quotes: t.quotes,
    deadLetters: t.deadLetters,
    writerId: 'spool-test',
    topics: { quotes: MEMORY_QUOTES_TOPIC, deadLetters: MEMORY_DEAD_LETTERS_TOPIC },
    replayable: false,
    flushIntervalMs: 3_600_000,
    flushMaxRows: 10,
    flushMaxBytes: 1 << 30,
    flushIdleMs: 3_600_000,
    maxBufferRows: 20,
    maxBufferBytes: 1 << 30,
    compression: 'snappy',
    logger: pino({ level: 'silent' }),
    spool,
  })
  await processor.start()
  const bus = new MemoryBus()
  const consumer = await bus.consume('spool-test', processor)
  processor.attach(consumer)
  return { processor, bus }
}

async function tableKeys(store: MemoryStore, quotes: DeltaTable): Promise<number[]> {
  const rows = await readRows(store, await quotes.snapshot(), { columns: ['ts'] })
  return rows.map((r) => Number(r.ts))
}

test('quotes beyond the memory bound wait in the spool during an outage (the bus never pauses) and land exactly once, in order, after it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-spool-test-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new Switchable()
  const lake = await tables(store)
  const { processor, bus } = await embedded(lake, new QuoteSpool(dir, { warehouse: 'memory://spool-test' }))
  await bus.publishQuotes(Array.from({ length: 5 }, (_, i) => quote(i)))
  await processor.flush()
  store.down = true
  let i = 5
  await bus.publishQuotes([quote(i++)])
  await processor.flush() // fails: the store is down
  assert.equal(processor.stats().consecutive_flush_errors, 1)
  // Each publish resolves only while the consumer is not paused: none of them waits.
  for (; i < 125; i++) await bus.publishQuotes([quote(i)])
  await processor.flush() // fails again, after the spills finished
  const degraded = processor.stats()
  assert.equal(degraded.pauses, 0, 'the bus was never paused: collectors kept running')
  assert.ok(degraded.spooled >= 90, JSON.stringify(degraded))
  assert.ok(degraded.buffered <= 20, `memory holds at most the bound: ${degraded.buffered}`)
  assert.equal(degraded.records_written, 5)
  assert.equal(degraded.spooled + degraded.buffered, 120, 'every waiting quote is in one place')

  store.down = false
  await processor.flush()
  await processor.stop()
  const s = processor.stats()
  assert.equal(s.spooled, 0)
  assert.equal(s.buffered, 0)
  assert.equal(s.records_written, 125)
  const keys = await tableKeys(store, lake.quotes)
  assert.equal(keys.length, 125)
  assert.equal(new Set(keys).size, 125)
  assert.equal((await lake.quotes.snapshot()).txnVersion(APP_ID), 124)
  const v = lake.committedVersions
  assert.ok(v.length > 3, `the backlog was committed in several batches: ${v.join(',')}`)
  assert.deepEqual(
    v,
    [...v].sort((a, b) => a - b),
    'batches committed in offset order (spool first, then memory)',
  )
  assert.deepEqual(await readdir(dir), [], 'the spool folder is removed once empty')
})

test('a processor stopped during an outage leaves its quotes in the spool; the next start commits them first, exactly once, even from a file left behind after its commit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-spool-test-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new Switchable()
  const lake = await tables(store)
  const first = await embedded(lake, new QuoteSpool(dir, { warehouse: 'memory://spool-test' }))
  await first.bus.publishQuotes(Array.from({ length: 5 }, (_, i) => quote(i)))
  await first.processor.flush()
  store.down = true
  await first.bus.publishQuotes([quote(5)])
  await first.processor.flush() // fails: offset 5 is the batch in flight
  for (let i = 6; i < 36; i++) await first.bus.publishQuotes([quote(i)])
  await first.processor.stop()
  await first.bus.close()
  const stopped = first.processor.stats()
  assert.equal(stopped.buffered, 0, 'nothing is left only in memory')
  assert.equal(stopped.spooled, 31)
  assert.equal(stopped.records_written, 5)

  // A crash between a spooled batch's commit and its file's deletion leaves the file behind: a
  // copy of the whole spool stands for that; its batches must be skipped by their txns.
  const [folder] = await readdir(dir)
  await cp(join(dir, folder!), join(dir, folder!.replace(/[0-9a-f]{8}$/, 'deadbeef')), { recursive: true })
  // Another warehouse's processor on this host never takes these quotes.
  const other = new QuoteSpool(dir, { warehouse: 'memory://another-lake', isAlive: () => false })
  assert.equal(await other.adoptOrphans(), 0)

  // The next process (the first one's pid counts as dead) with the same identity, store back.
  store.down = false
  const second = await embedded(
    lake,
    new QuoteSpool(dir, { warehouse: 'memory://spool-test', isAlive: () => false }),
  )
  for (let i = 36; i < 46; i++) await second.bus.publishQuotes([quote(i)])
  await second.processor.stop()
  await second.bus.close()
  assert.equal(second.processor.stats().spooled, 0)
  const keys = await tableKeys(store, lake.quotes)
  assert.equal(keys.length, 46)
  assert.equal(new Set(keys).size, 46)
  assert.equal((await lake.quotes.snapshot()).txnVersion(APP_ID), 45, 'new offsets continued past the spool')
  const v = lake.committedVersions
  assert.deepEqual(
    v,
    [...v].sort((a, b) => a - b),
    'the batch in flight first, then the spool, then memory',
  )
  assert.deepEqual(await readdir(dir), [], 'the adopted folder is removed once committed')
})
