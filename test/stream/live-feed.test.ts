import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LiveFeed } from '../../src/stream/live-feed.ts'
import type { Quote } from '../../src/model/quote.ts'

const quote = (i: number): Quote => ({
  ts: i,
  source: 'simulated',
  crypto: 'bitcoin',
  symbol: 'BTC',
  name: 'Bitcoin',
  price_usd: 1 + i,
  market_cap_usd: null,
  volume_24h_usd: null,
  change_1h_pct: null,
  change_24h_pct: null,
  change_7d_pct: null,
  circulating_supply: null,
  total_supply: null,
  max_supply: null,
  rank: null,
  ingested_at: i,
})

test('events get increasing ids and reach every subscriber in order', () => {
  const feed = new LiveFeed()
  const seen: number[] = []
  feed.subscribe((e) => seen.push(e.id))
  feed.push([quote(1), quote(2)])
  feed.push([quote(3)])
  assert.deepEqual(seen, [1, 2, 3])
})

test('a client resumes after its last event id', () => {
  const feed = new LiveFeed({ capacity: 10 })
  feed.push([1, 2, 3, 4, 5].map(quote))
  assert.deepEqual(
    feed.since(2)!.map((e) => e.id),
    [3, 4, 5],
  )
  assert.deepEqual(feed.since(5), [])
})

test('resuming from an event that left the ring says so instead of skipping silently', () => {
  const feed = new LiveFeed({ capacity: 3 })
  feed.push([1, 2, 3, 4, 5, 6].map(quote))
  assert.equal(feed.since(1), undefined)
  assert.deepEqual(
    feed.since(3)!.map((e) => e.id),
    [4, 5, 6],
  )
})
