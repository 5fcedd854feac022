import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError, type CryptoVizError } from '../../src/errors.ts'
import { CMC_ERROR_CODES, CoinMarketCapSource } from '../../src/sources/coinmarketcap.ts'
import { deadLettersOf } from '../../src/sources/dead-letters.ts'
import type { CoinMarketCapOptionsInput } from '../../src/sources/options.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { CMC_BNB, CMC_BTC, cmcBody, cmcError, cmcListing } from './helpers/fixtures.ts'
import { sequence, startProviderServer, type Handler } from './helpers/provider-server.ts'

const LISTINGS = '/v1/cryptocurrency/listings/latest'
const signal = (): AbortSignal => new AbortController().signal

async function setup(t: TestContext, handler: Handler, options: CoinMarketCapOptionsInput = {}) {
  const server = await startProviderServer(t, handler)
  const clock = new FakeClock()
  const source = new CoinMarketCapSource(
    {
      apiKey: 'cmc-key-1',
      baseUrl: server.baseUrl,
      rateLimit: { requestsPerMinute: 6000, burst: 100 },
      ...options,
    },
    clock.deps(),
  )
  return { server, clock, source }
}

async function pollError(source: CoinMarketCapSource): Promise<CryptoVizError> {
  const e = await source.poll(signal()).then(
    () => assert.fail('poll should fail'),
    (err: unknown) => err,
  )
  assert.ok(isCryptoVizError(e), `expected a CryptoVizError, got ${String(e)}`)
  return e
}

test('normalises listings into exact quotes, mapping CMC slugs to the canonical slug', async (t) => {
  const { source } = await setup(t, sequence({ body: cmcBody([cmcListing(CMC_BTC), cmcListing(CMC_BNB)]) }))
  const result = await source.poll(signal())
  assert.deepEqual(result.deadLetters, [])
  const common = {
    ts: Date.parse('2024-04-28T10:14:00.000Z') * 1000,
    source: 'coinmarketcap',
    market_cap_usd: 88830000000.17,
    volume_24h_usd: 1368207651.53,
    change_1h_pct: -0.0927,
    change_24h_pct: 0.8712,
    change_7d_pct: 3.2519,
    circulating_supply: 147583922.5,
    total_supply: 147583922.5,
    max_supply: null,
    ingested_at: Date.parse('2024-04-28T10:16:00.000Z') * 1000,
  }
  assert.deepEqual(result.quotes, [
    { ...common, crypto: 'bitcoin', symbol: 'BTC', name: 'Bitcoin', price_usd: 63420.51, rank: 1 },
    { ...common, crypto: 'binancecoin', symbol: 'BNB', name: 'BNB', price_usd: 601.88, rank: 4 },
  ])
})

test('takes ts from the USD quote last_updated, falling back to the item last_updated', async (t) => {
  const { source } = await setup(
    t,
    sequence({
      body: cmcBody([
        cmcListing(CMC_BTC, { usd: { last_updated: '2024-04-28T10:13:00.000Z' } }),
        cmcListing(CMC_BNB, { usd: { last_updated: null } }),
      ]),
    }),
  )
  const { quotes } = await source.poll(signal())
  assert.deepEqual(
    quotes.map((q) => [q.crypto, new Date(q.ts / 1000).toISOString()]),
    [
      ['bitcoin', '2024-04-28T10:13:00.000Z'],
      ['binancecoin', '2024-04-28T10:14:00.000Z'],
    ],
  )
})

test('sends the key in X-CMC_PRO_API_KEY and asks for start, limit and USD', async (t) => {
  const { server, source } = await setup(t, sequence({ body: cmcBody([]) }), { start: 1, limit: 100 })
  await source.poll(signal())
  const [req] = server.to(LISTINGS)
  assert.ok(req)
  assert.equal(req.headers['x-cmc_pro_api_key'], 'cmc-key-1')
  assert.equal(req.query.get('start'), '1')
  assert.equal(req.query.get('limit'), '100')
  assert.equal(req.query.get('convert'), 'USD')
})

test('refuses to build without an API key', () => {
  assert.throws(
    () => new CoinMarketCapSource({}),
    (e: unknown) => isCryptoVizError(e, 'CONFIG_INVALID') && /CRYPTOVIZ_CMC_API_KEY/.test(e.message),
  )
})

test('turns bad listings into dead letters with reasons', async (t) => {
  const noUsd = cmcListing({ ...CMC_BTC, slug: 'no-usd' })
  noUsd['quote'] = { EUR: { price: 1 } }
  const { source } = await setup(
    t,
    sequence({
      body: cmcBody([
        cmcListing({ ...CMC_BTC, slug: 'no-price' }, { usd: { price: null } }),
        cmcListing({ ...CMC_BTC, slug: 'negative' }, { usd: { price: -0.5 } }),
        cmcListing({ ...CMC_BTC, slug: 'future' }, { usd: { last_updated: '2024-04-29T00:00:00.000Z' } }),
        noUsd,
        cmcListing(CMC_BNB),
      ]),
    }),
  )
  const result = await source.poll(signal())
  assert.deepEqual(
    result.quotes.map((q) => q.crypto),
    ['binancecoin'],
  )
  assert.deepEqual(
    result.deadLetters.map((d) => [(d.raw as { slug: string }).slug, d.reason, d.detail.split(' ')[0]]),
    [
      ['no-price', 'price_missing', 'quote.USD.price'],
      ['negative', 'price_not_positive', 'quote.USD.price'],
      ['future', 'timestamp_in_future', 'quote.USD.last_updated'],
      ['no-usd', 'shape_invalid', 'quote.USD:'],
    ],
  )
})

const HTTP_STATUS: Record<number, number> = {
  1001: 401,
  1002: 401,
  1003: 402,
  1004: 402,
  1005: 401,
  1006: 403,
  1007: 403,
  1008: 429,
  1009: 429,
  1010: 429,
  1011: 429,
}

test('maps every documented error code 1001–1011 to its typed error', async (t) => {
  const expected: Record<number, [string, boolean]> = {
    1001: ['SOURCE_AUTH', false],
    1002: ['SOURCE_AUTH', false],
    1003: ['SOURCE_AUTH', false],
    1004: ['SOURCE_AUTH', false],
    1005: ['SOURCE_AUTH', false],
    1006: ['SOURCE_AUTH', false],
    1007: ['SOURCE_AUTH', false],
    1008: ['SOURCE_RATE_LIMITED', true],
    1009: ['SOURCE_BUDGET_EXHAUSTED', false],
    1010: ['SOURCE_BUDGET_EXHAUSTED', false],
    1011: ['SOURCE_RATE_LIMITED', true],
  }
  assert.deepEqual(Object.keys(CMC_ERROR_CODES).map(Number), Object.keys(expected).map(Number))
  for (const [code, [errorCode, canRetry]] of Object.entries(expected)) {
    const n = Number(code)
    const { server, source } = await setup(
      t,
      sequence({ status: HTTP_STATUS[n], body: cmcError(n, `message ${n}`) }),
    )
    const e = await pollError(source)
    assert.equal(e.code, errorCode, `code ${n}`)
    assert.equal(e.canRetry, canRetry, `code ${n}`)
    assert.equal(e.details?.['providerCode'], n)
    assert.match(e.message, new RegExp(`message ${n}`))
    // Rate limits wait out CMC's 60 s window, longer than a retry inside one poll may sleep.
    assert.equal(server.requests.length, 1, `code ${n}`)
  }
})

test('waits a minute after a minute rate limit without Retry-After', async (t) => {
  const { source } = await setup(t, sequence({ status: 429, body: cmcError(1008, 'minute limit') }))
  const e = await pollError(source)
  assert.equal(e.details?.['retryAfterMs'], 60_000)
})

test('an error code inside a 200 answer is an error, not an empty page', async (t) => {
  const { source } = await setup(t, sequence({ status: 200, body: cmcError(1002, 'API key missing.') }))
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_AUTH')
})

test('a 500 with an error body is retried', async (t) => {
  const { server, source, clock } = await setup(
    t,
    sequence(
      { status: 500, body: cmcError(500, 'An internal server error occurred') },
      { body: cmcBody([cmcListing(CMC_BTC)]) },
    ),
  )
  const result = await source.poll(signal())
  assert.equal(result.quotes.length, 1)
  assert.equal(server.requests.length, 2)
  assert.deepEqual(clock.sleeps, [750])
})

test('tracks credit_count and stops before exceeding the daily budget, until 00:00 UTC', async (t) => {
  const { server, source, clock } = await setup(
    t,
    () => ({
      body: cmcBody(
        [cmcListing(CMC_BTC, { usd: { last_updated: new Date(clock.now() - 1000).toISOString() } })],
        {
          credit_count: 1,
        },
      ),
    }),
    { dailyCreditBudget: 3 },
  )
  for (let i = 0; i < 3; i++) {
    assert.equal((await source.poll(signal())).quotes.length, 1)
    clock.advance(60_000)
  }
  assert.equal(source.stats().creditsUsed, 3)
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BUDGET_EXHAUSTED')
  assert.equal(server.requests.length, 3)
  const midnight = Date.parse('2024-04-29T00:00:00.000Z')
  assert.equal(e.details?.['retryAfterMs'], midnight - clock.now())
  // An exhausted budget is our decision, not a provider failure: the circuit stays closed.
  assert.equal(source.stats().circuit, 'closed')
  clock.t = midnight + 1
  assert.equal((await source.poll(signal())).quotes.length, 1)
  assert.equal(source.stats().creditsUsed, 1)
})

test('refuses a call whose expected cost would pass the budget', async (t) => {
  // 400 coins cost 2 credits; with a budget of 3 the second call would need 4.
  const { server, source } = await setup(t, sequence({ body: cmcBody([], { credit_count: 2 }) }), {
    limit: 400,
    dailyCreditBudget: 3,
  })
  assert.equal(source.expectedCost(), 2)
  await source.poll(signal())
  assert.equal(source.stats().creditsUsed, 2)
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BUDGET_EXHAUSTED')
  assert.match(e.message, /2 of 3 daily credits used, next call costs 2/)
  assert.equal(server.requests.length, 1)
})

test('stops for the day when CMC says the daily credit limit is reached', async (t) => {
  const { server, source } = await setup(t, sequence({ status: 429, body: cmcError(1009, 'daily limit') }))
  assert.equal((await pollError(source)).code, 'SOURCE_BUDGET_EXHAUSTED')
  const again = await pollError(source)
  assert.equal(again.code, 'SOURCE_BUDGET_EXHAUSTED')
  assert.match(again.message, /provider reported its daily limit reached/)
  assert.equal(server.requests.length, 1)
})

test('a monthly credit exhaustion waits until the next month', async (t) => {
  const { source, clock } = await setup(t, sequence({ status: 429, body: cmcError(1010, 'monthly limit') }))
  const e = await pollError(source)
  assert.equal(e.details?.['retryAfterMs'], Date.parse('2024-05-01T00:00:00.000Z') - clock.now())
})

test('an answer without a data array is a shape_invalid dead letter', async (t) => {
  const body = { status: { error_code: 0, credit_count: 1 }, data: { '1': {} } }
  const { source } = await setup(t, sequence({ body }))
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BAD_RESPONSE')
  assert.deepEqual(
    deadLettersOf(e).map((d) => [d.reason, d.raw]),
    [['shape_invalid', body]],
  )
})
