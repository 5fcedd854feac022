import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RecentQuotes } from '../../src/stream/recent-quotes.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

test('the hot tail of a serve-only server keeps the window, bounded in count, oldest first', () => {
  let now = 1_000_000
  const recent = new RecentQuotes({ windowMs: 60_000, maxQuotes: 3, now: () => now })
  recent.push([makeQuote({ ts: 1 }), makeQuote({ ts: 2 })])
  now += 30_000
  recent.push([makeQuote({ ts: 3 })])
  assert.deepEqual(
    recent.pending().map((q) => q.ts),
    [1, 2, 3],
  )
  now += 30_000
  recent.push([makeQuote({ ts: 4 })])
  assert.deepEqual(
    recent.pending().map((q) => q.ts),
    [3, 4],
    'past the count bound the oldest chunk goes',
  )
  now += 45_000
  assert.deepEqual(
    recent.pending().map((q) => q.ts),
    [4],
    'past the window too',
  )
})
