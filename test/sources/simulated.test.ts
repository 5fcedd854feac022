import { test } from 'node:test'
import assert from 'node:assert/strict'
import { quoteSchema } from '../../src/model/quote.ts'
import { packQuotes, unpackQuotes } from '../../src/model/quote-chunk.ts'
import { MarketSimulator, SimulatedSource } from '../../src/sources/simulated.ts'

const START = Date.UTC(2024, 0, 1) * 1000
const MINUTE = 60_000_000

function run(assets: number, seed: number, ticks: number) {
  const sim = new MarketSimulator({ assets, seed, startTs: START })
  const out = []
  for (let i = 0; i < ticks; i++) out.push(...sim.tick(START + i * MINUTE))
  return out
}

test('the same seed gives the same quotes', () => {
  assert.deepEqual(run(5, 7, 100), run(5, 7, 100))
})

test('another seed gives other prices', () => {
  assert.notDeepEqual(
    run(3, 1, 10).map((q) => q.price_usd),
    run(3, 2, 10).map((q) => q.price_usd),
  )
})

test("an asset's path does not depend on how many assets are simulated", () => {
  const btc = (n: number) =>
    run(n, 9, 50)
      .filter((q) => q.crypto === 'bitcoin')
      .map((q) => q.price_usd)
  assert.deepEqual(btc(1), btc(30))
})

test('simulated quotes are valid, labelled simulated, and carry real slugs', () => {
  const quotes = run(20, 3, 200)
  for (const q of quotes) {
    assert.equal(quoteSchema.safeParse(q).success, true, JSON.stringify(q))
    assert.equal(q.source, 'simulated')
  }
  assert.deepEqual(
    quotes.slice(0, 3).map((q) => q.crypto),
    ['bitcoin', 'ethereum', 'tether'],
  )
})

test('the 1h change compares with the price an hour earlier', () => {
  const sim = new MarketSimulator({ assets: 1, seed: 5, startTs: START })
  const prices = new Map<number, number>()
  let last
  for (let i = 0; i <= 180; i++) {
    const [q] = sim.tick(START + i * MINUTE)
    prices.set(START + i * MINUTE, q!.price_usd)
    last = q!
  }
  const before = prices.get(last!.ts - 60 * MINUTE)!
  assert.ok(Math.abs(last!.change_1h_pct! - ((last!.price_usd - before) / before) * 100) < 1e-9)
})

test('prices move like a random walk: no negative prices and plausible daily volatility', () => {
  const quotes = run(1, 11, 1440 * 30).map((q) => q.price_usd)
  assert.ok(quotes.every((p) => p > 0))
  const daily = []
  for (let d = 1; d < 30; d++) daily.push(Math.log(quotes[d * 1440]! / quotes[(d - 1) * 1440]!))
  const sd = Math.sqrt(daily.reduce((s, x) => s + x * x, 0) / daily.length)
  // Bitcoin is simulated at 55% a year, about 2.9% a day.
  assert.ok(sd > 0.01 && sd < 0.06, `daily sd ${sd}`)
})

test('a live simulated source never repeats a timestamp, even within one millisecond', async () => {
  const source = new SimulatedSource({ assets: 2, seed: 1, intervalMs: 1000, now: () => 1_700_000_000_000 })
  const a = await source.poll()
  const b = await source.poll()
  assert.ok(b.quotes[0]!.ts > a.quotes[0]!.ts)
  assert.deepEqual(a.deadLetters, [])
})

test('more assets than the catalogue get numbered, non-real slugs', () => {
  const sim = new MarketSimulator({ assets: 105, seed: 1, startTs: START })
  const quotes = sim.tick(START)
  assert.equal(quotes.length, 105)
  assert.equal(quotes[104]!.crypto, 'sim-asset-0105')
  assert.equal(new Set(quotes.map((q) => q.crypto)).size, 105)
})

test("the simulator's chunk is packQuotes of its ticks' quotes, asset by asset", () => {
  // Across a day boundary, with uncapped assets (null max_supply) among the 12.
  const ticks = Array.from({ length: 90 }, (_, i) => START - 30 * MINUTE + i * MINUTE)
  const later = Array.from({ length: 40 }, (_, i) => START + 90 * MINUTE + i * MINUTE)
  const bySim = new MarketSimulator({ assets: 12, seed: 11, startTs: ticks[0]! })
  const byTick = new MarketSimulator({ assets: 12, seed: 11, startTs: ticks[0]! })
  for (const window of [ticks, later]) {
    const quotes = window.map((ts) => byTick.tick(ts))
    const assetMajor = quotes[0]!.flatMap((_, a) => quotes.map((atTick) => atTick[a]!))
    const chunk = bySim.chunk(window)
    assert.deepEqual(chunk, packQuotes(assetMajor))
    assert.deepEqual(unpackQuotes(chunk), assetMajor)
  }
})

test('a chunk filled in another asset order holds the same quotes', () => {
  const ticks = Array.from({ length: 30 }, (_, i) => START + i * MINUTE)
  const inOrder = new MarketSimulator({ assets: 5, seed: 4, startTs: START }).chunk(ticks)
  const reversed = new MarketSimulator({ assets: 5, seed: 4, startTs: START }).startChunk(ticks)
  for (let a = 4; a >= 0; a--) reversed.fill(a)
  assert.deepEqual(reversed.chunk, inOrder)
})

test("a chunk of some assets holds those assets' quotes", () => {
  const ticks = Array.from({ length: 20 }, (_, i) => START + i * MINUTE)
  const sim = new MarketSimulator({ assets: 10, seed: 8, startTs: START })
  const byTick = new MarketSimulator({ assets: 10, seed: 8, startTs: START })
  const all = ticks.map((ts) => byTick.tick(ts))
  const part = sim.startChunk(ticks, 3, 9)
  for (let a = 3; a < 9; a++) part.fill(a)
  assert.throws(() => part.fill(9), RangeError)
  const expected = [3, 4, 5, 6, 7, 8].flatMap((a) => all.map((atTick) => atTick[a]!))
  assert.deepEqual(part.chunk, packQuotes(expected))
})
