/**
 * `writeQuote` (the produce path's in-place writer) makes exactly `encodeQuote`'s bytes: on
 * random quotes, number edges (-0, 1e21, tiny and huge magnitudes, negative integers, the safe
 * integer limits), nulls, escapes and unicode names; and it declines (-1) what it does not write
 * as JSON would, leaving it to `encodeQuote`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  assetFieldsOf,
  encodeQuote,
  quoteValueMax,
  writeQuote,
  type AssetFieldsSlot,
} from '../../src/bus/quote-message.ts'
import type { Quote } from '../../src/model/quote.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

const random = mulberry32(20261201)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!

/** `writeQuote`'s bytes for `q` (written at an odd offset of a dirty buffer), or undefined when it declines. */
function written(q: Quote, slot: AssetFieldsSlot = {}): Buffer | undefined {
  if (assetFieldsOf(q, slot) === undefined) return undefined
  const b = Buffer.alloc(7 + quoteValueMax(slot), 0xab)
  const end = writeQuote(q, b, 7, slot)
  if (end < 0) return undefined
  assert.ok(end <= b.length, 'within quoteValueMax')
  return b.subarray(7, end)
}

const EDGE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  9,
  10,
  -10,
  99,
  100,
  0.1,
  -0.5,
  1e21,
  -1e21,
  1e-7,
  1.5e-7,
  5e-324,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 53 + 2,
  1e15,
  999_999_999_999_999,
  1_000_000_000_000_000,
  Number('123456789.123456789'),
  0.000001,
  1e20,
  Number('12345678901234567890'),
  null,
]
const NUMBER_FIELDS = [
  'price_usd',
  'market_cap_usd',
  'volume_24h_usd',
  'change_1h_pct',
  'change_24h_pct',
  'change_7d_pct',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'rank',
  'ts',
  'ingested_at',
] as const
const NAMES = [
  'Bitcoin',
  'Ünïcödé €uro',
  '比特币',
  'emoji 🚀 coin',
  'quote " and \\ backslash',
  'control \u0001\n\t chars',
  'lone \ud800 surrogate',
  '</script>',
  'x'.repeat(200),
]

test('writeQuote writes encodeQuote’s bytes for random quotes with edge numbers, nulls, escapes and unicode', () => {
  const slots = new Map<string, AssetFieldsSlot>()
  for (let i = 0; i < 20_000; i++) {
    const q = makeQuote({ crypto: `asset-${i % 37}`, source: pick(['simulated', 'coin.gecko', 'a-b_c']) })
    for (const f of NUMBER_FIELDS) {
      const r = random()
      ;(q as unknown as Record<string, unknown>)[f] =
        r < 0.3
          ? pick(EDGE_NUMBERS)
          : r < 0.6
            ? (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)
            : r < 0.8
              ? Math.floor(random() * 2 ** 53) * (random() < 0.2 ? -1 : 1)
              : Math.round(random() * 1e6) / 100
    }
    q.symbol = pick(['BTC', 'É', '"Q"', 'S\\'])
    q.name = pick(NAMES)
    const key = `${q.source}:${q.crypto}`
    const slot = slots.get(key) ?? {}
    slots.set(key, slot)
    const bytes = written(q, slot)
    assert.ok(bytes !== undefined, `declined ${JSON.stringify(q)}`)
    assert.deepEqual(bytes, encodeQuote(q), JSON.stringify(q))
  }
})

test('writeQuote declines what JSON would not write as a number (NaN, infinities, undefined, strings), and a changed name gets new asset bytes', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined, '1']) {
    const q = makeQuote({ market_cap_usd: bad as unknown as number })
    assert.equal(written(q), undefined, String(bad))
  }
  const slot: AssetFieldsSlot = {}
  const a = makeQuote({ name: 'Old name' })
  assert.deepEqual(written(a, slot), encodeQuote(a))
  const b = makeQuote({ name: 'New name' })
  assert.equal(writeQuote(b, Buffer.alloc(1_000), 0, slot), -1, 'stale asset bytes are not used')
  assert.deepEqual(written(b, slot), encodeQuote(b))
  const notString = makeQuote({ symbol: 7 as unknown as string })
  assert.equal(assetFieldsOf(notString, {}), undefined)
})
