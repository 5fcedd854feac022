import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../harness/cryptoviz-process.ts'
import { startProviderServer } from '../sources/helpers/provider-server.ts'

const END = Date.parse('2024-04-01T00:00:00Z')
const HOUR = 3_600_000

/** CoinGecko's documented market_chart/range answer: hourly [ms, value] points for 1–90 day ranges. */
function chart(from: number, to: number, skip: (ms: number) => boolean) {
  const prices: [number, number | null][] = []
  const caps: [number, number][] = []
  const volumes: [number, number][] = []
  for (let ms = Math.ceil((from * 1000) / HOUR) * HOUR; ms < to * 1000; ms += HOUR) {
    if (skip(ms)) continue
    const price = 60_000 + ((ms / HOUR) % 1000)
    prices.push([ms, price])
    caps.push([ms, price * 19_000_000])
    volumes.push([ms, 25e9])
  }
  // One malformed point, which must end up as a dead letter, not as a quote.
  prices.push([END - 5 * HOUR + 1_234, null])
  return { prices, market_caps: caps, total_volumes: volumes }
}

test('backfill writes CoinGecko history through the lake, a rerun adds nothing, and gaps finds the hole', async (t) => {
  const silence = { from: END - 30 * HOUR, to: END - 20 * HOUR }
  const server = await startProviderServer(t, (req) => {
    if (req.path === '/api/v3/coins/markets') {
      return {
        body: [
          {
            id: 'bitcoin',
            symbol: 'btc',
            name: 'Bitcoin',
            current_price: 1,
            last_updated: new Date(END).toISOString(),
          },
        ],
      }
    }
    const m = /^\/api\/v3\/coins\/([a-z0-9-]+)\/market_chart\/range$/.exec(req.path)
    if (m) {
      const from = Number(req.query.get('from'))
      const to = Number(req.query.get('to'))
      return { body: chart(from, to, (ms) => ms > silence.from && ms < silence.to) }
    }
    return { status: 404, body: { error: 'not found' } }
  })
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-backfill-'))
  const env = { CRYPTOVIZ_COINGECKO_BASE_URL: server.baseUrl, CRYPTOVIZ_LOG_LEVEL: 'warn' }
  const args = [
    'backfill',
    '--warehouse',
    warehouse,
    '--source',
    'coingecko',
    '--crypto',
    'bitcoin',
    '--days',
    '10',
    '--end',
    new Date(END).toISOString(),
  ]
  const first = await runCli(args, env)
  assert.equal(first.code, 0, first.stderr)
  const [report] = JSON.parse(first.stdout) as { quotes: number; committed: number; deadLetters: number }[]
  assert.equal(report!.quotes, 10 * 24 - 9)
  assert.ok(report!.committed >= 1)
  assert.equal(report!.deadLetters, 1)
  assert.match(first.stderr, /backfill: 100%/)

  const requestsBefore = server.requests.length
  const again = await runCli(args, env)
  assert.equal(again.code, 0, again.stderr)
  const [rerun] = JSON.parse(again.stdout) as { quotes: number; committed: number }[]
  assert.equal(rerun!.committed, 0)
  assert.equal(
    server.requests.length - requestsBefore,
    1,
    'only the asset lookup; no window is fetched again',
  )

  const q = await runCli(['query', '--warehouse', warehouse, '--crypto', 'bitcoin', '--sources', 'coingecko'])
  const rows = JSON.parse(q.stdout) as { source: string; price_usd: number }[]
  assert.equal(rows.length, 10 * 24 - 9)
  assert.ok(rows.every((r) => r.source === 'coingecko' && r.price_usd > 0))

  const gaps = await runCli(['gaps', '--warehouse', warehouse, '--interval-ms', String(HOUR), '--json'])
  assert.equal(gaps.code, 0, gaps.stderr)
  const found = JSON.parse(gaps.stdout) as { source: string; crypto: string; durationMs: number }[]
  assert.deepEqual(
    found.map((g) => [g.source, g.crypto, g.durationMs]),
    [['coingecko', 'bitcoin', 10 * HOUR]],
  )
})
