/**
 * The `quotes` Delta table: its schema, partitioning and file layout. Partition columns are not
 * stored inside the data files (Delta convention); readers take them from `add.partitionValues`.
 */
import { field, struct, type StructType } from '../lake/schema.ts'
import { datePartsOf, PARTITION_COLUMNS, type Quote } from './quote.ts'

export const QUOTES_TABLE = 'quotes'

export const QUOTES_SCHEMA: StructType = struct([
  field('ts', 'timestamp', false),
  field('source', 'string', false),
  field('crypto', 'string', false),
  field('symbol', 'string'),
  field('name', 'string'),
  field('price_usd', 'double', false),
  field('market_cap_usd', 'double'),
  field('volume_24h_usd', 'double'),
  field('change_1h_pct', 'double'),
  field('change_24h_pct', 'double'),
  field('change_7d_pct', 'double'),
  field('circulating_supply', 'double'),
  field('total_supply', 'double'),
  field('max_supply', 'double'),
  field('rank', 'integer'),
  field('ingested_at', 'timestamp', false),
  field('year', 'string', false),
  field('month', 'string', false),
  field('day', 'string', false),
])

export const QUOTES_PARTITION_COLUMNS: string[] = [...PARTITION_COLUMNS]

/** Files are sorted so that one asset's rows are contiguous and in time order. */
export const QUOTES_SORT_BY = ['crypto', 'ts']

/** A quote as a table row: the quote's fields plus its date partition values. */
export function quoteToRow(q: Quote): Record<string, string | number | null> {
  const p = datePartsOf(q.ts)
  return { ...q, year: p.year, month: p.month, day: p.day }
}
