/**
 * Quotes as the API sends them (JSON bodies and SSE events): the stored model with its two
 * timestamps as ISO-8601 strings with microseconds, which JSON numbers cannot carry portably.
 */
import { z } from 'zod'
import { isoFromMicros, quoteSchema, type Quote } from '../model/quote.ts'

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
