/**
 * `GET /api/v1/gaps`: where a (source, crypto) series went silent for longer than `factor` ×
 * `intervalMs` inside a window, as `cryptoviz gaps` reports it (same detection: `findGaps`). The
 * dashboard's asset chart draws them as blank stretches and the pipeline page lists them.
 *
 * Invariants:
 * - Only the `ts` and `source` columns of the pruned files are read, per asset.
 * - Bounded: at most MAX_ASSETS assets and MAX_QUOTES quotes read per request; beyond that the
 *   request is refused (narrow the window) rather than answered from a cut series, which would
 *   report a false gap at the cut.
 * - Without `crypto`, the assets are those of the market overview (the ones a user sees).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CryptoVizError } from '../../errors.ts'
import { isoFromMicros } from '../../micros.ts'
import type { QueryEngine } from '../../query/index.ts'
import { findGaps, type TimestampSeries } from '../../sources/index.ts'
import { asOfParam, intParam, slugListParam, timeParam } from '../params.ts'
import { isoTimeJson } from '../quote-json.ts'
import { defineRoute } from '../typed-route.ts'

const HOUR_US = 3_600_000_000
const MAX_ASSETS = 50
export const MAX_QUOTES = 2_000_000

const gapsQuery = z.strictObject({
  crypto: slugListParam
    .optional()
    .meta({ description: 'Assets (comma-separated); default: those of the market overview.' }),
  sources: slugListParam.optional().meta({ description: 'Only these sources.' }),
  start: timeParam.optional().meta({ description: 'Window start; default 24 hours before end.' }),
  end: timeParam.optional().meta({ description: 'Window end; default now (or the asOf time).' }),
  intervalMs: intParam(1, 86_400_000, 60_000, 'Expected time between two quotes of a series.'),
  factor: z.coerce
    .number()
    .min(1)
    .max(1_000)
    .default(3)
    .meta({ description: 'A silence longer than factor × intervalMs is a gap.' }),
  asOf: asOfParam.optional(),
})

const gapJson = z.object({
  source: z.string(),
  crypto: z.string(),
  from: isoTimeJson.meta({ description: 'Last quote before the silence (or the window start).' }),
  to: isoTimeJson.meta({ description: 'First quote after the silence (or the window end).' }),
  duration_ms: z.number(),
  missed_polls: z.number().int(),
})

const gapsResponse = z.object({
  version: z.number().int().meta({ description: 'Table version read.' }),
  start: isoTimeJson,
  end: isoTimeJson,
  interval_ms: z.number().int(),
  factor: z.number(),
  cryptos: z.array(z.string()),
  count: z.number().int(),
  gaps: z.array(gapJson),
})

export function gapsRoutes(app: FastifyInstance, engine: QueryEngine, now: () => number): void {
  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/gaps',
    query: gapsQuery,
    response: gapsResponse,
    doc: {
      operationId: 'gaps',
      summary: 'Silences in the quote series longer than the expected polling cadence allows',
      description:
        'Per (source, crypto): intervals with no quote longer than factor × intervalMs, including ' +
        'silence at the edges of the window. A series with no quote in the window is one gap ' +
        `spanning it. At most ${MAX_ASSETS} assets and ${MAX_QUOTES} quotes per request.`,
      tag: 'quotes',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
    },
    handler: async ({ query: q }) => {
      const asOfEnd = q.asOf && 'timestamp' in q.asOf ? q.asOf.timestamp * 1000 : undefined
      const end = q.end ?? asOfEnd ?? now() * 1000
      const start = q.start ?? end - 24 * HOUR_US
      if (start > end) {
        throw new CryptoVizError('INVALID_ARGUMENT', 'start must not be after end', { kind: 'user' })
      }
      const read = q.asOf ? { asOf: q.asOf } : { includePending: true }
      const cryptos =
        q.crypto && q.crypto.length > 0
          ? q.crypto
          : (await engine.latest({ limit: MAX_ASSETS, ...read })).rows.map((r) => r.crypto)
      if (cryptos.length > MAX_ASSETS) {
        throw new CryptoVizError('INVALID_ARGUMENT', `at most ${MAX_ASSETS} assets per request`, {
          kind: 'user',
        })
      }
      const series: TimestampSeries[] = []
      let version = (await engine.snapshot(q.asOf)).version
      let budget = MAX_QUOTES
      for (const crypto of cryptos) {
        const r = await engine.readRange({
          crypto,
          ...(q.sources && q.sources.length > 0 && { sources: q.sources }),
          start,
          end,
          columns: ['ts', 'source'],
          limit: budget,
          ...read,
        })
        if (r.truncated) {
          throw new CryptoVizError(
            'QUERY_INVALID',
            `more than ${MAX_QUOTES} quotes in the window: narrow it (start, end) or ask for fewer assets`,
            { kind: 'user' },
          )
        }
        budget -= r.rows.length
        version = r.version
        const bySource = new Map<string, number[]>()
        for (const row of r.rows) {
          const ts = bySource.get(row.source)
          if (ts === undefined) bySource.set(row.source, [row.ts])
          else ts.push(row.ts)
        }
        // A wanted source with no quote at all is one gap over the whole window.
        for (const source of q.sources ?? []) if (!bySource.has(source)) bySource.set(source, [])
        for (const [source, ts] of bySource) series.push({ source, crypto, ts })
      }
      const gaps = findGaps(series, {
        intervalMs: q.intervalMs,
        factor: q.factor,
        window: { from: start, to: end },
      })
      return {
        version,
        start: isoFromMicros(start),
        end: isoFromMicros(end),
        interval_ms: q.intervalMs,
        factor: q.factor,
        cryptos,
        count: gaps.length,
        gaps: gaps.map((g) => ({
          source: g.source,
          crypto: g.crypto,
          from: isoFromMicros(g.from),
          to: isoFromMicros(g.to),
          duration_ms: g.durationMs,
          missed_polls: g.missedPolls,
        })),
      }
    },
  })
}
