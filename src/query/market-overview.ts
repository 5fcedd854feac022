/**
 * `latest`: the market overview. Per asset, its last quote, price changes over 1h/24h/7d computed
 * from the lake's own prices, and a 7-day hourly sparkline.
 *
 * Pruning is per (source, crypto) by the date partitions: an asset's window is the 7 days before
 * its last quote, so only the day partition of its last file and the 7 days before are read,
 * whatever the table's size (and, without a source filter, only the sources whose last day is the
 * asset's newest). The per-snapshot index of keys and days is built once per snapshot.
 *
 * Definitions (the reference test restates them):
 * - Each asset's row comes from one source: the given one, or else the source with the newest
 *   quote (ties: source name order). Its last quote is the max by (ts, price).
 * - price_change_P_pct = (price / base − 1) × 100, where base is the price of the first quote (by
 *   ts, then price) with ts ≥ last.ts − P; null when that quote is later than last.ts − P + P/4
 *   (the history does not reach back far enough).
 * - sparkline[i] = last price (by ts, then price) in UTC hour `sparkline_start + i h`, over quotes
 *   with ts ≥ last.ts − 7d; null for an hour without quotes.
 */
import type { AddFile, Snapshot } from '../lake/index.ts'
import { QUOTE_FIELDS, type Quote } from '../model/quote.ts'
import { sqlIdent, sqlString } from './duckdb.ts'
import { distinctFiles, selectPending } from './quote-relation.ts'
import { num, numOrNull, sourcesOf, type ReadContext } from './read-context.ts'
import { checkLimit, invalid, type ReadOptions, type ScanInfo } from './types.ts'

export const LATEST_SORTS = [
  'rank',
  'market_cap',
  'price',
  'volume',
  'change_1h',
  'change_24h',
  'change_7d',
  'name',
] as const
export type LatestSort = (typeof LATEST_SORTS)[number]

export interface LatestQuery extends ReadOptions {
  /** Default 100. */
  limit?: number
  /** Default 'rank'. */
  sort?: LatestSort
  /** Default asc for rank and name, desc otherwise; nulls always last. */
  order?: 'asc' | 'desc'
  /** Per asset, the source with the newest quote among `sources` (`SourceFilter`; omitted: all). */
  sources?: readonly string[] | undefined
  /** @deprecated One source, the same as `sources: [source]`. */
  source?: string | undefined
}

export interface MarketRow extends Quote {
  price_change_1h_pct: number | null
  price_change_24h_pct: number | null
  price_change_7d_pct: number | null
  /** Start of the first sparkline hour, µs. */
  sparkline_start: number
  /** Last price per UTC hour, oldest first (≤ 169 points); null = no quote that hour. */
  sparkline: (number | null)[]
}

export interface LatestResult extends ScanInfo {
  /** Assets found (before the limit). */
  assets_total: number
  rows: MarketRow[]
}

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const WINDOW = 7 * DAY
const WINDOW_DAYS = 7
export const CHANGE_PERIODS = { '1h': HOUR, '24h': DAY, '7d': WINDOW } as const

export const SORT_FIELD: Record<LatestSort, keyof MarketRow> = {
  rank: 'rank',
  market_cap: 'market_cap_usd',
  price: 'price_usd',
  volume: 'volume_24h_usd',
  change_1h: 'price_change_1h_pct',
  change_24h: 'price_change_24h_pct',
  change_7d: 'price_change_7d_pct',
  name: 'name',
}

interface KeyIndex {
  source: string
  crypto: string
  /** Days since the epoch of the newest date partition. */
  lastDay: number
  files: { file: AddFile; day: number | undefined }[]
}

const indexes = new WeakMap<Snapshot, Map<string, KeyIndex>>()

export async function marketOverview(ctx: ReadContext, q: LatestQuery): Promise<LatestResult> {
  checkLimit(q.limit)
  const sort = q.sort ?? 'rank'
  if (!(LATEST_SORTS as readonly string[]).includes(sort)) {
    throw invalid(`sort must be one of ${LATEST_SORTS.join(', ')}, got "${sort}"`)
  }
  const order = q.order ?? (sort === 'rank' || sort === 'name' ? 'asc' : 'desc')
  const only = sourcesOf(q)
  const allowed = only && new Set(only)
  const hot = selectPending(ctx.pending, { ...(allowed && { sources: allowed }) })

  // Last day per (source, crypto) from the file index and the hot tail.
  const keys = new Map<
    string,
    { source: string; crypto: string; lastDay: number; files: KeyIndex['files'] }
  >()
  for (const k of keyIndex(ctx.snapshot).values()) {
    if (!allowed || allowed.has(k.source)) keys.set(keyOf(k.source, k.crypto), { ...k })
  }
  for (const quote of hot) {
    const key = keyOf(quote.source, quote.crypto)
    const day = Math.floor(quote.ts / DAY)
    const k = keys.get(key)
    if (!k) keys.set(key, { source: quote.source, crypto: quote.crypto, lastDay: day, files: [] })
    else if (day > k.lastDay) k.lastDay = day
  }
  // Only the sources with the asset's newest day can hold its last quote.
  const newestDay = new Map<string, number>()
  for (const k of keys.values())
    newestDay.set(k.crypto, Math.max(newestDay.get(k.crypto) ?? -Infinity, k.lastDay))
  const candidates = [...keys.values()].filter((k) => k.lastDay === newestDay.get(k.crypto))
  const files = candidates.flatMap((k) =>
    k.files.filter((f) => f.day === undefined || f.day >= k.lastDay - WINDOW_DAYS).map((f) => f.file),
  )
  const lastDayFiles = candidates.flatMap((k) =>
    k.files.filter((f) => f.day === undefined || f.day === k.lastDay).map((f) => f.file),
  )
  const candidateKeys = new Set(candidates.map((k) => keyOf(k.source, k.crypto)))
  const candidateHot = hot.filter((h) => candidateKeys.has(keyOf(h.source, h.crypto)))
  const dedupFiles = ctx.dedupFiles(candidateHot)

  // Two relations: the full last quote (all columns, only each asset's last day partition: it
  // also yields the last ts) and the window's prices (4 columns over 8 days of files), read in a
  // single pass grouped by hour. Per hour it keeps the close (sparkline) and, per period, the first
  // quote at or after last.ts − period; the earliest of those over the hours is the base.
  const quoteStruct = `{${QUOTE_FIELDS.map((f) => `${sqlString(f)}: ${sqlIdent(f)}`).join(', ')}}`
  const byHour = Object.entries(CHANGE_PERIODS)
    .map(
      ([name, p]) => `min(w.ts) FILTER (WHERE w.ts >= l - ${p}) AS t_${name},
        arg_min(w.price_usd, {'t': w.ts, 'p': w.price_usd}) FILTER (WHERE w.ts >= l - ${p}) AS b_${name}`,
    )
    .join(',\n')
  const byKey = Object.keys(CHANGE_PERIODS)
    .map((name) => `min(t_${name}) AS base_ts_${name}, arg_min(b_${name}, t_${name}) AS base_${name}`)
    .join(', ')
  const rows =
    (await ctx.selectMany(
      [
        { files: lastDayFiles, columns: QUOTE_FIELDS, hot: candidateHot, dedupFiles },
        { files, columns: ['ts', 'source', 'crypto', 'price_usd'], hot: candidateHot, dedupFiles },
      ],
      ([full, window]) => `WITH last AS (SELECT source, crypto, max(ts) AS l,
            arg_max(${quoteStruct}, {'t': ts, 'p': price_usd}) AS quote
          FROM (${full}) GROUP BY ALL),
        hours AS (SELECT w.source, w.crypto, w.ts // ${HOUR} AS h,
            arg_max(w.price_usd, {'t': w.ts, 'p': w.price_usd}) AS p, ${byHour},
            count(*) FILTER (WHERE w.hot) AS hot_n
          FROM (${window}) w JOIN last ON w.source = last.source AND w.crypto = last.crypto
          WHERE w.ts >= last.l - ${WINDOW} GROUP BY ALL),
        keys AS (SELECT source, crypto, list(h ORDER BY h) AS hs, list(p ORDER BY h) AS ps, ${byKey},
            sum(hot_n) AS hot_n
          FROM hours GROUP BY ALL)
        SELECT keys.*, last.l, last.quote FROM keys JOIN last USING (source, crypto)`,
    )) ?? []

  // One row per crypto: the given source's, or the source with the newest quote.
  const chosen = new Map<string, Record<string, unknown>>()
  for (const r of rows) {
    const prev = chosen.get(r['crypto'] as string)
    const newer =
      !prev ||
      num(r['l']) > num(prev['l']) ||
      (num(r['l']) === num(prev['l']) && (r['source'] as string) < (prev['source'] as string))
    if (newer) chosen.set(r['crypto'] as string, r)
  }
  const market = [...chosen.values()].map((r) => ({ row: marketRow(r), hot: num(r['hot_n']) }))
  const field = SORT_FIELD[sort]
  market.sort((a, b) => compareMarketRows(a.row, b.row, field, order))
  const limited = market.slice(0, q.limit ?? 100)
  return {
    ...ctx.info(
      distinctFiles(files, lastDayFiles, dedupFiles),
      limited.reduce((n, m) => n + m.hot, 0),
    ),
    assets_total: market.length,
    rows: limited.map((m) => m.row),
  }
}

function marketRow(r: Record<string, unknown>): MarketRow {
  const raw = r['quote'] as Record<string, unknown>
  const quote = Object.fromEntries(
    QUOTE_FIELDS.map((f) => [f, typeof raw[f] === 'bigint' ? Number(raw[f]) : raw[f]]),
  ) as unknown as Quote
  const last = num(r['l'])
  const change = (name: keyof typeof CHANGE_PERIODS): number | null => {
    const base = numOrNull(r[`base_${name}`])
    const baseTs = numOrNull(r[`base_ts_${name}`])
    const p = CHANGE_PERIODS[name]
    if (base === null || baseTs === null || baseTs > last - p + p / 4) return null
    return (quote.price_usd / base - 1) * 100
  }
  const startHour = Math.floor((last - WINDOW) / HOUR)
  const sparkline = new Array<number | null>(Math.floor(last / HOUR) - startHour + 1).fill(null)
  const hours = (r['hs'] as unknown[]).map(num)
  const prices = (r['ps'] as unknown[]).map(num)
  hours.forEach((h, i) => (sparkline[h - startHour] = prices[i]!))
  return {
    ...quote,
    price_change_1h_pct: change('1h'),
    price_change_24h_pct: change('24h'),
    price_change_7d_pct: change('7d'),
    sparkline_start: startHour * HOUR,
    sparkline,
  }
}

export function compareMarketRows(
  a: MarketRow,
  b: MarketRow,
  field: keyof MarketRow,
  order: 'asc' | 'desc',
): number {
  const x = a[field] as number | string | null
  const y = b[field] as number | string | null
  if (x === null && y !== null) return 1
  if (y === null && x !== null) return -1
  if (x !== null && y !== null && x !== y) return (x < y ? -1 : 1) * (order === 'asc' ? 1 : -1)
  return a.crypto < b.crypto ? -1 : a.crypto > b.crypto ? 1 : 0
}

const keyOf = (source: string, crypto: string): string => `${source}\u0000${crypto}`

function keyIndex(snapshot: Snapshot): Map<string, KeyIndex> {
  let index = indexes.get(snapshot)
  if (index) return index
  index = new Map()
  for (const file of snapshot.files()) {
    const source = file.partitionValues['source'] ?? ''
    const crypto = file.partitionValues['crypto'] ?? ''
    const day = partitionDay(file.partitionValues)
    const key = keyOf(source, crypto)
    const k = index.get(key) ?? { source, crypto, lastDay: -Infinity, files: [] }
    k.files.push({ file, day })
    if (day !== undefined && day > k.lastDay) k.lastDay = day
    index.set(key, k)
  }
  indexes.set(snapshot, index)
  return index
}

/** Days since the epoch from year/month/day partition values; undefined when they are missing. */
function partitionDay(p: Record<string, string | null>): number | undefined {
  const [y, m, d] = [p['year'], p['month'], p['day']].map((v) => (v ? Number(v) : NaN))
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return undefined
  return Date.UTC(y!, m! - 1, d!) / 86_400_000
}
