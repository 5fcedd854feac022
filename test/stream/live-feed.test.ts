import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LiveFeed } from '../../src/stream/live-feed.ts'
import type { Quote } from '../../src/model/quote.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

const quote = (i: number): Quote => makeQuote({ ts: i, price_usd: 1 + i })

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

test('resuming from an id this feed never handed out asks for a reload', () => {
  const feed = new LiveFeed({ capacity: 10 })
  feed.push([1, 2, 3].map(quote))
  assert.equal(feed.since(50), undefined, 'an id from a previous process')
  assert.equal(feed.since(-1), undefined)
  assert.deepEqual(
    feed.since(0)!.map((e) => e.id),
    [1, 2, 3],
  )
})

test('ids can start from a given first id, so they keep increasing across restarts', () => {
  const feed = new LiveFeed({ capacity: 10, firstId: 1_000 })
  assert.equal(feed.lastId, 999)
  feed.push([quote(1), quote(2)])
  assert.equal(feed.lastId, 1_001)
  assert.deepEqual(
    feed.since(999)!.map((e) => e.id),
    [1_000, 1_001],
  )
  assert.equal(feed.since(5), undefined)
})

test('a subscriber that throws is removed and reported without keeping others from the event', () => {
  const errors: unknown[] = []
  const feed = new LiveFeed({ onListenerError: (e) => errors.push(e) })
  const seen: number[] = []
  feed.subscribe(() => {
    throw new Error('broken listener')
  })
  feed.subscribe((e) => seen.push(e.id))
  feed.push([quote(1), quote(2)])
  assert.deepEqual(seen, [1, 2])
  assert.equal(errors.length, 1)
  assert.equal(feed.subscriberCount, 1)
})

test('the ring never holds more than its capacity', () => {
  const feed = new LiveFeed({ capacity: 5 })
  feed.push(Array.from({ length: 1_000 }, (_, i) => quote(i)))
  assert.deepEqual(
    feed.since(995)!.map((e) => e.id),
    [996, 997, 998, 999, 1_000],
  )
  assert.equal(feed.since(994), undefined)
  assert.throws(() => new LiveFeed({ capacity: 0 }), RangeError)
})
