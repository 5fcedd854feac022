/**
 * The wire format of the topics: one JSON object per message, the quote's (or dead letter's) own
 * field names plus `schema_version`, so any Kafka tool can read the topics. Decoding validates
 * with zod; what does not decode is a poison message, returned with its reason, never thrown.
 */
import { z } from 'zod'
import type { DeadLetter } from '../model/dead-letter.ts'
import { quoteSchema, type Quote } from '../model/quote.ts'

export const SCHEMA_VERSION = 1

export const quoteKey = (q: Pick<Quote, 'source' | 'crypto'>): string => `${q.source}:${q.crypto}`

export function encodeQuote(q: Quote): Buffer {
  return Buffer.from(JSON.stringify({ schema_version: SCHEMA_VERSION, ...q }))
}

export function encodeDeadLetter(d: DeadLetter): Buffer {
  return Buffer.from(JSON.stringify({ schema_version: SCHEMA_VERSION, ...d }))
}

const deadLetterSchema = z.object({
  source: z.string().min(1),
  reason: z.string().min(1),
  detail: z.string(),
  raw: z.unknown(),
  received_at: z.number().int().nonnegative(),
})

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string }

function decodeWith<T>(bytes: Buffer | null, schema: z.ZodType<T>): Decoded<T> {
  if (bytes === null) return { ok: false, reason: 'message_empty', detail: 'message without a value' }
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    return { ok: false, reason: 'message_not_json', detail: (e as Error).message }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: 'message_not_object', detail: 'the message is not a JSON object' }
  }
  const { schema_version: version, ...fields } = parsed as Record<string, unknown>
  if (version !== SCHEMA_VERSION) {
    return {
      ok: false,
      reason: 'schema_version_unknown',
      detail: `schema_version ${JSON.stringify(version)}; this build reads ${SCHEMA_VERSION}`,
    }
  }
  const r = schema.safeParse(fields)
  if (!r.success) {
    return {
      ok: false,
      reason: 'message_invalid',
      detail: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    }
  }
  return { ok: true, value: r.data }
}

export const decodeQuote = (bytes: Buffer | null): Decoded<Quote> => decodeWith(bytes, quoteSchema)
export const decodeDeadLetter = (bytes: Buffer | null): Decoded<DeadLetter> =>
  decodeWith(bytes, deadLetterSchema as z.ZodType<DeadLetter>)
