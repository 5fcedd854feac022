import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalFromCoinMarketCap, CMC_SLUG_OVERRIDES } from '../../src/sources/crypto-slugs.ts'
import { providerTime } from '../../src/sources/quote-checks.ts'
import { RepeatFilter } from '../../src/sources/repeat-filter.ts'
import { slugSchema, type Quote } from '../../src/model/quote.ts'

test('CMC slugs that differ from the CoinGecko id map to the canonical slug; others pass through', () => {
  assert.equal(canonicalFromCoinMarketCap('bnb'), 'binancecoin')
  assert.equal(canonicalFromCoinMarketCap('xrp'), 'ripple')
  assert.equal(canonicalFromCoinMarketCap('terra-luna-v2'), 'terra-luna-2')
  assert.equal(canonicalFromCoinMarketCap('bitcoin'), 'bitcoin')
})

test('the slug override table is one-to-one and never renames onto another entry', () => {
  const targets = Object.values(CMC_SLUG_OVERRIDES)
  assert.equal(new Set(targets).size, targets.length)
  for (const [from, to] of Object.entries(CMC_SLUG_OVERRIDES)) {
    assert.ok(!(to in CMC_SLUG_OVERRIDES), `${from} → ${to} is itself renamed`)
    assert.ok(!targets.includes(from), `${from} is the canonical slug of another entry`)
    assert.ok(slugSchema.safeParse(to).success)
  }
})

test('provider times keep microseconds and accept offsets', () => {
  const now = Date.parse('2024-04-28T10:16:00Z')
  assert.deepEqual(providerTime('2024-04-28T10:15:21.264519Z', 'f', now, 0), {
    micros: Date.parse('2024-04-28T10:15:21.264Z') * 1000 + 519,
  })
  assert.deepEqual(providerTime('2024-04-28T12:15:00+02:00', 'f', now, 0), {
    micros: Date.parse('2024-04-28T10:15:00Z') * 1000,
  })
  assert.equal((providerTime('2024-04-28', 'f', now, 0) as { reason: string }).reason, 'timestamp_invalid')
})

test('the repeat filter remembers a poll only once it is committed', () => {
  const q = (crypto: string, ts: number) => ({ crypto, ts }) as Quote
  const f = new RepeatFilter()
  assert.equal(f.fresh([q('a', 1)]).fresh.length, 1)
  // Not committed: the same quote is still fresh.
  const second = f.fresh([q('a', 1), q('a', 1)])
  assert.equal(second.fresh.length, 1)
  second.commit()
  assert.deepEqual(f.fresh([q('a', 1), q('a', 0), q('a', 2)]).fresh, [q('a', 2)])
  assert.equal(f.suppressedCount(), 1)
})
