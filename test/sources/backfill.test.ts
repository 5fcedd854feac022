import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Quote } from '../../src/model/quote.ts'
import {
  backfill,
  backfillWindows,
  type BackfillProgress,
  type BackfillRequest,
  type BackfillSink,
} from '../../src/sources/backfill.ts'
import { CoinGeckoClient } from '../../src/sources/coingecko-client.ts'
import type { DeadLetter } from '../../src/model/dead-letter.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { cgBitcoin } from './helpers/fixtures.ts'
import { startProviderServer, type RecordedRequest, type Reply } from './helpers/provider-server.ts'

const sec = (iso: string): number => Date.parse(iso) / 1000
const JAN = Date.parse('2024-01-01T00:00:00Z')
const JUL = Date.parse('2024-07-01T00:00:00Z')

/** An in-memory sink with Delta-like txn semantics: a version at or below the recorded one is skipped. */
class MemorySink implements BackfillSink {
  readonly rows: Quote[] = []
  readonly versions = new Map<string, number>()
  readonly log: string[] = []
  async append(quotes: Quote[], txn: { appId: string; version: number }): Promise<'committed' | 'skipped'> {
    const recorded = this.versions.get(txn.appId)
    if (recorded !== undefined && txn.version <= recorded) {
      this.log.push(`skip ${txn.appId}@${txn.version}`)
      return 'skipped'
    }
    this.rows.push(...quotes)
    this.versions.set(txn.appId, txn.version)
    this.log.push(`commit ${txn.appId}@${txn.version} (${quotes.length})`)
    return 'committed'
  }
  async txnVersion(appId: string): Promise<number | undefined> {
    return this.versions.get(appId)
  }
}

/** Hourly points on the hour within [from, to] (inclusive, as CoinGecko answers). */
function hourlyChart(fromSec: number, toSec: number): Record<string, [number, number][]> {
  const prices: [number, number][] = []
  const caps: [number, number][] = []
  const volumes: [number, number][] = []
  for (let t = Math.ceil(fromSec / 3600) * 3600; t <= toSec; t += 3600) {
    const price = 40_000 + ((t / 3600) % 1000)
    prices.push([t * 1000, price])
    caps.push([t * 1000, price * 19_600_000])
    volumes.push([t * 1000, 2e10 + (t % 7)])
  }
  return { prices, market_caps: caps, total_volumes: volumes }
}

const CHART = /^\/api\/v3\/coins\/([^/]+)\/market_chart\/range$/

async function coingecko(t: TestContext, override?: (req: RecordedRequest, n: number) => Reply | undefined) {
  let charts = 0
  const server = await startProviderServer(t, (req) => {
    if (req.path === '/api/v3/coins/markets') {
      const ids = (req.query.get('ids') ?? '').split(',')
      return { body: [cgBitcoin()].filter((c) => ids.includes(c['id'] as string)) }
    }
    const m = CHART.exec(req.path)
    if (m === null) return { status: 404, body: { error: 'Not found' } }
    const custom = override?.(req, ++charts)
    if (custom !== undefined) return custom
    if (m[1] !== 'bitcoin') return { status: 404, body: { error: 'coin not found' } }
    return { body: hourlyChart(Number(req.query.get('from')), Number(req.query.get('to'))) }
  })
  const clock = new FakeClock('2024-07-02T12:00:00Z')
  const client = new CoinGeckoClient(
    {
      baseUrl: server.baseUrl,
      retry: { maxAttempts: 1 },
      rateLimit: { requestsPerMinute: 6000, burst: 100 },
    },
    clock.deps(),
  )
  const charted = (): [number, number][] =>
    server.requests
      .filter((r) => CHART.test(r.path))
      .map((r) => [Number(r.query.get('from')), Number(r.query.get('to'))])
  return { server, clock, client, charted }
}

function request(
  base: Pick<BackfillRequest, 'client' | 'sink'> & { clock: FakeClock },
  more: Partial<BackfillRequest> = {},
): BackfillRequest {
  return {
    client: base.client,
    sink: base.sink,
    deps: base.clock,
    cryptos: ['bitcoin'],
    from: JAN,
    to: JUL,
    ...more,
  }
}

test('cuts the range into windows of at most 90 days on a fixed grid from the epoch', () => {
  assert.deepEqual(backfillWindows(sec('2024-01-01T00:00:00Z'), sec('2024-07-01T00:00:00Z'), 90), [
    { from: sec('2024-01-01T00:00:00Z'), to: sec('2024-03-18T00:00:00Z') },
    { from: sec('2024-03-18T00:00:00Z'), to: sec('2024-06-16T00:00:00Z') },
    { from: sec('2024-06-16T00:00:00Z'), to: sec('2024-07-01T00:00:00Z') },
  ])
  // Another start inside the same cell cuts at the same grid boundary.
  assert.equal(
    backfillWindows(sec('2024-02-10T00:00:00Z'), sec('2024-07-01T00:00:00Z'), 90)[0]?.to,
    sec('2024-03-18T00:00:00Z'),
  )
})

test('backfills hourly price, market cap and volume window by window into the sink', async (t) => {
  const { client, clock, charted } = await coingecko(t)
  const sink = new MemorySink()
  const progress: BackfillProgress[] = []
  const report = await backfill(
    request({ client, sink, clock }, { onProgress: (p) => void progress.push(p) }),
  )

  assert.deepEqual(charted(), [
    [sec('2024-01-01T00:00:00Z'), sec('2024-03-18T00:00:00Z')],
    [sec('2024-03-18T00:00:00Z'), sec('2024-06-16T00:00:00Z')],
    [sec('2024-06-16T00:00:00Z'), sec('2024-07-01T00:00:00Z')],
  ])
  assert.ok(charted().every(([f, to]) => to - f <= 90 * 86_400))
  assert.equal(sink.rows.length, 182 * 24)
  const ts = sink.rows.map((q) => q.ts)
  assert.equal(new Set(ts).size, ts.length)
  assert.deepEqual(
    ts,
    [...ts].sort((a, b) => a - b),
  )
  assert.equal(ts[0], JAN * 1000)
  assert.equal(ts.at(-1), (JUL - 3_600_000) * 1000)
  const first = sink.rows[0]
  const price = 40_000 + ((JAN / 3_600_000) % 1000)
  assert.deepEqual(first, {
    ts: JAN * 1000,
    source: 'coingecko',
    crypto: 'bitcoin',
    symbol: 'BTC',
    name: 'Bitcoin',
    price_usd: price,
    market_cap_usd: price * 19_600_000,
    volume_24h_usd: 2e10 + ((JAN / 1000) % 7),
    change_1h_pct: null,
    change_24h_pct: null,
    change_7d_pct: null,
    circulating_supply: null,
    total_supply: null,
    max_supply: null,
    rank: null,
    ingested_at: clock.now() * 1000,
  })
  assert.deepEqual([...sink.versions], [['backfill:coingecko:bitcoin', sec('2024-07-01T00:00:00Z')]])
  assert.deepEqual(progress, [
    { done: 1, total: 3, crypto: 'bitcoin' },
    { done: 2, total: 3, crypto: 'bitcoin' },
    { done: 3, total: 3, crypto: 'bitcoin' },
  ])
  assert.deepEqual(report, [
    { crypto: 'bitcoin', windows: 3, committed: 3, skipped: 0, quotes: 4368, deadLetters: 0, error: null },
  ])
})

test('a rerun over the same range fetches nothing and adds nothing', async (t) => {
  const { client, clock, charted } = await coingecko(t)
  const sink = new MemorySink()
  await backfill(request({ client, sink, clock }))
  const rows = sink.rows.length
  const fetched = charted().length
  const progress: BackfillProgress[] = []
  const report = await backfill(
    request({ client, sink, clock }, { onProgress: (p) => void progress.push(p) }),
  )
  assert.equal(sink.rows.length, rows)
  assert.equal(charted().length, fetched)
  assert.equal(report[0]?.committed, 0)
  assert.equal(report[0]?.skipped, 3)
  assert.deepEqual(progress.at(-1), { done: 3, total: 3, crypto: 'bitcoin' })
})

test('an interrupted backfill resumes after its last committed window', async (t) => {
  let failSecond = true
  const { client, clock, charted } = await coingecko(t, (_, n) => {
    if (n === 2 && failSecond) return { status: 503, body: '<html>Service Unavailable</html>' }
    return undefined
  })
  const sink = new MemorySink()
  const first = await backfill(request({ client, sink, clock }))
  assert.match(first[0]?.error ?? '', /HTTP 503/)
  assert.equal(first[0]?.committed, 1)
  assert.deepEqual([...sink.versions.values()], [sec('2024-03-18T00:00:00Z')])
  failSecond = false
  const second = await backfill(request({ client, sink, clock }))
  assert.deepEqual(second[0], {
    crypto: 'bitcoin',
    windows: 3,
    committed: 2,
    skipped: 1,
    quotes: 4368 - 77 * 24,
    deadLetters: 0,
    error: null,
  })
  assert.deepEqual(
    charted().map(([f]) => f),
    [
      sec('2024-01-01T00:00:00Z'),
      sec('2024-03-18T00:00:00Z'),
      sec('2024-03-18T00:00:00Z'),
      sec('2024-06-16T00:00:00Z'),
    ],
  )
  const ts = sink.rows.map((q) => q.ts)
  assert.equal(ts.length, 182 * 24)
  assert.equal(new Set(ts).size, ts.length)
})

test('an aborted backfill throws, and the rerun continues where it stopped', async (t) => {
  const ctrl = new AbortController()
  const { client, clock, charted } = await coingecko(t)
  const sink = new MemorySink()
  await assert.rejects(
    backfill(
      request(
        { client, sink, clock },
        {
          signal: ctrl.signal,
          onProgress: (p) => (p.done === 1 ? ctrl.abort(new Error('interrupted')) : undefined),
        },
      ),
    ),
    /interrupted/,
  )
  assert.equal(sink.versions.size, 1)
  await backfill(request({ client, sink, clock }))
  assert.equal(charted().length, 3)
  assert.equal(sink.rows.length, 182 * 24)
})

test('a later end extends the backfill from where the last run ended', async (t) => {
  const { client, clock, charted } = await coingecko(t)
  const sink = new MemorySink()
  await backfill(request({ client, sink, clock }))
  const later = Date.parse('2024-07-02T12:00:00Z')
  const report = await backfill(request({ client, sink, clock }, { to: later }))
  assert.deepEqual(charted().at(-1), [sec('2024-07-01T00:00:00Z'), sec('2024-07-02T12:00:00Z')])
  assert.equal(report[0]?.quotes, 36)
  assert.equal(sink.rows.length, 182 * 24 + 36)
  assert.equal(sink.versions.get('backfill:coingecko:bitcoin'), later / 1000)
})

test('an unknown coin is reported and the other cryptos still run', async (t) => {
  const { client, clock } = await coingecko(t)
  const sink = new MemorySink()
  const progress: BackfillProgress[] = []
  const report = await backfill(
    request(
      { client, sink, clock },
      { cryptos: ['no-such-coin', 'bitcoin'], onProgress: (p) => void progress.push(p) },
    ),
  )
  assert.match(report[0]?.error ?? '', /no coin with id "no-such-coin"/)
  assert.equal(report[1]?.committed, 3)
  assert.deepEqual(progress.at(-1), { done: 6, total: 6, crypto: 'bitcoin' })
})

test('a coin the chart endpoint does not know is reported with the provider message', async (t) => {
  const { client, clock } = await coingecko(t)
  const sink = new MemorySink()
  const report = await backfill(
    request(
      { client, sink, clock },
      { cryptos: ['ghost'], assets: { ghost: { symbol: 'GST', name: 'Ghost' } } },
    ),
  )
  assert.match(report[0]?.error ?? '', /HTTP 404: \{"error":"coin not found"\}/)
  assert.equal(sink.rows.length, 0)
})

test('bad chart points become dead letters and the good ones are kept', async (t) => {
  const t0 = sec('2024-06-20T00:00:00Z') * 1000
  const prices = [
    [t0, 61000.5],
    [t0 + 3_600_000, null],
    [t0 + 7_200_000, -1],
    ['2024-06-20T03:00:00Z', 61000],
    [t0 + 14_400_000, 61200],
  ]
  const { client, clock } = await coingecko(t, () => ({
    body: { prices, market_caps: [], total_volumes: [] },
  }))
  const sink = new MemorySink()
  const dls: DeadLetter[] = []
  const report = await backfill(
    request(
      { client, sink, clock },
      {
        from: Date.parse('2024-06-20T00:00:00Z'),
        to: Date.parse('2024-06-21T00:00:00Z'),
        onDeadLetters: (d) => void dls.push(...d),
      },
    ),
  )
  assert.deepEqual(
    sink.rows.map((q) => [q.ts / 1000, q.price_usd, q.market_cap_usd]),
    [
      [t0, 61000.5, null],
      [t0 + 14_400_000, 61200, null],
    ],
  )
  assert.deepEqual(
    dls.map((d) => [d.reason, d.raw]),
    [
      ['price_missing', [t0 + 3_600_000, null]],
      ['price_not_positive', [t0 + 7_200_000, -1]],
      ['shape_invalid', ['2024-06-20T03:00:00Z', 61000]],
    ],
  )
  assert.equal(report[0]?.deadLetters, 3)
})

test('refuses an empty range', async (t) => {
  const { client, clock } = await coingecko(t)
  await assert.rejects(
    backfill(request({ client, sink: new MemorySink(), clock }, { from: JUL, to: JUL })),
    /range is empty/,
  )
})
