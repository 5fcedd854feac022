import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateHistory } from '../../src/cli/generate.ts'
import { optimizeTable } from '../../src/lake/optimize.ts'
import type { Quote } from '../../src/model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../../src/model/quote-table.ts'
import { DuckDb } from '../../src/query/duckdb.ts'
import { CANDLE_INTERVALS, LATEST_SORTS, QueryEngine } from '../../src/query/index.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { allRows, seeded } from './fixtures.ts'
import { dedupe, refCandles, refLatest } from './reference.ts'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const END = Date.UTC(2024, 2, 10) * 1000

test('the maintained overview equals a brute-force scan while batches, OPTIMIZE and the hot tail change it (seeded)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-market-state-'))
  const duckdb = await DuckDb.open({ threads: 1, poolSize: 2 })
  t.after(() => {
    duckdb.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const warehouse = await openWarehouse(new LocalStore(dir))
  const table = warehouse.quotes
  await generateHistory(table, {
    assets: 4,
    days: 9,
    intervalSeconds: 1800,
    seed: 5,
    end: END - 2 * DAY,
    compression: 'snappy',
    commitEverySeconds: 6 * 3600,
  })
  let pending: Quote[] = []
  const engine = new QueryEngine({
    table,
    duckdb,
    pending: () => pending,
    snapshotTtlMs: 0,
  })
  // The same reads by scanning (maintained state off), for pending_rows and the fallback path.
  const scan = new QueryEngine({
    table,
    duckdb,
    pending: () => pending,
    snapshotTtlMs: 0,
    maintainedOverview: false,
  })
  t.after(() => {
    engine.close()
    scan.close()
  })
  const rng = seeded(12)
  let committed = await allRows(duckdb, table, await table.snapshot())
  const template = committed[0]!
  const cryptos = [...new Set(committed.map((q) => q.crypto))]
  let clock = Math.max(...committed.map((q) => q.ts))
  const randomQuote = (): Quote => {
    // Mostly new quotes after the newest; sometimes late ones up to 9 days back; sometimes a new asset.
    const r = rng.next()
    const ts =
      r < 0.7
        ? (clock += rng.int(1, 90) * 60_000_000)
        : clock - rng.int(0, 9 * 24) * HOUR - rng.int(0, 59) * 60_000_000
    return {
      ...template,
      crypto: rng.next() < 0.05 ? 'newcoin' : rng.pick(cryptos),
      source: rng.pick(['simulated', 'coingecko']),
      ts,
      price_usd: 10 + rng.int(0, 10_000) / 100,
      rank: rng.next() < 0.2 ? null : rng.int(1, 50),
      ingested_at: ts + 1_000_000,
    }
  }
  let compared = 0
  let candlesFromState = 0
  for (let step = 0; step < 40; step++) {
    const op = rng.next()
    if (op < 0.5) {
      const batch = Array.from({ length: rng.int(1, 12) }, randomQuote)
      await table.append(dedupe(batch).map(quoteToRow), { sortBy: QUOTES_SORT_BY })
      committed = await allRows(duckdb, table, await table.snapshot())
    } else if (op < 0.65) {
      await optimizeTable(table, { sortBy: QUOTES_SORT_BY, minFiles: 2 })
    } else {
      // The hot tail: new quotes, and copies of committed ones (the committed copy must win).
      pending = [
        ...Array.from({ length: rng.int(0, 6) }, randomQuote),
        ...(rng.next() < 0.5 ? [{ ...rng.pick(committed), price_usd: 1 }] : []),
      ]
    }
    const all = dedupe([...committed, ...pending])
    for (let c = 0; c < 3; c++) {
      const q = {
        sort: rng.pick(LATEST_SORTS),
        ...(rng.next() < 0.3 && { order: rng.pick(['asc', 'desc'] as const) }),
        ...(rng.next() < 0.4 && { limit: rng.int(1, 6) }),
        ...(rng.next() < 0.3 && { source: rng.pick(['simulated', 'coingecko']) }),
      }
      const got = await engine.latest(q)
      const want = refLatest(all, q)
      assert.equal(got.assets_total, want.total, `step ${step}: ${JSON.stringify(q)}`)
      assert.deepEqual(got.rows, want.rows, `step ${step}: ${JSON.stringify(q)}`)
      const scanned = await scan.latest(q)
      assert.deepEqual(got.rows, scanned.rows)
      assert.equal(got.pending_rows, scanned.pending_rows, `step ${step}: pending rows`)
      assert.equal(got.files_scanned, 0, 'answered from the maintained state')
      compared++
    }
    for (let c = 0; c < 3; c++) {
      const within = rng.next() < 0.8
      const start =
        clock - (within ? rng.int(0, 6 * 24) : rng.int(8 * 24, 12 * 24)) * HOUR - rng.int(0, 3599) * 1_000_000
      const q = {
        crypto: rng.next() < 0.1 ? 'newcoin' : rng.pick(cryptos),
        interval: rng.pick(CANDLE_INTERVALS),
        start,
        ...(rng.next() < 0.3 && { end: start + rng.int(1, 48) * HOUR + rng.int(0, 3599) * 1_000_000 }),
        ...(rng.next() < 0.3 && { source: rng.pick(['simulated', 'coingecko']) }),
      }
      const got = await engine.candles(q)
      assert.deepEqual(got.candles, refCandles(all, q), `step ${step}: candles ${JSON.stringify(q)}`)
      const scanned = await scan.candles(q)
      assert.equal(got.pending_rows, scanned.pending_rows, `step ${step}: candle pending rows`)
      if (got.files_scanned === 0) candlesFromState++
    }
  }
  assert.ok(candlesFromState >= 60, `most recent candles came from the state (${candlesFromState})`)
  assert.equal(compared, 120)
  assert.ok(
    (await table.history()).some((h) => h.operation === 'OPTIMIZE'),
    'the history includes compactions',
  )
})
