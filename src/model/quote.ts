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
import type { ColumnType } from './table-schema.ts'

const finiteOrNull = z.number().finite().nullable()
const micros = z.number().int().nonnegative()

/** A slug or source name: lower-case words joined by `-`, `_` or `.`; safe in paths and SQL. */
export const slugSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"')

/** One column of the quote, declared once; every other view of the quote is derived from these. */
export interface QuoteColumn {
  /** Values a valid quote holds in this column (the model's validation). */
  schema: z.ZodType
  /** Stored type: Delta `timestamp` (integer microseconds), `string`, `double` or `integer` (32-bit). */
  type: ColumnType
  /** Whether the table column admits nulls. Keys and times do not; provider fields do. */
  nullable: boolean
}

/**
 * The quote's columns, in table and API order. Adding a column here adds it to the TypeScript type,
 * the zod schema, the Delta/Parquet schema, the API's `columns` list and the CSV/Parquet downloads
 * (test/model/quote-views.test.ts fails if a view stops following).
 */
export const QUOTE_COLUMNS = {
  ts: { schema: micros, type: 'timestamp', nullable: false },
  source: { schema: slugSchema, type: 'string', nullable: false },
  crypto: { schema: slugSchema, type: 'string', nullable: false },
  symbol: { schema: z.string().min(1).max(50), type: 'string', nullable: true },
  name: { schema: z.string().min(1).max(200), type: 'string', nullable: true },
  price_usd: { schema: z.number().finite().positive(), type: 'double', nullable: false },
  market_cap_usd: { schema: finiteOrNull, type: 'double', nullable: true },
  volume_24h_usd: { schema: finiteOrNull, type: 'double', nullable: true },
  change_1h_pct: { schema: finiteOrNull, type: 'double', nullable: true },
  change_24h_pct: { schema: finiteOrNull, type: 'double', nullable: true },
  change_7d_pct: { schema: finiteOrNull, type: 'double', nullable: true },
  circulating_supply: { schema: finiteOrNull, type: 'double', nullable: true },
  total_supply: { schema: finiteOrNull, type: 'double', nullable: true },
  max_supply: { schema: finiteOrNull, type: 'double', nullable: true },
  rank: { schema: z.number().int().positive().nullable(), type: 'integer', nullable: true },
  ingested_at: { schema: micros, type: 'timestamp', nullable: false },
} as const satisfies Record<string, QuoteColumn>

export type QuoteField = keyof typeof QUOTE_COLUMNS

/** The quote's column names, in order. */
export const QUOTE_FIELDS = Object.keys(QUOTE_COLUMNS) as [QuoteField, ...QuoteField[]]

/** The quote's columns of one stored type, in order (e.g. the two timestamps). */
export const quoteFieldsOfType = (type: ColumnType): QuoteField[] =>
  QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type === type)

export const PARTITION_COLUMNS = ['year', 'month', 'day', 'source', 'crypto'] as const
export type PartitionColumn = (typeof PARTITION_COLUMNS)[number]
export type QuotePartition = Record<PartitionColumn, string>

type QuoteShape = { [F in QuoteField]: (typeof QUOTE_COLUMNS)[F]['schema'] }

export const quoteSchema = z.object(
  Object.fromEntries(QUOTE_FIELDS.map((f) => [f, QUOTE_COLUMNS[f].schema])) as QuoteShape,
)

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
