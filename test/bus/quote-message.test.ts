import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeQuote, encodeQuote, SCHEMA_VERSION, wellFormedQuote } from '../../src/bus/quote-message.ts'
import { quoteSchema } from '../../src/model/quote.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

test('a quote message is the quote’s own fields plus schema_version, and decodes back to the quote', () => {
  const q = makeQuote()
  const json = JSON.parse(encodeQuote(q).toString('utf8')) as Record<string, unknown>
  assert.equal(json['schema_version'], SCHEMA_VERSION)
  assert.deepEqual({ ...json, schema_version: undefined }, { ...q, schema_version: undefined })
  assert.deepEqual(decodeQuote(encodeQuote(q)), { ok: true, value: q })
})

test('the fast quote check gives the same verdict and value as quoteSchema on mutated messages', () => {
  const random = mulberry32(11)
  const base = { schema_version: SCHEMA_VERSION, ...makeQuote() } as Record<string, unknown>
  const odd: unknown[] = [
    null,
    undefined,
    0,
    -1,
    1.5,
    2 ** 60,
    Number.NaN,
    '',
    'x',
    'Bad Slug',
    'a'.repeat(101),
    true,
    {},
    [],
    1e308 * 10,
  ]
  const keys = Object.keys(base)
  for (let i = 0; i < 5_000; i++) {
    const m: Record<string, unknown> = { ...base }
    const changes = 1 + Math.floor(random() * 2)
    for (let c = 0; c < changes; c++) {
      const key = keys[Math.floor(random() * keys.length)]!
      if (random() < 0.1) delete m[key]
      else m[key] = odd[Math.floor(random() * odd.length)]
    }
    if (random() < 0.2) m['extra'] = 1
    const fast = wellFormedQuote(m)
    const { schema_version: version, ...fields } = m
    const slow = version === SCHEMA_VERSION ? quoteSchema.safeParse(fields) : { success: false as const }
    assert.equal(fast !== undefined, slow.success, `verdicts differ on ${JSON.stringify(m)}`)
    if (fast && slow.success) assert.deepEqual(fast, slow.data)
  }
})

test('a quote message has the same bytes as the quote spread after schema_version, nulls included', () => {
  for (const q of [
    makeQuote(),
    makeQuote({ market_cap_usd: null, rank: null, max_supply: null, name: 'Ünïcode “coin”' }),
  ]) {
    assert.equal(encodeQuote(q).toString('utf8'), JSON.stringify({ schema_version: SCHEMA_VERSION, ...q }))
  }
})
