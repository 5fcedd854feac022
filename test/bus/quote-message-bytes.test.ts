/**
 * The fast decode (`readQuoteRow`, bytes → a chunk row) against the general one (JSON.parse, then
 * `wellFormedQuote`): on random valid quotes, hand-written number syntax at the edges, escapes,
 * unicode, reordered, missing, extra and mistyped fields and random byte damage, the fast path
 * accepts only what the general one accepts, with the same values; and it does accept every
 * message `encodeQuote` writes with plain ASCII strings. A chunk built from a partition's records
 * the way `KafkaBus` builds it is the chunk `packQuotes` makes of the decoded quotes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeQuote, encodeQuote, readQuoteRow, wellFormedQuote } from '../../src/bus/quote-message.ts'
import {
  NUMBER_FIELDS,
  packQuotes,
  QuoteChunkBuilder,
  STRING_FIELDS,
  unpackQuotes,
} from '../../src/model/quote-chunk.ts'
import { QUOTE_COLUMNS, QUOTE_FIELDS, type Quote } from '../../src/model/quote.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

const random = mulberry32(20261130)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
const numbers = new Float64Array(NUMBER_FIELDS.length)
const strings: string[] = STRING_FIELDS.map(() => '')

/** What the general path makes of the bytes (undefined: it does not accept them as well formed). */
function general(bytes: Buffer): Quote | undefined {
  try {
    return wellFormedQuote(JSON.parse(bytes.toString('utf8')))
  } catch {
    return undefined
  }
}

/**
 * Bytes a message is read amid (as a record's value lies amid the other records of a fetched
 * batch): what would extend a cut number, string or message if the reader looked past its end.
 */
const NEIGHBOURS = Buffer.from('"0123456789.e-}null,"', 'latin1')

/**
 * The fast path's row as a quote (NaN back to null); undefined when it declines. The message is
 * read alone and again amid `NEIGHBOURS`, and the two must agree: the bytes around a value never
 * change its verdict.
 */
function fast(bytes: Buffer): Quote | undefined {
  const alone = row(bytes, 0, bytes.length)
  const amid = Buffer.concat([NEIGHBOURS, bytes, NEIGHBOURS])
  assert.deepEqual(row(amid, NEIGHBOURS.length, NEIGHBOURS.length + bytes.length), alone)
  return alone
}

function row(b: Buffer, start: number, end: number): Quote | undefined {
  if (!readQuoteRow(b, start, end, numbers, strings)) return undefined
  const q: Record<string, unknown> = {}
  for (const f of QUOTE_FIELDS) {
    if (QUOTE_COLUMNS[f].type === 'string') q[f] = strings[STRING_FIELDS.indexOf(f)]
    else {
      const v = numbers[NUMBER_FIELDS.indexOf(f)]!
      q[f] = Number.isNaN(v) ? null : v
    }
  }
  return q as Quote
}

/** Same fields, numbers compared with Object.is (so -0 and 0 differ). */
function assertSameQuote(actual: Quote, expected: Quote, context: string): void {
  for (const f of QUOTE_FIELDS) {
    assert.ok(
      Object.is(actual[f], expected[f]),
      `${f}: ${String(actual[f])} ≠ ${String(expected[f])} in ${context}`,
    )
  }
}

/** The fast path declines, or agrees with the general path; returns whether it accepted. */
function check(bytes: Buffer): boolean {
  const f = fast(bytes)
  const context = bytes.toString('utf8')
  if (f === undefined) return false
  const g = general(bytes)
  assert.ok(g !== undefined, `fast path accepted what the general path refuses: ${context}`)
  assertSameQuote(f, g, context)
  return true
}

const EDGE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  0.5,
  1e-7,
  1e21,
  1e22,
  1e23,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  Number('123456789012345678'),
  0.1 + 0.2,
  58291.80469742693,
  1148348552539.3105,
  -0.7283648582656457,
  999999999999999.9,
  9007199254740993e-10,
]
/** A random double over many magnitudes, often with 16–17 significant digits. */
function randomNumber(): number {
  const r = random()
  if (r < 0.2) return pick(EDGE_NUMBERS)
  if (r < 0.35) return Math.floor(random() * 10 ** Math.floor(random() * 17))
  const v = (random() - 0.3) * 10 ** Math.floor(random() * 60 - 30)
  return r < 0.5 ? Number(v.toPrecision(1 + Math.floor(random() * 17))) : v
}
const ASCII = 'abcdefghijklmnopqrstuvwxyz0123456789.-_ ABCXYZ!#$%&()*+,/:;<=>?@[]^`{|}~'
const ODD_CHARS = ['"', '\\', '\n', '\u0000', '\u007f', 'é', 'Ω', '€', '😀', '\ud800', '\u2028']
function randomString(): string {
  const n = pick([0, 1, 1 + Math.floor(random() * 12), 49, 50, 51, 99, 100, 101, 199, 200, 201])
  let s = ''
  for (let i = 0; i < n; i++)
    s += random() < 0.03 ? pick(ODD_CHARS) : ASCII[Math.floor(random() * ASCII.length)]
  return s
}
const SLUGS = [
  'simulated',
  'coingecko',
  'bitcoin',
  'usd-coin',
  'a',
  'wrapped.btc',
  'x_y',
  '0x',
  'a'.repeat(100),
]
function randomQuote(): Quote {
  const nullable = (): number | null => (random() < 0.2 ? null : randomNumber())
  return makeQuote({
    ts: random() < 0.9 ? Math.floor(random() * 2e15) : randomNumber(),
    source: random() < 0.8 ? pick(SLUGS) : randomString().toLowerCase(),
    crypto: random() < 0.8 ? pick(SLUGS) : randomString(),
    symbol: random() < 0.7 ? pick(['BTC', 'ETH', 'X', 'USDT']) : randomString(),
    name: random() < 0.7 ? pick(['Bitcoin', 'Ethereum', 'A B C']) : randomString(),
    price_usd: random() < 0.9 ? Math.abs(randomNumber()) : randomNumber(),
    market_cap_usd: nullable(),
    volume_24h_usd: nullable(),
    change_1h_pct: nullable(),
    change_24h_pct: nullable(),
    change_7d_pct: nullable(),
    circulating_supply: nullable(),
    total_supply: nullable(),
    max_supply: nullable(),
    rank: random() < 0.2 ? null : random() < 0.8 ? 1 + Math.floor(random() * 5_000) : randomNumber(),
    ingested_at: random() < 0.9 ? Math.floor(random() * 2e15) : randomNumber(),
  })
}
const plainAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s)

test('the fast decode accepts every encoded valid quote with plain ASCII text, with the same values', () => {
  let accepted = 0
  for (let i = 0; i < 20_000; i++) {
    const q = randomQuote()
    const bytes = encodeQuote(q)
    const ok = check(bytes)
    const g = general(bytes)
    if (g !== undefined && STRING_FIELDS.every((f) => plainAscii(q[f] as string))) {
      assert.ok(ok, `fast path declined a well-formed message: ${bytes.toString('utf8')}`)
    }
    if (ok) accepted++
  }
  assert.ok(accepted > 5_000, `accepted ${accepted}`)
})

/** JSON number texts JSON.stringify never writes, valid and not. */
const NUMBER_TEXTS = [
  '1.0',
  '1E5',
  '1e+5',
  '1e-5',
  '-0',
  '-0.0',
  '0e0',
  '0.1e-400',
  '1e400',
  '-1e400',
  '1e-324',
  '2.4703282292062328e-324',
  '1.7976931348623157e308',
  '1.7976931348623158e308',
  '123456789012345678901234567890',
  '0.30000000000000004',
  '9007199254740993',
  '9007199254740992.5',
  '1e22',
  '1e23',
  '0.000000000000000000001',
  '1000000000000000000000000e-24',
  '00',
  '01',
  '1.',
  '.5',
  '+1',
  '1e',
  '1e+',
  '-',
  '--1',
  '0x10',
  'NaN',
  'Infinity',
  'nul',
  'null',
  'nulll',
  'true',
  '"1"',
  '[]',
  '{}',
  '1 ',
  ' 1',
]

test('hand-written number syntax is read as JSON.parse reads it, or left to the general path', () => {
  let accepted = 0
  for (let i = 0; i < 20_000; i++) {
    const q = randomQuote()
    const parts = QUOTE_FIELDS.map((f) => {
      const v = q[f]
      if (QUOTE_COLUMNS[f].type !== 'string' && random() < 0.1) return `"${f}":${pick(NUMBER_TEXTS)}`
      return `"${f}":${JSON.stringify(v)}`
    })
    const bytes = Buffer.from(`{"schema_version":1,${parts.join(',')}}`)
    if (check(bytes)) accepted++
  }
  assert.ok(accepted > 1_000, `accepted ${accepted}`)
})

/** A price in `base` (a valid message) replaced by the number `text`: its value read fast, or undefined. */
function fastPrice(base: string, text: string): number | undefined {
  const bytes = Buffer.from(base.replace(/"price_usd":[^,]*/, `"price_usd":${text}`))
  return fast(bytes)?.price_usd
}

/** `digits` (a decimal integer's digits) times 10^exp10, as JSON number text. */
function decimalText(digits: string, exp10: number): string {
  if (exp10 >= 0) return digits + '0'.repeat(exp10)
  const intLength = digits.length + exp10
  return intLength > 0
    ? `${digits.slice(0, intLength)}.${digits.slice(intLength)}`
    : `0.${'0'.repeat(-intLength)}${digits}`
}

test('numbers of 16 to 23 digits, the exact midpoints between doubles cut to those lengths included, read as Number reads them', () => {
  const base = encodeQuote(makeQuote()).toString('latin1')
  const bits = new Float64Array(1)
  const words = new BigUint64Array(bits.buffer)
  let compared = 0
  const same = (text: string): void => {
    const want = Number(text)
    if (!(want > 0)) return
    const got = fastPrice(base, text)
    assert.ok(got !== undefined && Object.is(got, want), `${text}: read ${got}, Number gives ${want}`)
    compared++
  }
  for (let k = 0; k < 20_000; k++) {
    const x = Math.exp((random() - 0.5) * 40)
    same(String(x))
    same(x.toPrecision(19))
    // Random digits, 16 to 23 of them, with the point anywhere.
    const length = 16 + Math.floor(random() * 8)
    let digits = String(1 + Math.floor(random() * 9))
    while (digits.length < length) digits += String(Math.floor(random() * 10))
    same(decimalText(digits, -Math.floor(random() * Math.min(length + 6, 22))))
    // The midpoint between x and the next double, exactly (odd · 2^p), cut to 16..23 digits (just
    // below it) and one unit up (just above): the numbers whose rounding is hardest to get right.
    bits[0] = x
    const exponent = Number((words[0]! >> 52n) & 0x7ffn) - 1075
    const odd = 2n * ((words[0]! & ((1n << 52n) - 1n)) | (1n << 52n)) + 1n
    const p = exponent - 1
    const exact = p >= 0 ? (odd << BigInt(p)).toString() : (odd * 5n ** BigInt(-p)).toString()
    const pointFromRight = p >= 0 ? 0 : -p
    const sig = 16 + (k % 8)
    if (exact.length > sig) {
      const cut = exact.slice(0, sig)
      const exp10 = exact.length - sig - pointFromRight
      same(decimalText(cut, exp10))
      same(decimalText((BigInt(cut) + 1n).toString(), exp10))
    }
  }
  assert.ok(compared > 90_000, `${compared} numbers compared`)
})

test('reordered, missing, extra, duplicated or mistyped fields, other versions and damaged bytes never pass the fast path wrongly', () => {
  const damage = [
    (s: string): string => s.replace('"schema_version":1', '"schema_version":2'),
    (s: string): string => s.replace('"schema_version":1', '"schema_version":1.0'),
    (s: string): string => s.replace('{', '{ '),
    (s: string): string => `${s} `,
    (s: string): string => `${s}x`,
    (s: string): string => s.slice(0, Math.floor(random() * s.length)),
    (s: string): string => s.replace(',"rank"', ',"rank":1,"rank"'),
    (s: string): string => s.replace('}', ',"extra":1}'),
    (s: string): string => s.replace(/,"price_usd":[^,]*/, ''),
    (s: string): string => s.replace(/"ts":([^,]*),"source":("[^"]*")/, '"source":$2,"ts":$1'),
    (s: string): string => s.replace(/"symbol":"[^"]*"/, '"symbol":null'),
    (s: string): string => s.replace(/"symbol":"[^"]*"/, '"symbol":1'),
    (s: string): string => s.replace(/"price_usd":[^,]*/, '"price_usd":"1"'),
    (s: string): string => s.replace(/"source":"[^"]*"/, '"source":"Bad Slug"'),
    (s: string): string => s.replace(/"name":"[^"]*"/, '"name":"\\u0041BC"'),
    (s: string): string => s.replace(/"crypto":"[^"]*"/, '"crypto":"bit\\u0063oin"'),
  ]
  let accepted = 0
  for (let i = 0; i < 20_000; i++) {
    let text = encodeQuote(randomQuote()).toString('utf8')
    if (random() < 0.5) text = pick(damage)(text)
    const bytes = Buffer.from(text)
    // Random byte damage: replace, insert or delete one byte.
    if (random() < 0.5) {
      const at = Math.floor(random() * bytes.length)
      const byte = Math.floor(random() * 256)
      const kind = random()
      const damaged =
        kind < 0.4
          ? Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at + 1)])
          : kind < 0.7
            ? Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)])
            : Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)])
      if (check(damaged)) accepted++
    } else if (check(bytes)) accepted++
  }
  assert.ok(accepted > 1_000, `accepted ${accepted}`)
})

test('a chunk built from records as KafkaBus builds it equals packQuotes of the decoded quotes', () => {
  const values: Buffer[] = []
  for (let i = 0; i < 3_000; i++) {
    const q = randomQuote()
    // Some messages only the general path reads: non-ASCII names, escapes, another field order.
    if (i % 7 === 0) q.name = `Ünïcode “${i}”`
    if (i % 11 === 0) q.symbol = `S\\"${i}`
    const bytes = encodeQuote(q)
    values.push(i % 13 === 0 ? Buffer.from(JSON.stringify({ ...q, schema_version: 1 })) : bytes)
  }
  const decoded = values.map((v) => decodeQuote(v))
  const quotes = decoded.flatMap((d) => (d.ok ? [d.value] : []))
  assert.ok(quotes.length > 500, `${quotes.length} valid quotes`)
  const builder = new QuoteChunkBuilder(values.length)
  let viaBytes = 0
  for (const v of values) {
    if (readQuoteRow(v, 0, v.length, numbers, strings)) {
      builder.appendRow(numbers, strings)
      viaBytes++
    } else {
      const d = decodeQuote(v)
      if (d.ok) builder.appendQuote(d.value)
    }
  }
  assert.ok(viaBytes > 0 && viaBytes < quotes.length, `${viaBytes} of ${quotes.length} read from bytes`)
  const built = builder.finish()
  assert.equal(built.rows, quotes.length)
  const packed = packQuotes(quotes)
  assert.deepEqual(unpackQuotes(built), quotes)
  assert.deepEqual(built.strings, packed.strings)
  for (let c = 0; c < packed.numbers.length; c++) {
    const a = built.numbers[c]!
    const b = packed.numbers[c]!
    for (let i = 0; i < quotes.length; i++) {
      const nullA = a.nulls?.[i] === 1
      assert.equal(nullA, b.nulls?.[i] === 1, `${NUMBER_FIELDS[c]} null at ${i}`)
      if (!nullA) assert.ok(Object.is(a.values[i], b.values[i]), `${NUMBER_FIELDS[c]} at ${i}`)
    }
  }
})

test('past the bound of kept strings the table starts over and every message still reads right', () => {
  for (let i = 0; i < 25_000; i++) {
    const q = makeQuote({ crypto: `asset-${i}`, symbol: `S${i % 7}`, name: `Asset ${i}` })
    const row = fast(encodeQuote(q))
    assert.ok(row !== undefined, `message ${i} read`)
    assertSameQuote(row, q, `message ${i}`)
  }
})
