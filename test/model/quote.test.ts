import { test } from 'node:test'
import assert from 'node:assert/strict'
import { partitionOf, QUOTE_FIELDS, quoteSchema } from '../../src/model/quote.ts'
import { QUOTES_SCHEMA, quoteToRow } from '../../src/model/quote-table.ts'
import { makeQuote } from '../harness/quote-fixture.ts'
import { isoFromMicros } from '../../src/micros.ts'

test('partition values are zero-padded UTC date parts of ts, then source and crypto', () => {
  const ts = Date.UTC(2024, 0, 5, 23, 59, 59) * 1000
  assert.deepEqual(partitionOf({ ts, source: 'simulated', crypto: 'bitcoin' }), {
    year: '2024',
    month: '01',
    day: '05',
    source: 'simulated',
    crypto: 'bitcoin',
  })
})

test('isoFromMicros keeps microseconds', () => {
  assert.equal(isoFromMicros(1_700_000_000_123_456), '2023-11-14T22:13:20.123456Z')
  assert.equal(isoFromMicros(1_700_000_000_123_000), '2023-11-14T22:13:20.123Z')
})

test('quote schema refuses a non-positive price', () => {
  const r = quoteSchema.safeParse({ price_usd: 0 })
  assert.equal(r.success, false)
})

test('partition values change at UTC midnight, whatever order quotes arrive in', () => {
  const before = Date.UTC(2024, 1, 29, 23, 59, 59, 999) * 1000 + 999
  const after = before + 1
  const p = (ts: number) => partitionOf({ ts, source: 's', crypto: 'c' })
  assert.deepEqual([p(after).day, p(before).day, p(after).month, p(before).month], ['01', '29', '03', '02'])
  assert.equal(p(0).year, '1970')
})

test('a quote row is every field of the quote, in the schema order, then its date parts', () => {
  const q = makeQuote({ ts: Date.UTC(2024, 1, 29, 12) * 1000, max_supply: null, rank: null })
  const row = quoteToRow(q)
  assert.deepEqual(row, { ...q, year: '2024', month: '02', day: '29' })
  assert.deepEqual(Object.keys(row), [...QUOTE_FIELDS, 'year', 'month', 'day'])
  assert.deepEqual(
    QUOTES_SCHEMA.fields.map((f) => f.name),
    Object.keys(row),
  )
})
