/**
 * The wire format of the topics: one JSON object per message, the quote's (or dead letter's) own
 * field names plus `schema_version`, so any Kafka tool can read the topics. Decoding validates
 * with zod; what does not decode is a poison message, returned with its reason, never thrown.
 */
import { z } from 'zod'
import type { DeadLetter } from '../model/dead-letter.ts'
import { NUMBER_FIELDS, STRING_FIELDS } from '../model/quote-chunk.ts'
import { QUOTE_COLUMNS, QUOTE_FIELDS, quoteSchema, type Quote } from '../model/quote.ts'

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

/**
 * What `writeQuote` keeps per asset: the message's text from `,"source":` to `"price_usd":`
 * (source, crypto, symbol and name follow each other in `encodeQuote`'s order), made once by
 * `JSON.stringify` itself, with the symbol and name it holds (a renamed asset gets new text).
 */
export interface AssetFields {
  symbol: string
  name: string
  text: string
  /** `text`'s UTF-8 bytes. */
  bytes: number
}

/** Where a caller keeps an asset's `AssetFields` (e.g. next to its message key). */
export interface AssetFieldsSlot {
  assetFields?: AssetFields | undefined
}

/** Most bytes `writeQuote` writes besides the asset's fields: fixed keys (~200) and 12 numbers of at most 25 characters, with room to spare. */
const QUOTE_VALUE_FIXED_MAX = 640

/** The most bytes `writeQuote` may write for a quote of the asset whose fields `slot` holds. */
export function quoteValueMax(slot: AssetFieldsSlot): number {
  return QUOTE_VALUE_FIXED_MAX + (slot.assetFields?.bytes ?? 0)
}

/** A number field as JSON writes it by `String` (finite numbers; -0 is "0" in both) or null. */
const isJsonNumber = (v: unknown): boolean => (typeof v === 'number' ? Number.isFinite(v) : v === null)

/**
 * The UTF-8 bytes of `s` written at `at` of `b`; their count. Node's own `utf8Write` when present
 * (what `write` calls after its argument checks), else `write`.
 */
const utf8Write: (b: Buffer, s: string, at: number) => number =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (b, s, at) => (b as Buffer & { utf8Write(s: string, at: number): number }).utf8Write(s, at)
    : (b, s, at) => b.write(s, at, 'utf8')

/**
 * Writes `q`'s message, the bytes `encodeQuote(q)` makes, into `b` at `at`, which has room for
 * `quoteValueMax(slot)` bytes once `slot` holds the asset's fields (`assetFieldsOf`): one string
 * of the asset's kept text and the numbers as `String` writes them (what JSON writes for finite
 * numbers and null), written once; no object, no Buffer per message. Returns the position past
 * the message, or -1 when `q` holds something this writer does not write as JSON would (a number
 * that is not finite, a field that is neither number nor null, stale asset fields): the caller
 * then takes `encodeQuote(q)`. test/bus/quote-message-writer.test.ts holds the bytes equal.
 */
export function writeQuote(q: Quote, b: Buffer, at: number, slot: AssetFieldsSlot): number {
  const fields = slot.assetFields
  if (fields === undefined || fields.symbol !== q.symbol || fields.name !== q.name) return -1
  const {
    ts,
    price_usd,
    market_cap_usd,
    volume_24h_usd,
    change_1h_pct,
    change_24h_pct,
    change_7d_pct,
    circulating_supply,
    total_supply,
    max_supply,
    rank,
    ingested_at,
  } = q
  if (
    !isJsonNumber(ts) ||
    !isJsonNumber(price_usd) ||
    !isJsonNumber(market_cap_usd) ||
    !isJsonNumber(volume_24h_usd) ||
    !isJsonNumber(change_1h_pct) ||
    !isJsonNumber(change_24h_pct) ||
    !isJsonNumber(change_7d_pct) ||
    !isJsonNumber(circulating_supply) ||
    !isJsonNumber(total_supply) ||
    !isJsonNumber(max_supply) ||
    !isJsonNumber(rank) ||
    !isJsonNumber(ingested_at)
  ) {
    return -1
  }
  const text = `{"schema_version":${SCHEMA_VERSION},"ts":${ts}${fields.text}${price_usd},"market_cap_usd":${market_cap_usd},"volume_24h_usd":${volume_24h_usd},"change_1h_pct":${change_1h_pct},"change_24h_pct":${change_24h_pct},"change_7d_pct":${change_7d_pct},"circulating_supply":${circulating_supply},"total_supply":${total_supply},"max_supply":${max_supply},"rank":${rank},"ingested_at":${ingested_at}}`
  return at + utf8Write(b, text, at)
}

/**
 * `slot`'s asset fields for `q`, made (by `JSON.stringify`, as `encodeQuote` writes them) when
 * missing or when the symbol or name changed; undefined when a string field is not a string.
 */
export function assetFieldsOf(q: Quote, slot: AssetFieldsSlot): AssetFields | undefined {
  const known = slot.assetFields
  if (known !== undefined && known.symbol === q.symbol && known.name === q.name) return known
  const { source, crypto, symbol, name } = q
  if (
    typeof source !== 'string' ||
    typeof crypto !== 'string' ||
    typeof symbol !== 'string' ||
    typeof name !== 'string'
  ) {
    return undefined
  }
  const text = `,"source":${JSON.stringify(source)},"crypto":${JSON.stringify(crypto)},"symbol":${JSON.stringify(symbol)},"name":${JSON.stringify(name)},"price_usd":`
  slot.assetFields = { symbol, name, text, bytes: Buffer.byteLength(text) }
  return slot.assetFields
}

/**
 * A quote's message as a record value written in place (record-batch.ts's `ValueWriter`): one
 * object reused for every record, pointed at the next quote by `set`.
 */
export class QuoteValue {
  private q: Quote | undefined
  private slot: AssetFieldsSlot = {}
  max = QUOTE_VALUE_FIXED_MAX

  /** Points at `q`, whose asset's fields `slot` keeps. */
  set(q: Quote, slot: AssetFieldsSlot): this {
    this.q = q
    this.slot = slot
    this.max = assetFieldsOf(q, slot) === undefined ? 0 : quoteValueMax(slot)
    return this
  }

  write(b: Buffer, at: number): number {
    return this.max === 0 ? -1 : writeQuote(this.q!, b, at, this.slot)
  }

  bytes(): Buffer {
    return encodeQuote(this.q!)
  }
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

/*
 * The fast decode: a message exactly as `encodeQuote` writes it (the fields in its order, no
 * whitespace, ASCII strings without escapes, JSON numbers) is read straight from its bytes into a
 * row of a quote chunk: no text, no parsed object, no quote object. Anything else (another field
 * order, escapes, non-ASCII text, a check that fails…) is left to `decodeQuote`, which judges it
 * as before; the fast path only ever accepts what `wellFormedQuote` accepts, with the same values
 * (test/bus/quote-message-bytes.test.ts holds the two together on random and hostile messages).
 */

/** What the bytes of field k must be preceded by: its key (and for the first, the version). */
const FIELD_PREFIXES = QUOTE_FIELDS.map((f, k) =>
  Buffer.from(k === 0 ? `{"schema_version":${SCHEMA_VERSION},"${f}":` : `,"${f}":`, 'latin1'),
)
/** Per field: its slot in the row's numbers (≥ 0) or, as -1 - slot, in its strings. */
const FIELD_SLOTS = QUOTE_FIELDS.map((f) =>
  QUOTE_COLUMNS[f].type === 'string' ? -1 - STRING_FIELDS.indexOf(f) : NUMBER_FIELDS.indexOf(f),
)
const N = Object.fromEntries(NUMBER_FIELDS.map((f, i) => [f, i])) as Record<string, number>
const S = Object.fromEntries(STRING_FIELDS.map((f, i) => [f, i])) as Record<string, number>
const [TS, PRICE, RANK, INGESTED_AT] = [N['ts']!, N['price_usd']!, N['rank']!, N['ingested_at']!]
const [SOURCE, CRYPTO, SYMBOL, NAME] = [S['source']!, S['crypto']!, S['symbol']!, S['name']!]
/** Powers of ten exactly representable as doubles. */
const EXACT_POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k)

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

/** FNV-1a (32-bit) of a string's bytes: the key of `knownBytes`. */
const FNV_1A_OFFSET = 0x811c9dc5
const FNV_1A_PRIME = 0x01000193

/** A string seen in messages, by its bytes: its kept instance and whether it is a slug. */
interface KnownBytes {
  bytes: Buffer
  value: string
  slug: boolean
}
/** Strings met on the fast path by hash of their bytes (bounded like `knownSlugs`). */
const knownBytes = new Map<number, KnownBytes[]>()
let knownBytesCount = 0

/** Whether `kept` holds the bytes `b[from, to)` (a loop: cheaper than `Buffer.compare` for a few bytes). */
function sameBytes(kept: Buffer, b: Buffer, from: number, to: number): boolean {
  if (kept.length !== to - from) return false
  for (let i = from, j = 0; i < to; i++, j++) if (b[i] !== kept[j]) return false
  return true
}

/** The kept string of `b[from, to)` (printable ASCII, checked by the caller), `h` its `FNV_1A` hash. */
function keptString(b: Buffer, from: number, to: number, h: number): KnownBytes {
  let bucket = knownBytes.get(h)
  if (bucket !== undefined) {
    for (const k of bucket) if (sameBytes(k.bytes, b, from, to)) return k
  }
  if (knownBytesCount >= KNOWN_STRINGS_MAX) {
    knownBytes.clear()
    knownBytesCount = 0
    bucket = undefined
  }
  const value = latin1(b, from, to)
  const k = { bytes: Buffer.from(b.subarray(from, to)), value, slug: value.length <= 100 && SLUG.test(value) }
  knownBytesCount++
  if (bucket === undefined) knownBytes.set(h, [k])
  else bucket.push(k)
  return k
}

/**
 * The bytes as Latin-1 text: Node's own `latin1Slice` when present (what `toString('latin1')`
 * calls after its argument checks, a third of the fast decode's time for long numbers), else
 * `toString`.
 */
const latin1: (b: Buffer, from: number, to: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (b, from, to) => (b as Buffer & { latin1Slice(from: number, to: number): string }).latin1Slice(from, to)
    : (b, from, to) => b.toString('latin1', from, to)

/**
 * Reads the JSON number at `b[i]` into `into[slot]`; the position past it, or -1 when there is
 * none. (The double goes straight into the typed array: returned from a call, it would be boxed
 * in a heap number, a dozen per message.)
 *
 * The digits are kept exactly as `high · 10^lowDigits + low`: `high` the first 15 significant
 * digits, `low` up to 8 more (a double prints with up to 17). Three cases, each correctly rounded
 * as JSON.parse rounds:
 * - up to 15 digits with |scale| ≤ 22: one IEEE operation of two exact doubles (Clinger's fast path);
 * - 16 to 23 digits with a scale in [-22, 0]: the quotient to ~100 bits (double-double
 *   arithmetic), rounded to a double, unless it lies too near a midpoint between two doubles to tell;
 * - anything else (and those near-midpoints): the engine parses the text.
 */
function readNumber(b: Buffer, i: number, end: number, into: Float64Array, slot: number): number {
  const start = i
  const negative = b[i] === MINUS
  if (negative) i++
  let c = b[i]
  if (c === undefined || c < ZERO || c > NINE || i >= end) return -1
  let high = 0
  let low = 0
  let lowDigits = 0
  let scale = 0
  if (c === ZERO) i++
  else {
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) {
      if (high < HIGH_DIGITS_LIMIT) high = high * 10 + (c - ZERO)
      else if (lowDigits < LOW_DIGITS_MAX) {
        low = low * 10 + (c - ZERO)
        lowDigits++
      } else lowDigits = LOW_DIGITS_MAX + 1
      i++
    }
  }
  if (i < end && b[i] === DOT) {
    i++
    if (i >= end || (c = b[i]!) < ZERO || c > NINE) return -1
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) {
      if (high < HIGH_DIGITS_LIMIT) high = high * 10 + (c - ZERO)
      else if (lowDigits < LOW_DIGITS_MAX) {
        low = low * 10 + (c - ZERO)
        lowDigits++
      } else lowDigits = LOW_DIGITS_MAX + 1
      scale--
      i++
    }
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++
    const expNegative = b[i] === MINUS
    if (expNegative || b[i] === PLUS) i++
    if (i >= end || (c = b[i]!) < ZERO || c > NINE) return -1
    let exponent = 0
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) {
      if (exponent < 100_000) exponent = exponent * 10 + (c - ZERO)
      i++
    }
    scale += expNegative ? -exponent : exponent
  }
  if (lowDigits === 0 && scale >= -22 && scale <= 22) {
    // At most 15 digits: exact, and 10^k is exact up to 10^22, so one IEEE multiplication or
    // division rounds correctly (Clinger's fast path).
    const v = scale < 0 ? high / EXACT_POW10[-scale]! : high * EXACT_POW10[scale]!
    into[slot] = negative ? -v : v
    return i
  }
  if (lowDigits > 0 && lowDigits <= LOW_DIGITS_MAX && scale <= 0 && scale >= -22) {
    // (high · 10^lowDigits + low) / 10^-scale, to ~100 bits, then rounded. Written out here, not
    // called: doubles passed to a call that is not inlined are boxed, a heap number each.
    // The numerator exactly as a double-double a + bb: high · 10^lowDigits by Dekker's product
    // (ph + pl), then low added by Knuth's two-sum.
    const scaleLow = EXACT_POW10[lowDigits]!
    // `0 - scale`, not `-scale`: the index of 10^0 must be 0, not -0 (which deoptimizes).
    const divisor = EXACT_POW10[0 - scale]!
    const ph = high * scaleLow
    let t = SPLITTER * high
    const hh = t - (t - high)
    const hl = high - hh
    t = SPLITTER * scaleLow
    const sh = t - (t - scaleLow)
    const sl = scaleLow - sh
    const pl = hh * sh - ph + hh * sl + hl * sh + hl * sl
    const sum = ph + low
    const bv = sum - ph
    const e = ph - (sum - bv) + (low - bv) + pl
    const a = sum + e
    const bb = e - (a - sum)
    // The quotient as q1 + q2: q1 = a / divisor, q2 = the remainder a + bb - q1 · divisor (Dekker
    // again, exact) / divisor. Its error is far below 2^-90 of it.
    const q1 = a / divisor
    const qp = q1 * divisor
    t = SPLITTER * q1
    const qh = t - (t - q1)
    const ql = q1 - qh
    t = SPLITTER * divisor
    const dh = t - (t - divisor)
    const dl = divisor - dh
    const qe = qh * dh - qp + qh * dl + ql * dh + ql * dl
    const q2 = (a - qp - qe + bb) / divisor
    // z = q1 + q2 rounded is the correct rounding unless q1 + q2 lies within MIDPOINT_MARGIN ulp
    // of a midpoint between z and a neighbour (residual ≈ ±ulp/2), or z is a power of two (below
    // it the doubles are twice as dense): those are left to the text. z is normal here (≥ 10^-8).
    const z = q1 + q2
    const residual = q1 - z + q2
    ulpBits[0] = z
    const highWord = ulpWords[HIGH_WORD]!
    if ((highWord & 0xf_ffff) !== 0 || ulpWords[1 - HIGH_WORD] !== 0) {
      ulpWords[HIGH_WORD] = (((highWord >>> 20) & 0x7ff) - 52) << 20
      ulpWords[1 - HIGH_WORD] = 0
      const ulp = ulpBits[0]!
      if (Math.abs(Math.abs(residual) - ulp / 2) > ulp * MIDPOINT_MARGIN) {
        into[slot] = negative ? -z : z
        return i
      }
    }
  }
  // Other numbers (and quotients too near a midpoint) are parsed by the engine from their text.
  into[slot] = Number(latin1(b, start, i))
  return i
}

/** `high` takes digits while below this (so it stays below 10^15, exact). */
const HIGH_DIGITS_LIMIT = 1e14
/** Digits `low` takes after `high`'s (exact below 10^8; with `high`'s 15, 23 digits). */
const LOW_DIGITS_MAX = 8
/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134_217_729
/** How near (in ulps of the result) the quotient may come to a midpoint before the text decides. */
const MIDPOINT_MARGIN = 2 ** -20
/** A double's bits, for its ulp (reused, no allocation). */
const ulpBits = new Float64Array(1)
const ulpWords = new Uint32Array(ulpBits.buffer)
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0

/**
 * Reads a message `encodeQuote` wrote, the bytes `b[start, end)` (a record's value where it lies
 * in a fetched batch: the bytes around it are never read), into `numbers` (NUMBER_FIELDS order,
 * NaN for null) and `strings` (STRING_FIELDS order, kept instances): true when it is in that
 * exact shape and a quote `wellFormedQuote` accepts; false leaves the message to `decodeQuote`.
 */
export function readQuoteRow(
  b: Buffer,
  start: number,
  end: number,
  numbers: Float64Array,
  strings: string[],
): boolean {
  let i = start
  let slugs = 0
  for (let k = 0; k < FIELD_PREFIXES.length; k++) {
    const prefix = FIELD_PREFIXES[k]!
    const n = prefix.length
    if (i + n > end) return false
    for (let j = 0; j < n; j++) if (b[i + j] !== prefix[j]) return false
    i += n
    const slot = FIELD_SLOTS[k]!
    if (slot < 0) {
      if (i >= end || b[i] !== QUOTE) return false
      const from = ++i
      let c: number
      let h = FNV_1A_OFFSET
      while (i < end && (c = b[i]!) !== QUOTE) {
        if (c < 0x20 || c > 0x7e || c === BACKSLASH) return false
        h = Math.imul(h ^ c, FNV_1A_PRIME)
        i++
      }
      if (i >= end) return false
      const known = keptString(b, from, i, h)
      strings[-1 - slot] = known.value
      if (known.slug) slugs |= 1 << (-1 - slot)
      i++
    } else if (b[i] === 0x6e) {
      if (i + 4 > end || b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return false
      numbers[slot] = Number.NaN
      i += 4
    } else {
      i = readNumber(b, i, end, numbers, slot)
      if (i < 0) return false
    }
  }
  if (i !== end - 1 || b[i] !== 0x7d) return false
  // The checks of `wellFormedQuote`, NaN standing for null (nulls pass `isFiniteOrNull`).
  for (let c = 0; c < numbers.length; c++) {
    const v = numbers[c]!
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) return false
  }
  const ts = numbers[TS]!
  const price = numbers[PRICE]!
  const rank = numbers[RANK]!
  const ingestedAt = numbers[INGESTED_AT]!
  return (
    Number.isSafeInteger(ts) &&
    ts >= 0 &&
    Number.isSafeInteger(ingestedAt) &&
    ingestedAt >= 0 &&
    price > 0 &&
    (rank !== rank || (Number.isSafeInteger(rank) && rank > 0)) &&
    (slugs & (1 << SOURCE)) !== 0 &&
    (slugs & (1 << CRYPTO)) !== 0 &&
    strings[SYMBOL]!.length >= 1 &&
    strings[SYMBOL]!.length <= 50 &&
    strings[NAME]!.length >= 1 &&
    strings[NAME]!.length <= 200
  )
}
