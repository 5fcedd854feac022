/**
 * The query benchmark's reads over HTTP, as the dashboard makes them: `cryptoviz serve` over the
 * benchmark table (read-only without a broker, so the cached table is never written) in a child
 * process on 127.0.0.1, and `fetch` from this process, one request at a time. Each sample is the
 * whole request: routing, validation, the engine, JSON encoding and the loopback round trip.
 */
import type { DayPick } from './query-peers.ts'
import { CryptovizProcess } from '../test/harness/cryptoviz-process.ts'

const DAY = 86_400_000_000
const WEEK = 7 * DAY

export interface HttpSamples {
  /** GET /api/v1/quotes for one asset-day, per pick, ms. */
  oneDay: number[]
  /** The server's build of the maintained market state at start (its `market state ready` log), ms. */
  stateBuildMs: number
  /** The first GET /api/v1/latest once that build is done, ms. */
  latestFirst: number
  /** Later GET /api/v1/latest, ms. */
  latest: number[]
  /** GET /api/v1/candles, 1h over the last 7 days of one asset (the maintained state), ms. */
  recentCandles: number[]
  /** Rows the first one-day request returned (checked against the in-process read). */
  oneDayRows: number
}

const iso = (us: number): string => new Date(us / 1000).toISOString()

async function timedGet(url: string): Promise<{ ms: number; body: unknown }> {
  const t = performance.now()
  const res = await fetch(url)
  const body: unknown = await res.json()
  const ms = performance.now() - t
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`)
  return { ms, body }
}

/** `warmup` untimed requests of each kind first; `picks` give the asset-days (and candle assets). */
export async function measureHttp(
  warehouse: string,
  picks: readonly DayPick[],
  o: { end: number; warmup: number; runs: number; log: (m: string) => void },
): Promise<HttpSamples> {
  const proc = new CryptovizProcess([
    'serve',
    '--warehouse',
    warehouse,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--rate-limit-rps',
    '0',
    '--log-level',
    'info',
  ])
  try {
    const running = await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 120_000)
    const base = running['url'] as string
    o.log(`http: cryptoviz serve at ${base}`)
    const ready = await proc.waitForLog((l) => l.msg === 'market state ready', 600_000)
    const stateBuildMs = ready['ms'] as number
    o.log(`http: market state built at start in ${stateBuildMs} ms`)
    const latestUrl = `${base}/api/v1/latest?limit=100`
    const latestFirst = (await timedGet(latestUrl)).ms
    const oneDay: number[] = []
    const latest: number[] = []
    const recentCandles: number[] = []
    let oneDayRows = -1
    for (let i = -o.warmup; i < o.runs; i++) {
      const p = picks[(i + picks.length) % picks.length]!
      const q = await timedGet(
        `${base}/api/v1/quotes?crypto=${p.crypto}&start=${iso(p.day)}&end=${iso(p.day + DAY - 1)}&limit=100000`,
      )
      if (oneDayRows < 0) oneDayRows = (q.body as { rows: unknown[] }).rows.length
      const l = await timedGet(latestUrl)
      const c = await timedGet(
        `${base}/api/v1/candles?crypto=${p.crypto}&interval=1h&start=${iso(o.end - WEEK)}&end=${iso(o.end - 1)}`,
      )
      if (i < 0) continue
      oneDay.push(q.ms)
      latest.push(l.ms)
      recentCandles.push(c.ms)
    }
    return { oneDay, stateBuildMs, latestFirst, latest, recentCandles, oneDayRows }
  } finally {
    proc.child.kill('SIGTERM')
    await proc.exited
  }
}
