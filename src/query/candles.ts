/**
 * `candles`: OHLCV buckets of one asset, aligned to UTC epoch multiples of the interval.
 *
 * Within a bucket quotes are ordered by (ts, source, price): open is the first, close the last,
 * high/low the extremes of `price_usd`. Volume is the `volume_24h_usd` of the bucket's last quote
 * (the rolling 24-hour volume at the close): providers report only rolling 24h volumes, and the
 * difference of two rolling windows is not the volume traded inside a bucket, so no per-bucket
 * volume is invented. Buckets without quotes are omitted.
 */
import { distinctFiles } from './quote-relation.ts'
import { assetSlice, num, numOrNull, sourcesOf, type ReadContext, type SourceFilter } from './read-context.ts'
import {
  checkInterval,
  checkRange,
  INTERVAL_MICROS,
  type CandleInterval,
  type ReadOptions,
  type ScanInfo,
} from './types.ts'

export interface CandlesQuery extends ReadOptions, SourceFilter {
  crypto: string
  interval: CandleInterval
  /** Inclusive bounds on quote ts (edge buckets may be partial). */
  start?: number
  end?: number
}

export interface Candle {
  /** Bucket start: a UTC epoch multiple of the interval, µs. */
  ts: number
  open: number
  high: number
  low: number
  close: number
  /** `volume_24h_usd` of the bucket's last quote. */
  volume: number | null
  /** Quotes in the bucket. */
  count: number
}

export interface CandlesResult extends ScanInfo {
  crypto: string
  source: string | null
  interval: CandleInterval
  /** Oldest first. */
  candles: Candle[]
}

/** Orders quotes inside a bucket: time, then source, then price (a total order for ties). */
export const ORDER_KEY = `{'t': ts, 's': source, 'p': price_usd}`

export async function candles(ctx: ReadContext, q: CandlesQuery): Promise<CandlesResult> {
  const interval = checkInterval(q.interval)
  checkRange(q.start, q.end)
  const step = INTERVAL_MICROS[interval]
  const { files, hot, dedupFiles } = assetSlice(ctx, {
    ...q,
    sources: sourcesOf(q),
  })
  const rows =
    (await ctx.select(
      {
        files,
        columns: ['ts', 'source', 'price_usd', 'volume_24h_usd'],
        start: q.start,
        end: q.end,
        hot,
        dedupFiles,
      },
      (relation) => `SELECT (ts // ${step}) * ${step} AS bucket,
          arg_min(price_usd, ${ORDER_KEY}) AS open, max(price_usd) AS high, min(price_usd) AS low,
          arg_max(price_usd, ${ORDER_KEY}) AS close, arg_max_null(volume_24h_usd, ${ORDER_KEY}) AS volume,
          count(*) AS n, count(*) FILTER (WHERE hot) AS hot_n
        FROM (${relation}) GROUP BY bucket ORDER BY bucket`,
    )) ?? []
  let pendingRows = 0
  const out = rows.map((r): Candle => {
    pendingRows += num(r['hot_n'])
    return {
      ts: num(r['bucket']),
      open: num(r['open']),
      high: num(r['high']),
      low: num(r['low']),
      close: num(r['close']),
      volume: numOrNull(r['volume']),
      count: num(r['n']),
    }
  })
  return {
    ...ctx.info(distinctFiles(files, dedupFiles), pendingRows),
    crypto: q.crypto,
    source: singleSource(q),
    interval,
    candles: out,
  }
}

/** The one source a read was restricted to, or null when several (or all) were pooled. */
export function singleSource(q: SourceFilter): string | null {
  const sources = sourcesOf(q)
  return sources?.length === 1 ? sources[0]! : null
}
