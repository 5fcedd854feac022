/**
 * Brute-force references for the engine's reads, in plain JS over every row of a snapshot (see
 * fixtures.ts `allRows`), restating each definition independently of the engine's SQL.
 */
import type { Quote, QuoteField } from '../../src/model/quote.ts'
import type { Candle, CandleInterval, ComparePoint, LatestSort, MarketRow } from '../../src/query/index.ts'
import { INTERVAL_MICROS } from '../../src/query/index.ts'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY

type Range = { start?: number; end?: number }

const inRange = (q: Quote, r: Range): boolean =>
  (r.start === undefined || q.ts >= r.start) && (r.end === undefined || q.ts <= r.end)

/** Quotes with the same (source, crypto, ts) counted once (the first wins: committed rows first). */
export function dedupe(rows: readonly Quote[]): Quote[] {
  const seen = new Set<string>()
  return rows.filter((q) => {
    const key = `${q.source}|${q.crypto}|${q.ts}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** by (ts, source, price) */
const byTime = (a: Quote, b: Quote): number =>
  a.ts - b.ts || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) || a.price_usd - b.price_usd

export function refRange(
  rows: readonly Quote[],
  q: Range & {
    crypto: string
    sources?: string[]
    columns?: QuoteField[]
    limit?: number
    order?: 'asc' | 'desc'
  },
): { rows: Record<string, unknown>[]; truncated: boolean } {
  let out = rows.filter(
    (r) => r.crypto === q.crypto && (!q.sources || q.sources.includes(r.source)) && inRange(r, q),
  )
  out.sort(byTime)
  if (q.order === 'desc') out.reverse()
  const truncated = q.limit !== undefined && out.length > q.limit
  if (q.limit !== undefined) out = out.slice(0, q.limit)
  return {
    truncated,
    rows: out.map((r) => (q.columns ? Object.fromEntries(q.columns.map((c) => [c, r[c]])) : { ...r })),
  }
}

export function refCandles(
  rows: readonly Quote[],
  q: Range & { crypto: string; source?: string; interval: CandleInterval },
): Candle[] {
  const step = INTERVAL_MICROS[q.interval]
  const buckets = new Map<number, Quote[]>()
  for (const r of rows) {
    if (r.crypto !== q.crypto || (q.source !== undefined && r.source !== q.source) || !inRange(r, q)) continue
    const b = Math.floor(r.ts / step) * step
    buckets.set(b, [...(buckets.get(b) ?? []), r])
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([ts, qs]) => {
      qs.sort(byTime)
      const prices = qs.map((x) => x.price_usd)
      return {
        ts,
        open: qs[0]!.price_usd,
        high: Math.max(...prices),
        low: Math.min(...prices),
        close: qs.at(-1)!.price_usd,
        volume: qs.at(-1)!.volume_24h_usd,
        count: qs.length,
      }
    })
}

export function refCompare(
  rows: readonly Quote[],
  q: Range & { crypto: string; interval: CandleInterval; sources?: string[] },
): { sources: string[]; points: ComparePoint[] } {
  const step = INTERVAL_MICROS[q.interval]
  const last = new Map<number, Map<string, Quote>>()
  const found = new Set<string>()
  for (const r of rows) {
    if (r.crypto !== q.crypto || (q.sources && !q.sources.includes(r.source)) || !inRange(r, q)) continue
    found.add(r.source)
    const b = Math.floor(r.ts / step) * step
    const m = last.get(b) ?? new Map<string, Quote>()
    const prev = m.get(r.source)
    if (!prev || r.ts > prev.ts || (r.ts === prev.ts && r.price_usd > prev.price_usd)) m.set(r.source, r)
    last.set(b, m)
  }
  const points = [...last.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([ts, m]) => {
      const prices: Record<string, number> = {}
      for (const s of [...m.keys()].sort()) prices[s] = m.get(s)!.price_usd
      const values = Object.values(prices)
      const min = Math.min(...values)
      return { ts, prices, spread_pct: values.length < 2 ? null : ((Math.max(...values) - min) / min) * 100 }
    })
  return { sources: q.sources ?? [...found].sort(), points }
}

const SORT_FIELD: Record<LatestSort, keyof MarketRow> = {
  rank: 'rank',
  market_cap: 'market_cap_usd',
  price: 'price_usd',
  volume: 'volume_24h_usd',
  change_1h: 'price_change_1h_pct',
  change_24h: 'price_change_24h_pct',
  change_7d: 'price_change_7d_pct',
  name: 'name',
}

export function refLatest(
  rows: readonly Quote[],
  q: { source?: string; limit?: number; sort?: LatestSort; order?: 'asc' | 'desc' },
): { total: number; rows: MarketRow[] } {
  const byKey = new Map<string, Quote[]>()
  for (const r of rows) {
    if (q.source !== undefined && r.source !== q.source) continue
    const key = `${r.source}|${r.crypto}`
    byKey.set(key, [...(byKey.get(key) ?? []), r])
  }
  const perCrypto = new Map<string, Quote[]>()
  for (const qs of byKey.values()) {
    qs.sort(byTime)
    const last = qs.at(-1)!
    const prev = perCrypto.get(last.crypto)?.at(-1)
    if (!prev || last.ts > prev.ts || (last.ts === prev.ts && last.source < prev.source))
      perCrypto.set(last.crypto, qs)
  }
  const market = [...perCrypto.values()].map((qs): MarketRow => {
    const last = qs.at(-1)!
    const L = last.ts
    const window = qs.filter((x) => x.ts >= L - WEEK)
    const change = (p: number): number | null => {
      const base = window
        .filter((x) => x.ts >= L - p)
        .sort((a, b) => a.ts - b.ts || a.price_usd - b.price_usd)[0]!
      return base.ts > L - p + p / 4 ? null : (last.price_usd / base.price_usd - 1) * 100
    }
    const startHour = Math.floor((L - WEEK) / HOUR)
    const sparkline: (number | null)[] = []
    for (let h = startHour; h <= Math.floor(L / HOUR); h++) {
      const inHour = window
        .filter((x) => Math.floor(x.ts / HOUR) === h)
        .sort((a, b) => a.ts - b.ts || a.price_usd - b.price_usd)
      sparkline.push(inHour.at(-1)?.price_usd ?? null)
    }
    return {
      ...last,
      price_change_1h_pct: change(HOUR),
      price_change_24h_pct: change(DAY),
      price_change_7d_pct: change(WEEK),
      sparkline_start: startHour * HOUR,
      sparkline,
    }
  })
  const sort = q.sort ?? 'rank'
  const order = q.order ?? (sort === 'rank' || sort === 'name' ? 'asc' : 'desc')
  const field = SORT_FIELD[sort]
  market.sort((a, b) => {
    const x = a[field] as number | string | null
    const y = b[field] as number | string | null
    if (x === null && y !== null) return 1
    if (y === null && x !== null) return -1
    if (x !== null && y !== null && x !== y) return (x < y ? -1 : 1) * (order === 'asc' ? 1 : -1)
    return a.crypto < b.crypto ? -1 : 1
  })
  return { total: market.length, rows: market.slice(0, q.limit ?? 100) }
}
