/**
 * The `quotes` Delta table: its schema, partitioning and file layout. Partition columns are not
 * stored inside the data files (Delta convention); readers take them from `add.partitionValues`.
 */
import {
  datePartsOf,
  PARTITION_COLUMNS,
  QUOTE_COLUMNS,
  QUOTE_FIELDS,
  type DateParts,
  type Quote,
} from './quote.ts'
import { column, type TableSchema } from './table-schema.ts'

export const QUOTES_TABLE = 'quotes'

/** The quote's columns (see `QUOTE_COLUMNS`), then the date partition columns derived from `ts`. */
export const QUOTES_SCHEMA: TableSchema = {
  type: 'struct',
  fields: [
    ...QUOTE_FIELDS.map((f) => column(f, QUOTE_COLUMNS[f].type, QUOTE_COLUMNS[f].nullable)),
    column('year', 'string', false),
    column('month', 'string', false),
    column('day', 'string', false),
  ],
}

export const QUOTES_PARTITION_COLUMNS: string[] = [...PARTITION_COLUMNS]

/** Files are sorted so that one asset's rows are contiguous and in time order. */
export const QUOTES_SORT_BY = ['crypto', 'ts']

/**
 * A quote as a table row: the quote's fields plus its date partition values. Written out field by
 * field (the type makes a missing or unknown field a compile error): every row then has all 19
 * properties in the object itself, which made building and encoding a 50k-row batch ~1 µs per
 * quote cheaper than `{ ...q, year, month, day }` (docs/benchmarks.md "Kafka ingest").
 */
export function quoteToRow(q: Quote): Record<string, string | number | null> {
  const p = datePartsOf(q.ts)
  return {
    ts: q.ts,
    source: q.source,
    crypto: q.crypto,
    symbol: q.symbol,
    name: q.name,
    price_usd: q.price_usd,
    market_cap_usd: q.market_cap_usd,
    volume_24h_usd: q.volume_24h_usd,
    change_1h_pct: q.change_1h_pct,
    change_24h_pct: q.change_24h_pct,
    change_7d_pct: q.change_7d_pct,
    circulating_supply: q.circulating_supply,
    total_supply: q.total_supply,
    max_supply: q.max_supply,
    rank: q.rank,
    ingested_at: q.ingested_at,
    year: p.year,
    month: p.month,
    day: p.day,
  } satisfies Record<keyof Quote | keyof DateParts, string | number | null>
}
