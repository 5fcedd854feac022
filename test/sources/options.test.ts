import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError } from '../../src/errors.ts'
import {
  coingeckoOptionsSchema,
  coinmarketcapOptionsSchema,
  parseOptions,
  sourcesOptionsSchema,
} from '../../src/sources/options.ts'

test('every source option has a default, so an empty config is complete', () => {
  const o = sourcesOptionsSchema.parse({})
  assert.deepEqual(o.coingecko, {
    plan: 'public',
    baseUrl: 'https://api.coingecko.com',
    intervalMs: 60_000,
    perPage: 250,
    pages: 1,
    order: 'market_cap_desc',
    rateLimit: { requestsPerMinute: 5, burst: 2 },
    retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 },
    circuitBreaker: { failureThreshold: 5, openMs: 120_000 },
    timeoutMs: 10_000,
    futureToleranceMs: 120_000,
  })
  assert.equal(o.coinmarketcap.baseUrl, 'https://pro-api.coinmarketcap.com')
  assert.equal(o.coinmarketcap.limit, 200)
  assert.equal(o.coinmarketcap.dailyCreditBudget, 300)
  assert.deepEqual(o.simulated, { assets: 20, seed: 42, intervalMs: 2000 })
  assert.equal(o.backfill.windowDays, 90)
})

test('the CoinMarketCap defaults spend at most the daily budget', () => {
  const o = coinmarketcapOptionsSchema.parse({})
  const callsPerDay = 86_400_000 / o.intervalMs
  assert.ok(callsPerDay * Math.ceil(o.limit / 200) <= o.dailyCreditBudget)
  assert.ok(o.rateLimit.requestsPerMinute <= 30)
})

test('a CoinGecko demo key gets a slower interval within 10,000 calls a month', () => {
  const o = coingeckoOptionsSchema.parse({ plan: 'demo', apiKey: 'k' })
  assert.ok((31 * 86_400_000) / o.intervalMs <= 10_000)
  assert.ok(o.rateLimit.requestsPerMinute <= 30)
})

test('explicit values override the plan defaults', () => {
  const o = coingeckoOptionsSchema.parse({ intervalMs: 5000, rateLimit: { requestsPerMinute: 1, burst: 1 } })
  assert.equal(o.intervalMs, 5000)
  assert.deepEqual(o.rateLimit, { requestsPerMinute: 1, burst: 1 })
})

test('refuses a key without a keyed plan, a keyed plan without a key, and out-of-range values', () => {
  const bad = (schema: Parameters<typeof parseOptions>[0], input: unknown, re: RegExp): void =>
    assert.throws(
      () => parseOptions(schema, input, 'x'),
      (e: unknown) => isCryptoVizError(e, 'CONFIG_INVALID') && re.test(e.message),
    )
  bad(coingeckoOptionsSchema, { apiKey: 'k' }, /x\.plan: an API key was given with the keyless "public" plan/)
  bad(coingeckoOptionsSchema, { plan: 'pro' }, /x\.apiKey: the pro plan needs an API key/)
  bad(coingeckoOptionsSchema, { perPage: 251 }, /x\.perPage/)
  bad(coinmarketcapOptionsSchema, { limit: 5001 }, /x\.limit/)
  bad(coinmarketcapOptionsSchema, { baseUrl: 'not a url' }, /x\.baseUrl/)
})

test('parsed options are frozen', () => {
  const o = parseOptions(coinmarketcapOptionsSchema, {}, 'cmc')
  assert.ok(Object.isFrozen(o))
  assert.ok(Object.isFrozen(o.retry))
})
