/**
 * The one quote model shared by every layer: sources produce it, the bus carries it, the lake
 * stores it and the query layer returns it.
 *
 * Invariants:
 * - `ts` and `ingested_at` are integer microseconds since the Unix epoch, UTC. Microsecond epochs
 *   stay below 2^53 until the year 2255, so a JS number holds them exactly.
 * - `price_usd` is finite and > 0; every other numeric field is finite or null.
 * - `crypto` is the canonical slug (`bitcoin`), the same across sources.
 * - Partition values are derived from `ts` (UTC) and never stored separately on a quote.
 */
import { z } from 'zod'

export const QUOTE_FIELDS = [
  'ts',
  'source',
  'crypto',
  'symbol',
  'name',
  'price_usd',
  'market_cap_usd',
  'volume_24h_usd',
  'change_1h_pct',
  'change_24h_pct',
  'change_7d_pct',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'rank',
  'ingested_at',
] as const

export type QuoteField = (typeof QUOTE_FIELDS)[number]

export const PARTITION_COLUMNS = ['year', 'month', 'day', 'source', 'crypto'] as const
export type PartitionColumn = (typeof PARTITION_COLUMNS)[number]
export type QuotePartition = Record<PartitionColumn, string>

const finiteOrNull = z.number().finite().nullable()

/** A slug or source name: lower-case words joined by `-`, `_` or `.`; safe in paths and SQL. */
export const slugSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"')

export const quoteSchema = z.object({
  ts: z.number().int().nonnegative(),
  source: slugSchema,
  crypto: slugSchema,
  symbol: z.string().min(1).max(50),
  name: z.string().min(1).max(200),
  price_usd: z.number().finite().positive(),
  market_cap_usd: finiteOrNull,
  volume_24h_usd: finiteOrNull,
  change_1h_pct: finiteOrNull,
  change_24h_pct: finiteOrNull,
  change_7d_pct: finiteOrNull,
  circulating_supply: finiteOrNull,
  total_supply: finiteOrNull,
  max_supply: finiteOrNull,
  rank: z.number().int().positive().nullable(),
  ingested_at: z.number().int().nonnegative(),
})

export type Quote = z.infer<typeof quoteSchema>

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n))

export interface DateParts {
  year: string
  month: string
  day: string
}

const MICROS_PER_DAY = 86_400_000_000
// Quotes of one batch fall on a few days: remember the last day's strings instead of building a
// Date and three strings per quote on the ingest path.
let lastDay = Number.NaN
let lastParts: DateParts = { year: '', month: '', day: '' }

/** Zero-padded UTC year, month and day of a time in microseconds. */
export function datePartsOf(ts: number): DateParts {
  const day = Math.floor(ts / MICROS_PER_DAY)
  if (day !== lastDay) {
    const d = new Date(day * 86_400_000)
    lastParts = {
      year: String(d.getUTCFullYear()),
      month: pad2(d.getUTCMonth() + 1),
      day: pad2(d.getUTCDate()),
    }
    lastDay = day
  }
  return lastParts
}

/** Partition values of a quote: zero-padded UTC date parts of `ts`, then source and crypto. */
export function partitionOf(quote: Pick<Quote, 'ts' | 'source' | 'crypto'>): QuotePartition {
  const p = datePartsOf(quote.ts)
  return { year: p.year, month: p.month, day: p.day, source: quote.source, crypto: quote.crypto }
}

/** Microseconds since epoch from a Date or milliseconds. */
export const microsFromMillis = (ms: number): number => Math.round(ms * 1000)
export const isoFromMicros = (us: number): string => {
  const ms = Math.floor(us / 1000)
  const rest = us - ms * 1000
  const iso = new Date(ms).toISOString()
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`
}
