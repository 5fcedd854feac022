/**
 * Market-data reads: `/api/v1/quotes` (raw quotes of one asset), `/api/v1/candles` (OHLC),
 * `/api/v1/latest` (market overview), `/api/v1/compare` (one asset across sources).
 *
 * Invariants:
 * - Every read takes `asOf` (time travel; an unknown version is a 404) and reports the table
 *   version it read and how many files it scanned, so pruning is observable.
 * - Range reads are bounded: quotes by `limit` (≤ 100 000), candles and compare by their bucket
 *   count (≤ 50 000), so a JSON body or a download is always of bounded size.
 * - Without an explicit range, reads end "now" (or at the `asOf` time when time-travelling),
 *   which is what someone asking for "the quotes" or "the chart" expects.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CryptoVizError } from '../../errors.ts'
import { QUOTE_FIELDS, slugSchema, type Quote } from '../../model/quote.ts'
import { isoFromMicros } from '../../micros.ts'
import {
  CANDLE_INTERVALS,
  INTERVAL_MICROS,
  LATEST_SORTS,
  type CandleInterval,
  type QueryEngine,
  type ScanInfo,
} from '../../query/index.ts'
import { sendDownload, type DownloadFormat, PARQUET_MEDIA_TYPE } from '../downloads.ts'
import type { ServerMetrics } from '../metrics.ts'
import {
  asOfParam,
  downloadFormatParam,
  intParam,
  slugListParam,
  timeParam,
  type AsOfParam,
} from '../params.ts'
import { isoTimeJson, quoteDownloadColumns, quoteJsonSchema, quoteToJson } from '../quote-json.ts'
import { defineRoute } from '../typed-route.ts'

const DAY_MICROS = 86_400_000_000
const MAX_BUCKETS = 50_000
const DEFAULT_BUCKETS = 500

const DOWNLOADS = {
  'text/csv': 'The rows as CSV (header line, ISO-8601 times) with format=csv.',
  [PARQUET_MEDIA_TYPE]: 'The rows as a Parquet file (timestamps in microseconds, UTC) with format=parquet.',
} as const

/**
 * On by default (the hot tail): a read sees quotes within a second of their arrival, not after
 * the next micro-batch. `includePending=false` reads exactly the committed version it reports
 * (reproducible, cacheable); `asOf` reads never include uncommitted quotes.
 */
const includePendingParam = z
  .enum(['true', 'false'])
  .default('true')
  .transform((s) => s === 'true')
  .meta({ description: 'Also return quotes received but not committed yet (ignored with asOf).' })

const orderParam = z.enum(['asc', 'desc'])

/**
 * Every route filters sources with `sources=a,b`. `source=` (one source) was the name candles and
 * latest used first: it still works, documented as deprecated.
 */
const sourcesParam = (description: string) =>
  slugListParam.optional().meta({ description: `${description} Comma-separated.` })

const deprecatedSourceParam = slugSchema.optional().meta({
  deprecated: true,
  description: 'Deprecated: use sources. One source, the same as sources=<source>.',
})

/** The sources a request names, by `sources` or the deprecated `source` (not both). */
function requestedSources(q: { sources?: string[]; source?: string }): string[] | undefined {
  if (q.source !== undefined && q.sources !== undefined) {
    throw new CryptoVizError('INVALID_ARGUMENT', 'give sources (or the deprecated source), not both', {
      kind: 'user',
    })
  }
  const sources = q.source === undefined ? q.sources : [q.source]
  return sources && sources.length > 0 ? sources : undefined
}

const intervalParam = z.enum(CANDLE_INTERVALS).default('1h').meta({ description: 'Bucket width.' })

const columnsParam = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(z.enum(QUOTE_FIELDS)).min(1))
  .meta({ description: `Comma-separated subset of: ${QUOTE_FIELDS.join(', ')}.` })

const scanJson = {
  version: z.number().int().meta({ description: 'Table version read.' }),
  files_scanned: z.number().int().meta({ description: 'Data files read after pruning.' }),
  files_total: z.number().int().meta({ description: 'Live data files in that version.' }),
  pending_rows: z.number().int().meta({ description: 'Result rows that came from uncommitted quotes.' }),
}

const scanToJson = (s: ScanInfo) => ({
  version: s.version,
  files_scanned: s.files_scanned,
  files_total: s.files_total,
  pending_rows: s.pending_rows,
})

/** The end of a time-travel read defaults to the time travelled to. */
function defaultEnd(asOf: AsOfParam | undefined, nowMs: number): number {
  return asOf && 'timestamp' in asOf ? asOf.timestamp * 1000 : nowMs * 1000
}

function checkOrder(start: number | undefined, end: number | undefined): void {
  if (start !== undefined && end !== undefined && start > end) {
    throw new CryptoVizError('INVALID_ARGUMENT', 'start must not be after end', { kind: 'user' })
  }
}

/** A bucketed range: both ends resolved, at most MAX_BUCKETS buckets. */
function bucketRange(
  q: { start?: number; end?: number; asOf?: AsOfParam },
  interval: CandleInterval,
  nowMs: number,
): { start: number; end: number } {
  const width = INTERVAL_MICROS[interval]
  const end = q.end ?? Math.max(q.start ?? 0, defaultEnd(q.asOf, nowMs))
  const start = q.start ?? Math.max(0, end - DEFAULT_BUCKETS * width)
  checkOrder(start, end)
  const buckets = Math.floor(end / width) - Math.floor(start / width) + 1
  if (buckets > MAX_BUCKETS) {
    throw new CryptoVizError(
      'INVALID_ARGUMENT',
      `the range spans ${buckets} ${interval} buckets, at most ${MAX_BUCKETS}: narrow it or use a longer interval`,
      { kind: 'user' },
    )
  }
  return { start, end }
}

const quotesQuery = z.strictObject({
  crypto: slugSchema.meta({ description: 'Asset slug, e.g. bitcoin.' }),
  start: timeParam.optional(),
  end: timeParam.optional(),
  sources: sourcesParam('Only these sources.'),
  columns: columnsParam.optional(),
  order: orderParam.default('asc').meta({ description: 'By time: asc (oldest first) or desc.' }),
  limit: intParam(1, 100_000, 1_000, 'At most this many rows (truncated says whether more exist).'),
  asOf: asOfParam.optional(),
  includePending: includePendingParam,
  format: downloadFormatParam,
})

const quotesResponse = z.object({
  crypto: z.string(),
  start: isoTimeJson.nullable(),
  end: isoTimeJson.nullable(),
  ...scanJson,
  count: z.number().int(),
  truncated: z.boolean(),
  rows: z.array(quoteJsonSchema.partial()).meta({ description: 'Quotes; only `columns` when given.' }),
})

const candleJson = z.object({
  ts: isoTimeJson.meta({ description: 'Bucket start.' }),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number().nullable().meta({ description: 'Rolling 24 h volume (USD) at the bucket close.' }),
  count: z.number().int().meta({ description: 'Quotes in the bucket.' }),
})

const candlesQuery = z.strictObject({
  crypto: slugSchema.meta({ description: 'Asset slug.' }),
  interval: intervalParam,
  sources: sourcesParam('Only these sources, pooled; all sources pooled when omitted.'),
  source: deprecatedSourceParam,
  start: timeParam.optional(),
  end: timeParam.optional(),
  asOf: asOfParam.optional(),
  includePending: includePendingParam,
  format: downloadFormatParam,
})

const candlesResponse = z.object({
  crypto: z.string(),
  source: z.string().nullable(),
  interval: z.enum(CANDLE_INTERVALS),
  start: isoTimeJson,
  end: isoTimeJson,
  ...scanJson,
  count: z.number().int(),
  candles: z.array(candleJson),
})

const latestQuery = z.strictObject({
  limit: intParam(1, 1_000, 100, 'At most this many assets.'),
  sort: z.enum(LATEST_SORTS).default('rank'),
  order: orderParam.optional().meta({ description: 'Default asc for rank and name, desc otherwise.' }),
  sources: sourcesParam('Per asset, the freshest of these sources; of all sources when omitted.'),
  source: deprecatedSourceParam,
  asOf: asOfParam.optional(),
  includePending: includePendingParam,
})

const marketRowJson = quoteJsonSchema.extend({
  price_change_1h_pct: z.number().nullable(),
  price_change_24h_pct: z.number().nullable(),
  price_change_7d_pct: z.number().nullable(),
  sparkline_start: isoTimeJson.meta({ description: 'Hour of the first sparkline point.' }),
  sparkline: z
    .array(z.number().nullable())
    .meta({ description: 'Last price per UTC hour over 7 days; null = no quote that hour.' }),
})

const latestResponse = z.object({
  ...scanJson,
  assets_total: z.number().int(),
  count: z.number().int(),
  rows: z.array(marketRowJson),
})

const compareQuery = z.strictObject({
  crypto: slugSchema.meta({ description: 'Asset slug.' }),
  interval: intervalParam,
  sources: sourcesParam('Sources to compare (default: all present).'),
  start: timeParam.optional(),
  end: timeParam.optional(),
  asOf: asOfParam.optional(),
  includePending: includePendingParam,
  format: downloadFormatParam,
})

const compareResponse = z.object({
  crypto: z.string(),
  interval: z.enum(CANDLE_INTERVALS),
  start: isoTimeJson,
  end: isoTimeJson,
  ...scanJson,
  sources: z.array(z.string()),
  count: z.number().int(),
  points: z.array(
    z.object({
      ts: isoTimeJson.meta({ description: 'Bucket start.' }),
      prices: z.record(z.string(), z.number()).meta({ description: 'Source → last price in the bucket.' }),
      spread_pct: z
        .number()
        .nullable()
        .meta({ description: '(max − min) / min × 100; null with < 2 sources.' }),
    }),
  ),
})

function readOptions(q: { asOf?: AsOfParam; includePending: boolean }) {
  return q.asOf ? { asOf: q.asOf } : { includePending: q.includePending }
}

export function quotesRoutes(
  app: FastifyInstance,
  engine: QueryEngine,
  metrics: ServerMetrics,
  now: () => number,
): void {
  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/quotes',
    query: quotesQuery,
    response: quotesResponse,
    doc: {
      operationId: 'quotes',
      summary: 'Quotes of one asset over a time range',
      description:
        'Oldest first by default. Without start and end: the last 24 hours (before the asOf time ' +
        'when time-travelling). Only start: everything after it. Only end: the 24 hours before it.',
      tag: 'quotes',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
      alternatives: DOWNLOADS,
    },
    handler: async ({ query: q, reply }) => {
      const end = q.end ?? (q.start === undefined ? defaultEnd(q.asOf, now()) : undefined)
      const start = q.start ?? (end !== undefined ? Math.max(0, end - DAY_MICROS) : undefined)
      checkOrder(start, end)
      const result = await engine.readRange({
        crypto: q.crypto,
        sources: requestedSources(q),
        ...(start !== undefined && { start }),
        ...(end !== undefined && { end }),
        ...(q.columns && { columns: q.columns }),
        order: q.order,
        limit: q.limit,
        ...readOptions(q),
      })
      metrics.recordScan('/api/v1/quotes', result)
      const rows = result.rows as Partial<Quote>[]
      if (q.format !== 'json') {
        return sendDownload(reply, q.format as DownloadFormat, {
          filename: `quotes-${q.crypto}-v${result.version}`,
          columns: quoteDownloadColumns(q.columns ?? QUOTE_FIELDS),
          rows,
        })
      }
      return {
        crypto: q.crypto,
        start: start === undefined ? null : isoFromMicros(start),
        end: end === undefined ? null : isoFromMicros(end),
        ...scanToJson(result),
        count: rows.length,
        truncated: result.truncated,
        rows: rows.map((r) => partialQuoteToJson(r)),
      }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/candles',
    query: candlesQuery,
    response: candlesResponse,
    doc: {
      operationId: 'candles',
      summary: 'OHLC candles of one asset',
      description:
        'Buckets aligned on UTC multiples of the interval, oldest first, empty buckets omitted. ' +
        `Without a range: the last ${DEFAULT_BUCKETS} buckets. At most ${MAX_BUCKETS} buckets.`,
      tag: 'quotes',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
      alternatives: DOWNLOADS,
    },
    handler: async ({ query: q, reply }) => {
      const { start, end } = bucketRange(q, q.interval, now())
      const result = await engine.candles({
        crypto: q.crypto,
        sources: requestedSources(q),
        interval: q.interval,
        start,
        end,
        ...readOptions(q),
      })
      metrics.recordScan('/api/v1/candles', result)
      if (q.format !== 'json') {
        return sendDownload(reply, q.format as DownloadFormat, {
          filename: `candles-${q.crypto}-${q.interval}-v${result.version}`,
          columns: [
            { name: 'ts', kind: 'timestamp' },
            { name: 'open', kind: 'double' },
            { name: 'high', kind: 'double' },
            { name: 'low', kind: 'double' },
            { name: 'close', kind: 'double' },
            { name: 'volume', kind: 'double' },
            { name: 'count', kind: 'int32' },
          ],
          rows: result.candles as unknown as Record<string, unknown>[],
        })
      }
      return {
        crypto: result.crypto,
        source: result.source,
        interval: result.interval,
        start: isoFromMicros(start),
        end: isoFromMicros(end),
        ...scanToJson(result),
        count: result.candles.length,
        candles: result.candles.map((c) => ({ ...c, ts: isoFromMicros(c.ts) })),
      }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/latest',
    query: latestQuery,
    response: latestResponse,
    doc: {
      operationId: 'latest',
      summary: 'Market overview: each asset’s latest quote, price changes and a 7-day sparkline',
      description:
        'price_change_*_pct are computed from the lake’s own prices; change_*_pct are the ' +
        'provider-reported ones.',
      tag: 'quotes',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
    },
    handler: async ({ query: q }) => {
      const result = await engine.latest({
        limit: q.limit,
        sort: q.sort,
        ...(q.order && { order: q.order }),
        sources: requestedSources(q),
        ...readOptions(q),
      })
      metrics.recordScan('/api/v1/latest', result)
      return {
        ...scanToJson(result),
        assets_total: result.assets_total,
        count: result.rows.length,
        rows: result.rows.map((r) => ({
          ...r,
          ...quoteToJson(r),
          sparkline_start: isoFromMicros(r.sparkline_start),
        })),
      }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/compare',
    query: compareQuery,
    response: compareResponse,
    doc: {
      operationId: 'compare',
      summary: 'One asset’s price across sources, bucketed, with the spread between them',
      description: `Without a range: the last ${DEFAULT_BUCKETS} buckets. At most ${MAX_BUCKETS} buckets.`,
      tag: 'quotes',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
      alternatives: DOWNLOADS,
    },
    handler: async ({ query: q, reply }) => {
      const { start, end } = bucketRange(q, q.interval, now())
      const result = await engine.compare({
        crypto: q.crypto,
        interval: q.interval,
        start,
        end,
        sources: requestedSources(q),
        ...readOptions(q),
      })
      metrics.recordScan('/api/v1/compare', result)
      if (q.format !== 'json') {
        return sendDownload(reply, q.format as DownloadFormat, {
          filename: `compare-${q.crypto}-${q.interval}-v${result.version}`,
          columns: [
            { name: 'ts', kind: 'timestamp' },
            ...result.sources.map((source) => ({ name: `price_${source}`, kind: 'double' as const })),
            { name: 'spread_pct', kind: 'double' },
          ],
          rows: result.points.map((p) => ({
            ts: p.ts,
            spread_pct: p.spread_pct,
            ...Object.fromEntries(
              Object.entries(p.prices).map(([source, price]) => [`price_${source}`, price]),
            ),
          })),
        })
      }
      return {
        crypto: result.crypto,
        interval: result.interval,
        start: isoFromMicros(start),
        end: isoFromMicros(end),
        ...scanToJson(result),
        sources: result.sources,
        count: result.points.length,
        points: result.points.map((p) => ({ ...p, ts: isoFromMicros(p.ts) })),
      }
    },
  })
}

/** Like quoteToJson, for projected rows that may lack either timestamp. */
function partialQuoteToJson(q: Partial<Quote>): Record<string, unknown> {
  return {
    ...q,
    ...(q.ts !== undefined && { ts: isoFromMicros(q.ts) }),
    ...(q.ingested_at !== undefined && { ingested_at: isoFromMicros(q.ingested_at) }),
  }
}
