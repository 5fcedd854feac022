/**
 * `compare`: one asset's price per source per bucket and the spread between sources.
 *
 * A source's price in a bucket is its close (last quote by ts, ties by higher price), the same
 * rule as candle closes; the spread is (max − min) / min × 100 over the sources present in the
 * bucket, null when fewer than two are.
 */
import { distinctFiles } from './quote-relation.ts'
import { assetSlice, num, type ReadContext } from './read-context.ts'
import {
  checkInterval,
  checkRange,
  INTERVAL_MICROS,
  type CandleInterval,
  type ReadOptions,
  type ScanInfo,
} from './types.ts'

export interface CompareQuery extends ReadOptions {
  crypto: string
  interval: CandleInterval
  start?: number
  end?: number
  /** Default: every source present. */
  sources?: readonly string[]
}

export interface ComparePoint {
  /** Bucket start, µs. */
  ts: number
  /** Source → close price in the bucket; a source without quotes in the bucket is absent. */
  prices: Record<string, number>
  spread_pct: number | null
}

export interface CompareResult extends ScanInfo {
  crypto: string
  interval: CandleInterval
  /** Sources asked for, or else every source found (sorted). */
  sources: string[]
  /** Oldest first; buckets without any quote are omitted. */
  points: ComparePoint[]
}

export async function compare(ctx: ReadContext, q: CompareQuery): Promise<CompareResult> {
  const interval = checkInterval(q.interval)
  checkRange(q.start, q.end)
  const step = INTERVAL_MICROS[interval]
  const sources = q.sources && q.sources.length > 0 ? [...new Set(q.sources)] : undefined
  const { files, hot, dedupFiles } = assetSlice(ctx, { ...q, sources })
  const rows =
    (await ctx.select(
      { files, columns: ['ts', 'source', 'price_usd'], start: q.start, end: q.end, hot, dedupFiles },
      (relation) => `SELECT (ts // ${step}) * ${step} AS bucket, source,
          arg_max(price_usd, {'t': ts, 'p': price_usd}) AS price, count(*) FILTER (WHERE hot) AS hot_n
        FROM (${relation}) GROUP BY ALL ORDER BY bucket, source`,
    )) ?? []
  const points: ComparePoint[] = []
  const found = new Set<string>()
  let pendingRows = 0
  for (const r of rows) {
    const ts = num(r['bucket'])
    const source = r['source'] as string
    found.add(source)
    pendingRows += num(r['hot_n'])
    let point = points.at(-1)
    if (point?.ts !== ts) {
      point = { ts, prices: {}, spread_pct: null }
      points.push(point)
    }
    point.prices[source] = num(r['price'])
  }
  for (const p of points) p.spread_pct = spread(Object.values(p.prices))
  return {
    ...ctx.info(distinctFiles(files, dedupFiles), pendingRows),
    crypto: q.crypto,
    interval,
    sources: sources ?? [...found].sort(),
    points,
  }
}

/** (max − min) / min × 100; null for fewer than two prices. */
export function spread(prices: readonly number[]): number | null {
  if (prices.length < 2) return null
  const min = Math.min(...prices)
  return ((Math.max(...prices) - min) / min) * 100
}
