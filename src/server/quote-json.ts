/**
 * Quotes as the API sends them (JSON bodies and SSE events): the stored model with its two
 * timestamps as ISO-8601 strings with microseconds, which JSON numbers cannot carry portably.
 */
import { z } from 'zod'
import { QUOTE_COLUMNS, quoteSchema, type Quote, type QuoteField } from '../model/quote.ts'
import { isoFromMicros } from '../micros.ts'
import type { ColumnType } from '../model/table-schema.ts'
import type { DownloadColumn } from './downloads.ts'

export const isoTimeJson = z.string().meta({
  description: 'ISO-8601 UTC time with microseconds, e.g. 2024-01-02T03:04:05.123456Z.',
})

export const quoteJsonSchema = quoteSchema.extend({ ts: isoTimeJson, ingested_at: isoTimeJson })

export type QuoteJson = z.infer<typeof quoteJsonSchema>

export const quoteToJson = (q: Quote): QuoteJson => ({
  ...q,
  ts: isoFromMicros(q.ts),
  ingested_at: isoFromMicros(q.ingested_at),
})

const DOWNLOAD_KINDS: Record<ColumnType, DownloadColumn['kind']> = {
  timestamp: 'timestamp',
  string: 'string',
  double: 'double',
  integer: 'int32',
}

/** Download (CSV header, Parquet schema) columns of quote fields, typed from `QUOTE_COLUMNS`. */
export const quoteDownloadColumns = (fields: readonly QuoteField[]): DownloadColumn[] =>
  fields.map((name) => ({ name, kind: DOWNLOAD_KINDS[QUOTE_COLUMNS[name].type] }))
