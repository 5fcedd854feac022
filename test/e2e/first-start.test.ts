/**
 * Alive on first start: `start` on an empty warehouse with the simulated source writes seeded
 * history before serving, so the chart of the last days is full; a restart does not seed again;
 * `--seed-days 0` turns it off.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CryptovizProcess, startCryptoviz } from '../harness/cryptoviz-process.ts'
import { startProviderServer } from '../sources/helpers/provider-server.ts'

const FAST = ['--flush-interval-ms', '1000', '--sim-interval-ms', '500', '--sim-assets', '4']

interface Candles {
  candles: { ts: string; close: number }[]
}

async function hourlyCandles(url: string, crypto: string): Promise<Candles['candles']> {
  const start = new Date(Date.now() - 3 * 86_400_000).toISOString()
  const res = await fetch(`${url}/api/v1/candles?crypto=${crypto}&interval=1h&start=${start}`)
  assert.equal(res.status, 200)
  return ((await res.json()) as Candles).candles
}

test('start seeds two days of simulated history into an empty warehouse, with progress, before serving', async (t) => {
  const { url, proc } = await startCryptoviz(t, FAST, { CRYPTOVIZ_SEED_DAYS: '2' })
  const days = proc.logs.filter((l) => /^seeding simulated history: day \d+\/\d+$/.test(l.msg))
  assert.ok(days.length >= 2, 'a progress line per seeded day')
  const done = proc.logs.find((l) => l.msg === 'seeded simulated history')
  assert.equal(done?.['rows'], 4 * 2 * 1440, 'one quote a minute per asset for two days')
  const candles = await hourlyCandles(url, 'bitcoin')
  assert.ok(candles.length >= 48, `two days of hourly candles, got ${candles.length}`)
  // The seeded path ends where the live simulator starts: no jump at "now".
  const last = candles.at(-1)!.close
  const before = candles.at(-2)!.close
  assert.ok(Math.abs(last / before - 1) < 0.05, `${before} → ${last} continues smoothly`)
  const quotes = (await (await fetch(`${url}/api/v1/quotes?crypto=bitcoin&limit=5&order=asc`)).json()) as {
    rows: { source: string }[]
  }
  assert.deepEqual(new Set(quotes.rows.map((r) => r.source)), new Set(['simulated']))
})

test('a second start on the same warehouse does not seed again, and --seed-days 0 never seeds', async (t) => {
  const { proc, warehouse } = await startCryptoviz(t, FAST, { CRYPTOVIZ_SEED_DAYS: '1' })
  assert.ok(proc.logs.some((l) => l.msg === 'seeded simulated history'))
  proc.child.kill('SIGTERM')
  await proc.exited
  const again = new CryptovizProcess(['start', '--warehouse', warehouse, '--port', '0', ...FAST], {
    CRYPTOVIZ_LOG_LEVEL: 'info',
    CRYPTOVIZ_SOURCE: 'simulated',
    CRYPTOVIZ_SEED_DAYS: '1',
  })
  t.after(() => again.child.kill('SIGKILL'))
  await again.waitForLog((l) => l.msg === 'CryptoViz is running', 20_000)
  assert.equal(again.logs.filter((l) => l.msg.startsWith('empty warehouse')).length, 0)

  const { url, proc: off } = await startCryptoviz(t, FAST, { CRYPTOVIZ_SEED_DAYS: '0' })
  assert.equal(off.logs.filter((l) => l.msg.startsWith('empty warehouse')).length, 0)
  assert.ok((await hourlyCandles(url, 'bitcoin')).length <= 2, 'only the live minutes')
})

test('with live CoinGecko, start backfills the recent history of the first poll’s top assets in the background', async (t) => {
  const HOUR = 3_600_000
  const server = await startProviderServer(t, (req) => {
    if (req.path === '/api/v3/coins/markets') {
      const now = new Date().toISOString()
      return {
        body: [
          {
            id: 'bitcoin',
            symbol: 'btc',
            name: 'Bitcoin',
            current_price: 60_000,
            market_cap_rank: 1,
            last_updated: now,
          },
          {
            id: 'ethereum',
            symbol: 'eth',
            name: 'Ethereum',
            current_price: 3_000,
            market_cap_rank: 2,
            last_updated: now,
          },
        ],
      }
    }
    const m = /^\/api\/v3\/coins\/([a-z0-9-]+)\/market_chart\/range$/.exec(req.path)
    if (m) {
      const from = Number(req.query.get('from')) * 1000
      const to = Number(req.query.get('to')) * 1000
      const base = m[1] === 'bitcoin' ? 60_000 : 3_000
      const prices: [number, number][] = []
      for (let ms = Math.ceil(from / HOUR) * HOUR; ms < to; ms += HOUR)
        prices.push([ms, base + ((ms / HOUR) % 100)])
      return {
        body: {
          prices,
          market_caps: prices.map(([ms, p]) => [ms, p * 1e6]),
          total_volumes: prices.map(([ms]) => [ms, 1e9]),
        },
      }
    }
    return { status: 404, body: { error: 'not found' } }
  })
  const { url, proc } = await startCryptoviz(t, ['--flush-interval-ms', '1000'], {
    CRYPTOVIZ_SOURCE: 'coingecko',
    CRYPTOVIZ_COINGECKO_BASE_URL: server.baseUrl,
    CRYPTOVIZ_SEED_DAYS: '2',
  })
  const started = await proc.waitForLog((l) => l.msg.startsWith('empty warehouse: backfilling 2 days'))
  assert.deepEqual(started['cryptos'], ['bitcoin', 'ethereum'], 'ranked top assets of the first poll')
  const done = await proc.waitForLog((l) => l.msg === 'backfill finished', 30_000)
  assert.ok((done['quotes'] as number) >= 2 * 47, `hourly history of both assets: ${done['quotes']}`)
  assert.deepEqual(done['failed'], [])
  assert.equal(proc.logs.filter((l) => l.msg.startsWith('seeding simulated')).length, 0, 'nothing simulated')
  const candles = await hourlyCandles(url, 'ethereum')
  assert.ok(candles.length >= 47, `two days of hourly ethereum candles, got ${candles.length}`)
})
