/**
 * The `quotes` Delta table: its schema, partitioning and file layout. Partition columns are not
 * stored inside the data files (Delta convention); readers take them from `add.partitionValues`.
 */
import { datePartsOf, PARTITION_COLUMNS, QUOTE_COLUMNS, QUOTE_FIELDS, type Quote } from './quote.ts'
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

/** A quote as a table row: the quote's fields plus its date partition values. */
export function quoteToRow(q: Quote): Record<string, string | number | null> {
  const p = datePartsOf(q.ts)
  return { ...q, year: p.year, month: p.month, day: p.day }
}
