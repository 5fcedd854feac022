import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { readRows } from '../../src/lake/scan.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../../src/model/quote-table.ts'
import { MEMORY_QUOTES_TOPIC, MemoryBus } from '../../src/bus/memory-bus.ts'
import { holdsPartitionZero } from '../../src/runtime/maintenance-hook.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { MaintenanceScheduler, partitionDay, vacuumMayDelete } from '../../src/stream/maintenance.ts'
import { Clock, smallRows, smallTable } from '../lake/lake-fixtures.ts'

const DAY_US = 86_400_000_000
const DAY_MS = 86_400_000
const NOW = Date.UTC(2024, 5, 2, 12) // "today" is 2024-06-02

const keys = (rows: readonly Record<string, unknown>[]): string[] =>
  rows.map((r) => `${String(r['crypto'])}|${String(r['ts'])}|${String(r['price_usd'])}`).sort()

async function streamingTable(batchesYesterday: number, batchesToday: number) {
  const store = new MemoryStore({ now: () => NOW })
  const warehouse = await openWarehouse(store)
  const table = warehouse.quotes
  const sim = new MarketSimulator({ assets: 2, seed: 3, startTs: 0 })
  const write = async (dayStart: number, batches: number): Promise<void> => {
    for (let b = 0; b < batches; b++) {
      const quotes = sim.tick(dayStart + b * 30_000_000)
      await table.append(quotes.map(quoteToRow), { sortBy: QUOTES_SORT_BY })
    }
  }
  const today = Math.floor((NOW * 1000) / DAY_US) * DAY_US
  await write(today - DAY_US, batchesYesterday)
  await write(today, batchesToday)
  return { table, store: warehouse.quotesStore }
}

const scheduler = (table: Awaited<ReturnType<typeof streamingTable>>['table'], over: object = {}) =>
  new MaintenanceScheduler({
    table,
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    pastDayMinFiles: 4,
    currentDayMinFiles: 10,
    maxPartitionsPerRun: 100,
    pauseMs: 0,
    targetFileSizeBytes: 128 * 1024 * 1024,
    vacuum: false,
    sortBy: QUOTES_SORT_BY,
    compression: 'snappy',
    now: () => NOW,
    ...over,
  })

test('maintenance compacts past days over their threshold and the current day only once it reaches its own', async () => {
  const { table, store } = await streamingTable(6, 6)
  const before = await table.snapshot()
  const rowsBefore = keys(await readRows(store, before))
  const m = scheduler(table)
  const run = await m.runOnce()
  assert.equal(run.error, undefined)
  assert.equal(run.partitions_compacted, 2, 'the two assets of yesterday')
  const after = await table.snapshot()
  const perDay = (day: string) => after.files().filter((f) => partitionDay(f.partitionValues) === day).length
  assert.equal(perDay('2024-06-01'), 2, 'yesterday: one file per asset')
  assert.equal(perDay('2024-06-02'), 12, 'today: 6 files per asset, under the threshold of 10')
  assert.deepEqual(keys(await readRows(store, after)), rowsBefore)

  // More batches today push the current day over its threshold: compacted incrementally.
  const { table: t2, store: s2 } = await streamingTable(0, 12)
  const run2 = await scheduler(t2).runOnce()
  assert.equal(run2.partitions_compacted, 2)
  const snap2 = await t2.snapshot()
  assert.equal(snap2.files().length, 2)
  assert.equal(keys(await readRows(s2, snap2)).length, 24)

  const stats = m.stats()
  assert.equal(stats['maintenance_runs'], 1)
  assert.equal(stats['maintenance_files_compacted'], 12)
  assert.equal(stats['maintenance_files_written'], 2)
  const detail = stats['maintenance'] as { state: string; last_run: { partitions_compacted: number } }
  assert.equal(detail.state, 'idle')
  assert.equal(detail.last_run.partitions_compacted, 2)
  await m.stop()
  assert.equal((m.stats()['maintenance'] as { state: string }).state, 'stopped')
})

test('maintenance is throttled: at most maxPartitionsPerRun partitions per run, the rest in later runs', async () => {
  const { table } = await streamingTable(5, 0)
  const m = scheduler(table, { maxPartitionsPerRun: 1 })
  const first = await m.runOnce()
  assert.equal(first.partitions_compacted, 1)
  assert.equal(first.partial, true)
  const second = await m.runOnce()
  assert.equal(second.partitions_compacted, 1)
  const third = await m.runOnce()
  assert.equal(third.partitions_compacted, 0)
  assert.equal((await table.snapshot()).files().length, 2)
})

test('a scheduled run is skipped while another process owns the maintenance, and runs once this one does', async () => {
  const { table } = await streamingTable(6, 0)
  let owner = false
  const m = scheduler(table, { intervalMs: 10, isOwner: () => owner })
  m.start()
  const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000
    while (!ok()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  await waitFor('two skipped runs', () => Number(m.stats()['maintenance_runs_skipped_not_owner']) >= 2)
  assert.equal(m.stats()['maintenance_runs'], 0)
  assert.equal((m.stats()['maintenance'] as { state: string }).state, 'standby')
  assert.equal((await table.snapshot()).files().length, 12, 'nothing compacted while not the owner')

  owner = true
  await waitFor('a run', () => Number(m.stats()['maintenance_runs']) >= 1)
  await m.stop()
  assert.equal((await table.snapshot()).files().length, 2, "yesterday's files compacted by the owner")
})

test("holdsPartitionZero: the member of a group holding the quotes topic's partition 0 maintains the table", async () => {
  const bus = new MemoryBus()
  const consumer = await bus.consume('g', {
    onQuotes: () => undefined,
    onDeadLetters: () => undefined,
    onAssigned: async () => new Map(),
    onRevoked: async () => undefined,
  })
  assert.equal(holdsPartitionZero(consumer, MEMORY_QUOTES_TOPIC), true)
  assert.equal(holdsPartitionZero(consumer, 'another.topic'), false)
  await consumer.close()
  await bus.close()
})

test('the automatic vacuum waits until the table is older than its retention, then deletes old unreferenced files', async () => {
  const clock = new Clock()
  /** Counts listings of the whole table: what a vacuum does and a skipped one must not. */
  class ListCountingStore extends MemoryStore {
    wholeListings = 0
    override list(prefix: string) {
      if (prefix === '') this.wholeListings++
      return super.list(prefix)
    }
  }
  const store = new ListCountingStore({ now: clock.now })
  const { table } = await smallTable({ clock, store })
  await table.append(smallRows(3))
  // An unreferenced data file (a failed append's leftover) written when the table was created.
  await store.put('crypto=bitcoin/part-orphan.snappy.parquet', new Uint8Array([1, 2, 3]))
  const vacuuming = () => scheduler(table, { vacuum: true, pastDayMinFiles: 100, now: clock.now })

  clock.t += DAY_MS // the table is a day old, its retention is 7 days: nothing can qualify yet
  const young = await vacuuming().runOnce()
  assert.equal(young.vacuum, 'table-younger-than-retention')
  assert.equal(young.files_vacuumed, 0)
  assert.equal(store.wholeListings, 0)
  assert.ok(await store.head('crypto=bitcoin/part-orphan.snappy.parquet'))

  clock.t += 7 * DAY_MS
  const old = await vacuuming().runOnce()
  assert.equal(old.vacuum, 'ran')
  assert.equal(old.files_vacuumed, 1)
  assert.equal(store.wholeListings, 1)
  assert.equal(await store.head('crypto=bitcoin/part-orphan.snappy.parquet'), undefined)
  assert.equal((await readRows(store, await table.snapshot())).length, 3)
})

test('vacuumMayDelete: only a table older than the retention, or of unknown age, may hold deletable files', () => {
  assert.equal(vacuumMayDelete(1_000, 500, 1_400), false)
  assert.equal(vacuumMayDelete(1_000, 500, 1_500), false)
  assert.equal(vacuumMayDelete(1_000, 500, 1_501), true)
  assert.equal(vacuumMayDelete(undefined, 500, 0), true)
  assert.equal(vacuumMayDelete(null, 500, 0), true)
})
