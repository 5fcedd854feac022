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

/**
 * The message of a quote. The object is written out field by field (the type makes a missing or
 * unknown field a compile error) rather than spread from the quote: ~10% cheaper to build and
 * stringify, and the same bytes (a test holds them equal).
 */
export function encodeQuote(q: Quote): Buffer {
  return Buffer.from(
    JSON.stringify({
      schema_version: SCHEMA_VERSION,
      ts: q.ts,
      source: q.source,
      crypto: q.crypto,
      symbol: q.symbol,
      name: q.name,
      price_usd: q.price_usd,
      market_cap_usd: q.market_cap_usd,
      volume_24h_usd: q.volume_24h_usd,
      change_1h_pct: q.change_1h_pct,
      change_24h_pct: q.change_24h_pct,
      change_7d_pct: q.change_7d_pct,
      circulating_supply: q.circulating_supply,
      total_supply: q.total_supply,
      max_supply: q.max_supply,
      rank: q.rank,
      ingested_at: q.ingested_at,
    } satisfies Record<keyof Quote | 'schema_version', unknown>),
  )
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

/**
 * Decodes a quote message. Well-formed quotes take a hand-written check (zod costs ~4× the JSON
 * parse, the largest cost of a processor); anything it does not accept goes through `quoteSchema`,
 * which decides and explains. A test holds the two to the same verdicts.
 */
export function decodeQuote(bytes: Buffer | null): Decoded<Quote> {
  if (bytes !== null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(bytes.toString('utf8'))
    } catch {
      parsed = undefined
    }
    const fast = wellFormedQuote(parsed)
    if (fast) return { ok: true, value: fast }
  }
  return decodeWith(bytes, quoteSchema)
}

const SLUG = /^[a-z0-9][a-z0-9._-]*$/
/**
 * Strings already checked, each mapped to one kept instance: a topic carries the same few hundred
 * sources, assets, symbols and names over and over. A decoded quote holds the kept instance, not
 * the copy its JSON.parse made, so the quotes a processor buffers share their strings (fewer
 * objects to keep and to copy in every young-generation collection).
 */
const knownSlugs = new Map<string, string>()
const knownTexts = new Map<string, string>()
const KNOWN_STRINGS_MAX = 10_000
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isFiniteOrNull = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isFinite(v))
/** The kept instance of `v` when it is a slug; undefined when it is not. */
function slug(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const known = knownSlugs.get(v)
  if (known !== undefined) return known
  if (v.length < 1 || v.length > 100 || !SLUG.test(v)) return undefined
  if (knownSlugs.size >= KNOWN_STRINGS_MAX) knownSlugs.clear()
  knownSlugs.set(v, v)
  return v
}
/** The kept instance of `v` when it is a string of 1 to `max` characters; undefined when not. */
function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string' || v.length < 1 || v.length > max) return undefined
  const known = knownTexts.get(v)
  if (known !== undefined) return known
  if (knownTexts.size >= KNOWN_STRINGS_MAX) knownTexts.clear()
  knownTexts.set(v, v)
  return v
}

/** The quote when `v` is a current-version message `quoteSchema` accepts as is; else undefined. */
export function wellFormedQuote(v: unknown): Quote | undefined {
  if (v === null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  if (o['schema_version'] !== SCHEMA_VERSION) return undefined
  const { ts, price_usd, rank, ingested_at } = o
  const source = slug(o['source'])
  const crypto = slug(o['crypto'])
  const symbol = text(o['symbol'], 50)
  const name = text(o['name'], 200)
  const m = o['market_cap_usd']
  const vol = o['volume_24h_usd']
  const c1 = o['change_1h_pct']
  const c24 = o['change_24h_pct']
  const c7 = o['change_7d_pct']
  const cs = o['circulating_supply']
  const tsup = o['total_supply']
  const ms = o['max_supply']
  if (
    !isNonNegInt(ts) ||
    source === undefined ||
    crypto === undefined ||
    symbol === undefined ||
    name === undefined ||
    typeof price_usd !== 'number' ||
    !Number.isFinite(price_usd) ||
    price_usd <= 0 ||
    !isFiniteOrNull(m) ||
    !isFiniteOrNull(vol) ||
    !isFiniteOrNull(c1) ||
    !isFiniteOrNull(c24) ||
    !isFiniteOrNull(c7) ||
    !isFiniteOrNull(cs) ||
    !isFiniteOrNull(tsup) ||
    !isFiniteOrNull(ms) ||
    !(rank === null || (typeof rank === 'number' && Number.isSafeInteger(rank) && rank > 0)) ||
    !isNonNegInt(ingested_at)
  ) {
    return undefined
  }
  return {
    ts,
    source,
    crypto,
    symbol,
    name,
    price_usd,
    market_cap_usd: m,
    volume_24h_usd: vol,
    change_1h_pct: c1,
    change_24h_pct: c24,
    change_7d_pct: c7,
    circulating_supply: cs,
    total_supply: tsup,
    max_supply: ms,
    rank: rank as number | null,
    ingested_at,
  }
}
export const decodeDeadLetter = (bytes: Buffer | null): Decoded<DeadLetter> =>
  decodeWith(bytes, deadLetterSchema as z.ZodType<DeadLetter>)
