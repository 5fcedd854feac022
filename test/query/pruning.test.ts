import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateHistory } from '../../src/cli/generate.ts'
import { DuckDb, QueryEngine } from '../../src/query/index.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { LocalStore } from '../../src/storage/local-store.ts'

const DAY = 86_400_000_000
const END = Date.UTC(2024, 2, 1) * 1000

/** 3 assets × 12 days at 1 h: one file per asset per day, 36 files. */
async function manyDays(
  t: { after: (fn: () => void) => void },
  o: { maintainedOverview?: boolean } = { maintainedOverview: false },
): Promise<QueryEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-prune-'))
  const w = await openWarehouse(new LocalStore(dir))
  await generateHistory(w.quotes, {
    assets: 3,
    days: 12,
    intervalSeconds: 3600,
    seed: 5,
    end: END,
    compression: 'snappy',
  })
  const duckdb = await DuckDb.open({ threads: 1 })
  // Scan pruning is what these tests check: the maintained overview state is off unless asked for.
  const engine = new QueryEngine({ table: w.quotes, duckdb, ...o })
  t.after(() => {
    engine.close()
    duckdb.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return engine
}

test('a one-day read of one asset on a 12-day table scans only that day’s file', async (t) => {
  const engine = await manyDays(t)
  const day = END - 5 * DAY
  const r = await engine.readRange({ crypto: 'bitcoin', start: day, end: day + DAY - 1 })
  assert.equal(r.files_total, 36)
  assert.equal(r.files_scanned, 1)
  assert.equal(r.rows.length, 24)
  assert.ok(r.rows.every((q) => q.ts >= day && q.ts < day + DAY))
})

test('candles and compare over two days scan two files; without a range they scan the asset’s 12', async (t) => {
  const engine = await manyDays(t)
  const start = END - 3 * DAY
  const c = await engine.candles({ crypto: 'ethereum', interval: '1d', start, end: start + 2 * DAY - 1 })
  assert.equal(c.files_scanned, 2)
  assert.deepEqual(
    c.candles.map((x) => x.ts),
    [start, start + DAY],
  )
  const cmp = await engine.compare({ crypto: 'ethereum', interval: '1d', start, end: start + 2 * DAY - 1 })
  assert.equal(cmp.files_scanned, 2)
  assert.equal((await engine.candles({ crypto: 'ethereum', interval: '1d' })).files_scanned, 12)
})

test('latest reads only each asset’s last 8 day partitions, not the whole table', async (t) => {
  const engine = await manyDays(t)
  const latest = await engine.latest({})
  assert.equal(latest.rows.length, 3)
  assert.equal(latest.files_total, 36)
  assert.equal(latest.files_scanned, 3 * 8)
  // The 7-day change is defined: the window reaches back a full week inside the scanned days.
  assert.ok(latest.rows.every((r) => r.price_change_7d_pct !== null))
})

test('with the maintained state, latest and recent candles scan no file and answer the same', async (t) => {
  const scan = await manyDays(t)
  const maintained = await manyDays(t, {})
  const latest = await maintained.latest({})
  assert.equal(latest.files_scanned, 0)
  assert.deepEqual(latest.rows, (await scan.latest({})).rows)
  const q = { crypto: 'ethereum', interval: '1h' as const, start: END - 3 * DAY + 1 }
  const c = await maintained.candles(q)
  assert.equal(c.files_scanned, 0)
  assert.deepEqual(c.candles, (await scan.candles(q)).candles)
  // A start older than the state's 7-day window falls back to the scan.
  assert.ok((await maintained.candles({ ...q, start: END - 11 * DAY })).files_scanned > 0)
})

test('a time range with no data scans no file and returns no rows', async (t) => {
  const engine = await manyDays(t)
  const r = await engine.readRange({ crypto: 'bitcoin', start: END + DAY, end: END + 2 * DAY })
  assert.deepEqual([r.files_scanned, r.rows.length], [0, 0])
  const unknown = await engine.candles({ crypto: 'no-such-coin', interval: '1h' })
  assert.deepEqual([unknown.files_scanned, unknown.candles.length], [0, 0])
})
