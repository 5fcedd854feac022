import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError } from '../../src/errors.ts'
import { findGaps } from '../../src/sources/gaps.ts'

const S = 1_000_000 // microseconds per second

test('reports silences longer than factor × interval between consecutive quotes', () => {
  const ts = [0, 60, 120, 180, 400, 460, 641].map((s) => s * S)
  assert.deepEqual(
    findGaps([{ source: 'coingecko', crypto: 'bitcoin', ts }], { intervalMs: 60_000, factor: 3 }),
    [
      {
        source: 'coingecko',
        crypto: 'bitcoin',
        from: 180 * S,
        to: 400 * S,
        durationMs: 220_000,
        missedPolls: 3,
      },
      {
        source: 'coingecko',
        crypto: 'bitcoin',
        from: 460 * S,
        to: 641 * S,
        durationMs: 181_000,
        missedPolls: 3,
      },
    ],
  )
})

test('a silence of exactly factor × interval is not a gap', () => {
  assert.deepEqual(
    findGaps([{ source: 's', crypto: 'c', ts: [0, 180 * S] }], { intervalMs: 60_000, factor: 3 }),
    [],
  )
})

test('uses each source its own polling interval', () => {
  const series = [
    { source: 'simulated', crypto: 'bitcoin', ts: [0, 10 * S] },
    { source: 'coinmarketcap', crypto: 'bitcoin', ts: [0, 600 * S] },
  ]
  const gaps = findGaps(series, { intervalMs: { simulated: 2_000, coinmarketcap: 300_000 } })
  assert.deepEqual(
    gaps.map((g) => [g.source, g.from, g.to]),
    [['simulated', 0, 10 * S]],
  )
})

test('reports silence at the window edges and a series with no quote in the window', () => {
  const window = { from: 0, to: 1000 * S }
  const gaps = findGaps(
    [
      { source: 'cg', crypto: 'eth', ts: [500 * S, 560 * S] },
      { source: 'cg', crypto: 'btc', ts: [2000 * S] },
    ],
    { intervalMs: 60_000, window },
  )
  assert.deepEqual(
    gaps.map((g) => [g.crypto, g.from / S, g.to / S, g.missedPolls]),
    [
      ['btc', 0, 1000, 16],
      ['eth', 0, 500, 8],
      ['eth', 560, 1000, 7],
    ],
  )
})

test('refuses unsorted timestamps and a source without an interval', () => {
  assert.throws(
    () => findGaps([{ source: 's', crypto: 'c', ts: [5, 3] }], { intervalMs: 1000 }),
    (e: unknown) => isCryptoVizError(e, 'INVALID_ARGUMENT') && /not sorted at index 1/.test(e.message),
  )
  assert.throws(
    () => findGaps([{ source: 'other', crypto: 'c', ts: [1] }], { intervalMs: { s: 1000 } }),
    (e: unknown) => isCryptoVizError(e, 'INVALID_ARGUMENT') && /source "other"/.test(e.message),
  )
})
