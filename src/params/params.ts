/**
 * Parameters from outside input, shared by the HTTP routes (query strings) and the CLI (flags):
 * zod schemas validated at the edge. Below both `server` and `cli`, so neither imports the other.
 *
 * Times are ISO-8601 (a date or a date-time, UTC unless an offset is given) or integer
 * milliseconds since the epoch; they become integer microseconds, and only times a JS number holds
 * exactly as microseconds are accepted (1970-01-01 to 2255-06-05). `asOf` is a table version
 * (digits) or such a time.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import { slugSchema } from '../model/quote.ts'

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

const TIME_DESCRIPTION =
  'ISO-8601 date or date-time (UTC unless an offset is given, up to microseconds) or epoch milliseconds.'

export const timeParam = z
  .string()
  .transform((s, ctx): number => {
    if (/^\d{1,13}$/.test(s)) return Number(s) * 1000
    if (!ISO.test(s)) {
      ctx.addIssue({ code: 'custom', message: `not an ISO-8601 time or epoch milliseconds: ${s}` })
      return z.NEVER
    }
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(s) && s.length > 10
    const frac = /\.(\d{1,6})/.exec(s)?.[1] ?? ''
    const ms = Date.parse(hasZone ? s : s.length === 10 ? `${s}T00:00:00Z` : `${s}Z`)
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `invalid time: ${s}` })
      return z.NEVER
    }
    // Date.parse keeps milliseconds only; add back the sub-millisecond digits.
    const micros = ms * 1000 + (frac.length > 3 ? Number(frac.padEnd(6, '0').slice(3)) : 0)
    if (micros < 0 || micros > Number.MAX_SAFE_INTEGER) {
      ctx.addIssue({ code: 'custom', message: `time out of range (1970 to 2255): ${s}` })
      return z.NEVER
    }
    return micros
  })
  .meta({ description: TIME_DESCRIPTION })

/** A comma-separated list of slugs (assets or sources). */
export const slugListParam = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(slugSchema).max(100))

export type AsOfParam = { version: number } | { timestamp: number }

export const asOfParam = z
  .string()
  .transform((s, ctx): AsOfParam => {
    if (/^\d{1,15}$/.test(s)) return { version: Number(s) }
    const t = timeParam.safeParse(s)
    if (!t.success) {
      const why = t.error.issues[0]?.message ?? s
      ctx.addIssue({ code: 'custom', message: `asOf must be a table version or an ISO-8601 time (${why})` })
      return z.NEVER
    }
    return { timestamp: Math.floor(t.data / 1000) }
  })
  .meta({
    description:
      'Time travel: read the table as of this version (digits) or this time (ISO-8601). ' +
      'An unknown version is a 404.',
  })

/** An integer query parameter within bounds. */
export const intParam = (min: number, max: number, fallback: number, description: string) =>
  z.coerce.number().int().min(min).max(max).default(fallback).meta({ description })

/** One line naming each bad parameter (`path: message`; `part` when the issue has no path). */
export function describeIssues(error: z.ZodError, part: string): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : part}: ${i.message}`).join('; ')
}

/** Parses `input` or throws INVALID_ARGUMENT naming each bad parameter (for inputs that do not
 * come through a route's schema, e.g. CLI flags). */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  throw new CryptoVizError('INVALID_ARGUMENT', describeIssues(r.error, 'query'), { kind: 'user' })
}
