import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Snapshot } from '../../src/lake/index.ts'
import { QUOTE_FIELDS, type Quote, type QuoteField } from '../../src/model/quote.ts'
import {
  CANDLE_INTERVALS,
  INTERVAL_MICROS,
  LATEST_SORTS,
  QueryEngine,
  type AsOf,
} from '../../src/query/index.ts'
import { allRows, DAY, END, HOUR, quoteFixture, seeded, START, type Fixture } from './fixtures.ts'
import { refCandles, refCompare, refLatest, refRange } from './reference.ts'

const CASES = 30

let fx: Fixture
let engine: QueryEngine
const rowsByVersion = new Map<number, Quote[]>()
let cryptos: string[]
let timestamps: Map<number, number>

before(async () => {
  fx = await quoteFixture()
  engine = new QueryEngine({ table: fx.warehouse.quotes, duckdb: fx.duckdb })
  const all = await rowsAt(await fx.warehouse.quotes.snapshot())
  cryptos = [...new Set(all.map((q) => q.crypto))].sort()
  timestamps = new Map((await fx.warehouse.quotes.history()).map((h) => [h.version, h.timestamp]))
})

after(() => {
  engine.close()
  fx.close()
})

async function rowsAt(snapshot: Snapshot): Promise<Quote[]> {
  let rows = rowsByVersion.get(snapshot.version)
  if (!rows) {
    rows = await allRows(fx.duckdb, fx.warehouse.quotes, snapshot)
    rowsByVersion.set(snapshot.version, rows)
  }
  return rows
}

type Rng = ReturnType<typeof seeded>

/** Half the cases read the latest version, the others travel by version or by commit time. */
function randomAsOf(rng: Rng): AsOf | undefined {
  const r = rng.next()
  if (r < 0.5) return undefined
  const version = rng.pick(fx.versions)
  return r < 0.75 ? { version } : { timestamp: timestamps.get(version)! + rng.int(0, 5) }
}

async function referenceRows(asOf: AsOf | undefined): Promise<Quote[]> {
  return rowsAt(await fx.warehouse.quotes.snapshot(asOf ?? {}))
}

/** A random inclusive range around the data, sometimes open on one or both ends. */
function randomRange(rng: Rng): { start?: number; end?: number } {
  const a = START - HOUR + rng.int(0, 3 * 24 * 12 + 24) * 300_000_000 + rng.pick([0, 1, 150_000_000])
  const b = a + rng.int(1, 36) * HOUR + rng.pick([-HOUR, 0, -1, 299_999_999])
  const kind = rng.int(0, 5)
  if (kind === 0) return {}
  if (kind === 1) return { start: a }
  if (kind === 2) return { end: b }
  return { start: a, end: b }
}

test('readRange equals a brute-force scan of every file, with projection, order, limit and asOf', async () => {
  const rng = seeded(1)
  for (let i = 0; i < CASES; i++) {
    const asOf = randomAsOf(rng)
    const range = randomRange(rng)
    const crypto = rng.pick(cryptos)
    const sources = rng.pick([undefined, ['simulated'], ['coingecko'], ['simulated', 'coingecko']])
    const columns =
      rng.next() < 0.5
        ? undefined
        : ([...new Set([rng.pick(QUOTE_FIELDS), rng.pick(QUOTE_FIELDS)])] as QuoteField[])
    const limit = rng.next() < 0.3 ? rng.int(0, 50) : undefined
    const order = rng.pick(['asc', 'desc'] as const)
    const q = {
      crypto,
      ...range,
      ...(sources && { sources }),
      ...(columns && { columns }),
      ...(limit !== undefined && { limit }),
      order,
    }
    const got = await engine.readRange({ ...q, ...(asOf && { asOf }) })
    const want = refRange(await referenceRows(asOf), q)
    assert.deepEqual(got.rows, want.rows, `case ${i}: ${JSON.stringify({ q, asOf })}`)
    assert.equal(got.truncated, want.truncated, `case ${i}`)
    assert.ok(got.files_scanned <= got.files_total)
    assert.equal(got.pending_rows, 0)
  }
})

test('candles equal OHLCV computed from every row, for every interval, with and without asOf', async () => {
  const rng = seeded(2)
  for (let i = 0; i < CASES; i++) {
    const asOf = randomAsOf(rng)
    const q = {
      crypto: rng.pick(cryptos),
      interval: CANDLE_INTERVALS[i % CANDLE_INTERVALS.length]!,
      ...randomRange(rng),
      ...(rng.next() < 0.6 && { source: rng.pick(['simulated', 'coingecko']) }),
    }
    const got = await engine.candles({ ...q, ...(asOf && { asOf }) })
    const want = refCandles(await referenceRows(asOf), q)
    assert.deepEqual(got.candles, want, `case ${i}: ${JSON.stringify({ q, asOf })}`)
    for (const c of got.candles) assert.equal(c.ts % INTERVAL_MICROS[q.interval], 0)
  }
})

test('compare equals per-source closes and spreads computed from every row', async () => {
  const rng = seeded(3)
  let sawSpread = false
  for (let i = 0; i < CASES; i++) {
    const asOf = randomAsOf(rng)
    const sources = rng.pick([undefined, ['coingecko', 'simulated'], ['simulated']])
    const q = {
      crypto: rng.pick(cryptos),
      interval: rng.pick(CANDLE_INTERVALS),
      ...randomRange(rng),
      ...(sources && { sources }),
    }
    const got = await engine.compare({ ...q, ...(asOf && { asOf }) })
    const want = refCompare(await referenceRows(asOf), q)
    assert.deepEqual(
      { sources: got.sources, points: got.points },
      want,
      `case ${i}: ${JSON.stringify({ q, asOf })}`,
    )
    sawSpread ||= got.points.some((p) => p.spread_pct !== null && p.spread_pct > 0)
  }
  assert.ok(sawSpread, 'some cases compare two sources')
})

test('latest equals the market overview computed from every row, for every sort, with and without asOf', async () => {
  const rng = seeded(4)
  for (let i = 0; i < CASES; i++) {
    const asOf = randomAsOf(rng)
    const q = {
      sort: LATEST_SORTS[i % LATEST_SORTS.length]!,
      ...(rng.next() < 0.3 && { order: rng.pick(['asc', 'desc'] as const) }),
      ...(rng.next() < 0.5 && { limit: rng.int(1, 10) }),
      ...(rng.next() < 0.3 && { source: rng.pick(['simulated', 'coingecko']) }),
    }
    const got = await engine.latest({ ...q, ...(asOf && { asOf }) })
    const want = refLatest(await referenceRows(asOf), q)
    assert.equal(got.assets_total, want.total, `case ${i}`)
    assert.deepEqual(got.rows, want.rows, `case ${i}: ${JSON.stringify({ q, asOf })}`)
  }
})

test('the fixture exercises what the references check: two sources, changes both null and defined', async () => {
  const latest = await engine.latest({})
  assert.equal(latest.rows.length, cryptos.length)
  assert.ok(latest.rows.some((r) => r.source === 'coingecko'))
  assert.ok(latest.rows.some((r) => r.source === 'simulated'))
  assert.ok(latest.rows.every((r) => r.price_change_24h_pct !== null && r.price_change_7d_pct === null))
  assert.ok(latest.rows.every((r) => r.sparkline.length === 169 && r.sparkline.at(-1) !== null))
  assert.equal(END - START, 3 * DAY)
})
