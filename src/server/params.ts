/**
 * Query-string validation at the HTTP edge (zod). Times are ISO-8601 (a date or a date-time, UTC
 * unless an offset is given) or integer milliseconds since the epoch; they become microseconds.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import { slugSchema } from '../model/quote.ts'

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

export const timeParam = z.string().transform((s, ctx): number => {
  if (/^\d{1,16}$/.test(s)) return Number(s) * 1000
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
  const micros = frac.length > 3 ? Number(frac.padEnd(6, '0').slice(3)) : 0
  return ms * 1000 + micros
})

export const slugListParam = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(slugSchema).max(100))

export const asOfParam = z.string().transform((s, ctx) => {
  if (/^\d+$/.test(s)) return { version: Number(s) }
  const t = timeParam.safeParse(s)
  if (!t.success) {
    ctx.addIssue({ code: 'custom', message: `asOf must be a table version or an ISO-8601 time: ${s}` })
    return z.NEVER
  }
  return { timestamp: Math.floor(t.data / 1000) }
})

/** Parses `input` or throws INVALID_ARGUMENT naming each bad parameter. */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  const message = r.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')
  throw new CryptoVizError('INVALID_ARGUMENT', message, { kind: 'user' })
}
