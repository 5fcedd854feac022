/**
 * Degraded mode in the processor: while the store fails, quotes beyond the in-memory bound go to
 * the on-disk spool; once it answers again every quote is committed exactly once, spooled ones
 * first, and the spool folder is removed.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pino } from 'pino'
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

test('quotes beyond the memory bound wait in the spool during an outage and land exactly once after it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-spool-test-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new Switchable()
  const quotes = await DeltaTable.create(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const deadLetters = await DeltaTable.create(new MemoryStore(), {
    schema: DEAD_LETTERS_SCHEMA,
    partitionColumns: DEAD_LETTERS_PARTITION_COLUMNS,
  })
  const spool = new QuoteSpool(dir)
  const processor = new MicroBatchProcessor({
    quotes,
    deadLetters,
    appId: 'spool-test',
    flushIntervalMs: 3_600_000,
    flushMaxRows: 10,
    memoryBoundRows: 20,
    compression: 'snappy',
    logger: pino({ level: 'silent' }),
    spool,
  })
  await processor.start()
  const quote = (i: number) => makeQuote({ ts: 1_700_000_000_000_000 + i * 1_000_000 })
  processor.accept(Array.from({ length: 5 }, (_, i) => quote(i)))
  await processor.flush()
  store.down = true
  let i = 5
  processor.accept([quote(i++)])
  await processor.flush() // fails: the store is down
  assert.equal(processor.stats().consecutive_flush_errors, 1)
  for (; i < 125; i++) processor.accept([quote(i)])
  await processor.flush() // fails again, after the spills finished
  const degraded = processor.stats()
  assert.ok(degraded.spooled >= 90, JSON.stringify(degraded))
  assert.ok(degraded.buffered <= 30, `memory holds at most the bound plus one batch: ${degraded.buffered}`)
  assert.equal(degraded.records_written, 5)

  store.down = false
  await processor.flush()
  await processor.stop()
  const s = processor.stats()
  assert.equal(s.spooled, 0)
  assert.equal(s.buffered, 0)
  assert.equal(s.records_written, 125)
  const rows = await readRows(store, await quotes.snapshot(), { columns: ['ts'] })
  assert.equal(rows.length, 125)
  assert.equal(new Set(rows.map((r) => r.ts)).size, 125)
  assert.deepEqual(await readdir(dir), [], 'the spool folder is removed once empty')
})
