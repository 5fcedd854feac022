/**
 * Checks every provider item passes before it becomes a `Quote`. Each failed check names a stable
 * dead-letter reason, so bad items are counted and kept, never dropped or stored as quotes.
 *
 * Reasons:
 * - `shape_invalid`: the item is not the documented object (missing id/name, wrong types).
 * - `price_missing`: the USD price is null or absent.
 * - `price_not_positive`: the USD price is zero or negative.
 * - `number_not_finite`: a number overflowed to ±Infinity (JSON such as `1e999`).
 * - `timestamp_missing` / `timestamp_invalid`: no usable provider `last_updated`.
 * - `timestamp_in_future`: `last_updated` is later than now plus the tolerance.
 * - `slug_invalid`: the asset id cannot be a canonical slug (`crypto` must be path-safe).
 * - `quote_invalid`: the normalised quote still breaks the quote model (a safety net).
 */
import { z } from 'zod'
import { quoteSchema, slugSchema, type Quote } from '../model/quote.ts'
import { isoFromMicros, microsFromMillis } from '../micros.ts'

export interface Rejection {
  reason: string
  detail: string
}

/** Any JS number, Infinity included, so overflow is reported as `number_not_finite`, not a shape error. */
export const anyNumber = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' })
export const optionalNumber = anyNumber.nullable().optional()

/** The zod issues of a failed parse, one line. */
export function issuesText(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(item)'}: ${i.message}`)
    .join('; ')
}

export function checkPrice(price: number | null | undefined, field: string): Rejection | undefined {
  if (price === null || price === undefined)
    return { reason: 'price_missing', detail: `${field} is ${price}` }
  if (!Number.isFinite(price)) return { reason: 'number_not_finite', detail: `${field} is ${price}` }
  if (price <= 0) return { reason: 'price_not_positive', detail: `${field} is ${price}` }
  return undefined
}

/** The first non-finite number among optional numeric fields. */
export function checkFinite(fields: Record<string, number | null | undefined>): Rejection | undefined {
  for (const [field, v] of Object.entries(fields))
    if (typeof v === 'number' && !Number.isFinite(v))
      return { reason: 'number_not_finite', detail: `${field} is ${v}` }
  return undefined
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/

/** A provider ISO-8601 timestamp as integer microseconds, checked against now plus the tolerance. */
export function providerTime(
  value: string | null | undefined,
  field: string,
  nowMs: number,
  toleranceMs: number,
): { micros: number } | Rejection {
  if (value === null || value === undefined)
    return { reason: 'timestamp_missing', detail: `${field} is ${value}` }
  const ms = ISO_UTC.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms))
    return { reason: 'timestamp_invalid', detail: `${field} ${JSON.stringify(value)} is not ISO-8601` }
  // Date.parse keeps milliseconds only; recover the sub-millisecond digits when a provider sends them.
  const frac = /\.(\d{4,6})/.exec(value)?.[1]
  const extra = frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(3))
  const micros = microsFromMillis(ms) + extra
  if (ms > nowMs + toleranceMs)
    return {
      reason: 'timestamp_in_future',
      detail: `${field} ${isoFromMicros(micros)} is ${ms - nowMs} ms ahead of now (tolerance ${toleranceMs} ms)`,
    }
  return { micros }
}

export function checkSlug(crypto: string, field: string): Rejection | undefined {
  const r = slugSchema.safeParse(crypto)
  return r.success
    ? undefined
    : { reason: 'slug_invalid', detail: `${field} ${JSON.stringify(crypto)}: ${issuesText(r.error)}` }
}

/** The quote when it satisfies the quote model, else the `quote_invalid` rejection. */
export function finalQuote(candidate: Quote): { quote: Quote } | Rejection {
  const r = quoteSchema.safeParse(candidate)
  return r.success ? { quote: r.data } : { reason: 'quote_invalid', detail: issuesText(r.error) }
}

export const isRejection = (v: object): v is Rejection => 'reason' in v
