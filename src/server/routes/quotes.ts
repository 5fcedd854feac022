/** `GET /api/v1/quotes`: one asset's quotes over a time range, read from the lake with pruning. */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CryptoVizError } from '../../errors.ts'
import { isoFromMicros, slugSchema, type Quote } from '../../model/quote.ts'
import type { QueryEngine } from '../../query/engine.ts'
import { asOfParam, parseParams, slugListParam, timeParam } from '../params.ts'

const DAY_MICROS = 86_400_000_000

const quotesQuery = z.strictObject({
  crypto: slugSchema,
  start: timeParam.optional(),
  end: timeParam.optional(),
  sources: slugListParam.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1_000),
  asOf: asOfParam.optional(),
})

/** Quote rows as the API returns them: times as ISO-8601 strings with microseconds. */
export const quoteToJson = (q: Quote): Record<string, unknown> => ({
  ...q,
  ts: isoFromMicros(q.ts),
  ingested_at: isoFromMicros(q.ingested_at),
})

export function quotesRoutes(app: FastifyInstance, engine: QueryEngine, now: () => number): void {
  app.get('/api/v1/quotes', async (request) => {
    const q = parseParams(quotesQuery, request.query)
    // With no range at all, the last 24 hours: what someone asking for "the quotes" expects.
    const end = q.end ?? (q.start === undefined ? now() * 1000 : undefined)
    const start = q.start ?? (end !== undefined ? end - DAY_MICROS : undefined)
    if (start !== undefined && end !== undefined && start > end) {
      throw new CryptoVizError('INVALID_ARGUMENT', 'start must not be after end', { kind: 'user' })
    }
    const result = await engine.readRange({
      crypto: q.crypto,
      ...(q.sources && { sources: q.sources }),
      ...(start !== undefined && { start }),
      ...(end !== undefined && { end }),
      limit: q.limit,
      ...(q.asOf && { asOf: q.asOf }),
    })
    return {
      crypto: q.crypto,
      start: start === undefined ? null : isoFromMicros(start),
      end: end === undefined ? null : isoFromMicros(end),
      version: result.version,
      files_scanned: result.files_scanned,
      files_total: result.files_total,
      count: result.rows.length,
      rows: result.rows.map(quoteToJson),
    }
  })
}
