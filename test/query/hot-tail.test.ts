import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Quote } from '../../src/model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../../src/model/quote-table.ts'
import { QueryEngine } from '../../src/query/index.ts'
import { allRows, END, HOUR, quoteFixture, type Fixture } from './fixtures.ts'
import { dedupe, refCandles, refCompare, refLatest, refRange } from './reference.ts'

let fx: Fixture
let committed: Quote[]
let pending: Quote[] = []
let engine: QueryEngine

before(async () => {
  fx = await quoteFixture()
  committed = await allRows(fx.duckdb, fx.warehouse.quotes, await fx.warehouse.quotes.snapshot())
  engine = new QueryEngine({
    table: fx.warehouse.quotes,
    duckdb: fx.duckdb,
    pending: () => pending,
    snapshotTtlMs: 60_000,
  })
})

after(() => {
  engine.close()
  fx.close()
})

const lastOf = (crypto: string, source: string): Quote =>
  committed.filter((q) => q.crypto === crypto && q.source === source).reduce((a, b) => (b.ts > a.ts ? b : a))

/** New quotes after the committed data: the processor's buffer. */
function newQuotes(crypto: string, source: string, n: number): Quote[] {
  const last = lastOf(crypto, source)
  return Array.from({ length: n }, (_, i) => ({
    ...last,
    ts: last.ts + (i + 1) * 300_000_000,
    price_usd: last.price_usd * (1 + (i + 1) / 100),
    ingested_at: last.ts + (i + 1) * 300_000_000,
  }))
}

test('pending quotes appear in readRange, candles, compare and latest at once, counted in pending_rows', async () => {
  pending = [...newQuotes('bitcoin', 'simulated', 3), ...newQuotes('bitcoin', 'coingecko', 2)]
  const all = dedupe([...committed, ...pending])
  const range = { crypto: 'bitcoin', start: END - 2 * HOUR, end: END + 2 * HOUR }

  const r = await engine.readRange(range)
  assert.deepEqual(r.rows, refRange(all, range).rows)
  assert.equal(r.pending_rows, 5)

  const c = await engine.candles({ ...range, interval: '15m' })
  assert.deepEqual(c.candles, refCandles(all, { ...range, interval: '15m' }))
  assert.equal(c.pending_rows, 5)

  const cmp = await engine.compare({ ...range, interval: '5m' })
  assert.deepEqual(
    { sources: cmp.sources, points: cmp.points },
    refCompare(all, { ...range, interval: '5m' }),
  )
  assert.equal(cmp.pending_rows, 5)

  const latest = await engine.latest({})
  assert.deepEqual(latest.rows, refLatest(all, {}).rows)
  const btc = latest.rows.find((x) => x.crypto === 'bitcoin')!
  assert.equal(btc.ts, pending[2]!.ts)
  assert.equal(btc.price_usd, pending[2]!.price_usd)
  assert.equal(latest.pending_rows, 3) // bitcoin's row comes from the source with the newest quote
})

test('a pending quote that is already committed is counted once, and the committed copy wins', async () => {
  const last = committed
    .filter((q) => q.crypto === 'ethereum' && q.source === 'simulated')
    .sort((a, b) => a.ts - b.ts)
    .slice(-4)
  pending = last.map((q) => ({ ...q, price_usd: q.price_usd * 2 }))
  const range = { crypto: 'ethereum', sources: ['simulated'], start: END - HOUR }
  const r = await engine.readRange(range)
  assert.deepEqual(r.rows, refRange(committed, range).rows)
  assert.equal(r.pending_rows, 0)
  const c = await engine.candles({ ...range, source: 'simulated', interval: '1h' })
  assert.deepEqual(c.candles, refCandles(committed, { ...range, source: 'simulated', interval: '1h' }))
  assert.equal(c.pending_rows, 0)
})

test('duplicates inside the hot tail count once: the last received copy wins', async () => {
  const [a] = newQuotes('tether', 'simulated', 1)
  pending = [a!, { ...a!, price_usd: 1.5 }]
  const r = await engine.readRange({ crypto: 'tether', start: a!.ts })
  assert.equal(r.rows.length, 1)
  assert.equal(r.rows[0]!.price_usd, 1.5)
  assert.equal(r.pending_rows, 1)
})

test('includePending:false and asOf reads leave the hot tail out', async () => {
  pending = newQuotes('bitcoin', 'simulated', 2)
  const range = { crypto: 'bitcoin', start: END - HOUR, end: END + HOUR }
  const off = await engine.readRange({ ...range, includePending: false })
  assert.deepEqual(off.rows, refRange(committed, range).rows)
  assert.equal(off.pending_rows, 0)
  const version = (await fx.warehouse.quotes.snapshot()).version
  const past = await engine.readRange({ ...range, asOf: { version } })
  assert.deepEqual(past.rows, off.rows)
  assert.equal((await engine.latest({ asOf: { version } })).pending_rows, 0)
})

test('with the hot tail, a batch that leaves the buffer is visible at once despite the snapshot cache', async () => {
  // Engine and cache warmed with version v; then the "processor" commits its buffer and empties it.
  const batch = newQuotes('solana', 'simulated', 3)
  pending = batch
  const before = await engine.readRange({ crypto: 'solana', start: batch[0]!.ts })
  assert.equal(before.pending_rows, 3)
  const result = await fx.warehouse.quotes.append(batch.map(quoteToRow), { sortBy: QUOTES_SORT_BY })
  assert.equal(result.status, 'committed')
  pending = []
  const afterCommit = await engine.readRange({ crypto: 'solana', start: batch[0]!.ts })
  assert.deepEqual(afterCommit.rows, batch)
  assert.equal(afterCommit.pending_rows, 0)
  assert.equal(afterCommit.version, before.version + 1)
})

test('without the hot tail, the latest snapshot is reused for snapshotTtlMs (a documented lag)', async () => {
  const cached = new QueryEngine({
    table: fx.warehouse.quotes,
    duckdb: fx.duckdb,
    snapshotTtlMs: 60_000,
  })
  const fresh = new QueryEngine({
    table: fx.warehouse.quotes,
    duckdb: fx.duckdb,
    snapshotTtlMs: 0,
  })
  const v0 = (await cached.readRange({ crypto: 'tether', limit: 1 })).version
  const [q] = newQuotes('tether', 'coingecko', 1)
  await fx.warehouse.quotes.append([quoteToRow(q!)], { sortBy: QUOTES_SORT_BY })
  assert.equal((await cached.readRange({ crypto: 'tether', limit: 1 })).version, v0)
  assert.equal((await fresh.readRange({ crypto: 'tether', limit: 1 })).version, v0 + 1)
  cached.close()
  fresh.close()
})
