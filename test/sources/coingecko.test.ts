import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError, type CryptoVizError } from '../../src/errors.ts'
import { CoinGeckoClient } from '../../src/sources/coingecko-client.ts'
import { CoinGeckoSource } from '../../src/sources/coingecko.ts'
import { deadLettersOf } from '../../src/sources/dead-letters.ts'
import type { CoinGeckoOptionsInput } from '../../src/sources/options.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { cgBitcoin, cgEthereum, HTML_502 } from './helpers/fixtures.ts'
import { sequence, startProviderServer, type Handler } from './helpers/provider-server.ts'
import type { TestContext } from 'node:test'

const MARKETS = '/api/v3/coins/markets'
const signal = (): AbortSignal => new AbortController().signal

async function setup(t: TestContext, handler: Handler, options: CoinGeckoOptionsInput = {}) {
  const server = await startProviderServer(t, handler)
  const clock = new FakeClock()
  const source = new CoinGeckoSource(
    { baseUrl: server.baseUrl, rateLimit: { requestsPerMinute: 6000, burst: 100 }, ...options },
    clock.deps(),
  )
  return { server, clock, source }
}

async function pollError(source: CoinGeckoSource): Promise<CryptoVizError> {
  const e = await source.poll(signal()).then(
    () => assert.fail('poll should fail'),
    (err: unknown) => err,
  )
  assert.ok(isCryptoVizError(e), `expected a CryptoVizError, got ${String(e)}`)
  return e
}

test('normalises a /coins/markets page into exact quotes', async (t) => {
  const { source } = await setup(t, sequence({ body: [cgBitcoin(), cgEthereum()] }))
  const result = await source.poll(signal())
  const ingested = Date.parse('2024-04-28T10:16:00.000Z') * 1000
  assert.deepEqual(result.deadLetters, [])
  assert.deepEqual(result.quotes, [
    {
      ts: Date.parse('2024-04-28T10:15:21.264Z') * 1000,
      source: 'coingecko',
      crypto: 'bitcoin',
      symbol: 'BTC',
      name: 'Bitcoin',
      price_usd: 63412.77,
      market_cap_usd: 1248713206475,
      volume_24h_usd: 14763825932,
      change_1h_pct: 0.1322394,
      change_24h_pct: -0.5734129,
      change_7d_pct: -2.0415766,
      circulating_supply: 19688915,
      total_supply: 21000000,
      max_supply: 21000000,
      rank: 1,
      ingested_at: ingested,
    },
    {
      ts: Date.parse('2024-04-28T10:15:33.011Z') * 1000,
      source: 'coingecko',
      crypto: 'ethereum',
      symbol: 'ETH',
      name: 'Ethereum',
      price_usd: 3261.04,
      market_cap_usd: 391681418021,
      volume_24h_usd: 9437285467,
      change_1h_pct: 0.05,
      change_24h_pct: -0.0573,
      change_7d_pct: 4.62,
      circulating_supply: 120101578.69,
      total_supply: 120101578.69,
      max_supply: null,
      rank: 2,
      ingested_at: ingested,
    },
  ])
})

test('asks for USD markets with 1h, 24h and 7d changes and sends no key when keyless', async (t) => {
  const { server, source } = await setup(t, sequence({ body: [] }))
  await source.poll(signal())
  const [req] = server.to(MARKETS)
  assert.ok(req)
  assert.equal(req.query.get('vs_currency'), 'usd')
  assert.equal(req.query.get('order'), 'market_cap_desc')
  assert.equal(req.query.get('per_page'), '250')
  assert.equal(req.query.get('page'), '1')
  assert.equal(req.query.get('price_change_percentage'), '1h,24h,7d')
  assert.equal(req.headers['x-cg-demo-api-key'], undefined)
  assert.equal(req.headers['x-cg-pro-api-key'], undefined)
  assert.equal(req.headers['accept'], 'application/json')
})

test('sends a demo key in x-cg-demo-api-key and a pro key in x-cg-pro-api-key', async (t) => {
  const demo = await setup(t, sequence({ body: [] }), { plan: 'demo', apiKey: 'CG-demo-123' })
  await demo.source.poll(signal())
  assert.equal(demo.server.requests[0]?.headers['x-cg-demo-api-key'], 'CG-demo-123')
  assert.equal(demo.server.requests[0]?.headers['x-cg-pro-api-key'], undefined)
  const pro = await setup(t, sequence({ body: [] }), { plan: 'pro', apiKey: 'CG-pro-456' })
  await pro.source.poll(signal())
  assert.equal(pro.server.requests[0]?.headers['x-cg-pro-api-key'], 'CG-pro-456')
  assert.equal(pro.server.requests[0]?.headers['x-cg-demo-api-key'], undefined)
})

test('uses the documented host for each plan unless a base URL is configured', () => {
  const base = (o: CoinGeckoOptionsInput): string => new CoinGeckoClient(o).options.baseUrl
  assert.equal(base({}), 'https://api.coingecko.com')
  assert.equal(base({ plan: 'demo', apiKey: 'k' }), 'https://api.coingecko.com')
  assert.equal(base({ plan: 'pro', apiKey: 'k' }), 'https://pro-api.coingecko.com')
  assert.equal(base({ plan: 'pro', apiKey: 'k', baseUrl: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9/')
})

test('keeps null and absent optional fields as null in the quote', async (t) => {
  const item = cgEthereum({
    market_cap: null,
    market_cap_rank: null,
    total_volume: null,
    total_supply: null,
    price_change_percentage_1h_in_currency: null,
    price_change_percentage_24h_in_currency: null,
    price_change_percentage_7d_in_currency: null,
  })
  delete item['circulating_supply']
  const { source } = await setup(t, sequence({ body: [item] }))
  const [q] = (await source.poll(signal())).quotes
  assert.ok(q)
  assert.equal(q.market_cap_usd, null)
  assert.equal(q.rank, null)
  assert.equal(q.volume_24h_usd, null)
  assert.equal(q.total_supply, null)
  assert.equal(q.circulating_supply, null)
  assert.equal(q.change_1h_pct, null)
  // The plain 24h field stands in when the in-currency one is null.
  assert.equal(q.change_24h_pct, -0.05735)
  assert.equal(q.change_7d_pct, null)
})

test('turns every bad item into a dead letter with its raw payload and reason, never a quote', async (t) => {
  const noId = cgBitcoin()
  delete noId['id']
  const items: unknown[] = [
    cgBitcoin({ id: 'missing-price', current_price: null }),
    cgBitcoin({ id: 'zero-price', current_price: 0 }),
    cgBitcoin({ id: 'negative-price', current_price: -3 }),
    cgBitcoin({ id: 'overflow', market_cap: 123456789 }),
    cgBitcoin({ id: 'future', last_updated: '2024-04-28T10:30:00.000Z' }),
    cgBitcoin({ id: 'no-time', last_updated: null }),
    cgBitcoin({ id: 'bad-time', last_updated: 'yesterday' }),
    cgBitcoin({ id: 'Upper-Case' }),
    cgBitcoin({ id: 'price-as-text', current_price: '63412.77' }),
    noId,
    'not an object',
    cgEthereum(),
  ]
  // JSON can carry a number too large for a double; it parses to Infinity.
  const body = JSON.stringify(items).replace('"market_cap":123456789', '"market_cap":1e999')
  const { source, clock } = await setup(
    t,
    sequence({ body, headers: { 'content-type': 'application/json' } }),
  )
  const result = await source.poll(signal())
  assert.deepEqual(
    result.quotes.map((q) => q.crypto),
    ['ethereum'],
  )
  const idOf = (raw: unknown): unknown =>
    typeof raw === 'object' && raw !== null ? ((raw as Record<string, unknown>)['id'] ?? '(no id)') : raw
  assert.deepEqual(
    result.deadLetters.map((d) => [idOf(d.raw), d.reason]),
    [
      ['missing-price', 'price_missing'],
      ['zero-price', 'price_not_positive'],
      ['negative-price', 'price_not_positive'],
      ['overflow', 'number_not_finite'],
      ['future', 'timestamp_in_future'],
      ['no-time', 'timestamp_missing'],
      ['bad-time', 'timestamp_invalid'],
      ['Upper-Case', 'slug_invalid'],
      ['price-as-text', 'shape_invalid'],
      ['(no id)', 'shape_invalid'],
      ['not an object', 'shape_invalid'],
    ],
  )
  for (const d of result.deadLetters) {
    assert.equal(d.source, 'coingecko')
    assert.equal(d.received_at, clock.now() * 1000)
  }
  const byId = (id: string) => result.deadLetters.find((d) => idOf(d.raw) === id)
  assert.deepEqual(byId('future'), {
    source: 'coingecko',
    reason: 'timestamp_in_future',
    detail: 'last_updated 2024-04-28T10:30:00.000Z is 840000 ms ahead of now (tolerance 120000 ms)',
    raw: cgBitcoin({ id: 'future', last_updated: '2024-04-28T10:30:00.000Z' }),
    received_at: clock.now() * 1000,
  })
  assert.equal((byId('overflow')?.raw as Record<string, unknown>)['market_cap'], Infinity)
  assert.equal(byId('overflow')?.detail, 'market_cap is Infinity')
  assert.equal(byId('missing-price')?.detail, 'current_price is null')
  assert.match(byId('price-as-text')?.detail ?? '', /current_price: expected a number/)
})

test('does not emit an unchanged quote again, only the coins whose last_updated moved', async (t) => {
  const moved = cgBitcoin({ last_updated: '2024-04-28T10:15:51.000Z', current_price: 63420 })
  const { source } = await setup(
    t,
    sequence(
      { body: [cgBitcoin(), cgEthereum()] },
      { body: [cgBitcoin(), cgEthereum()] },
      { body: [moved, cgEthereum()] },
    ),
  )
  assert.equal((await source.poll(signal())).quotes.length, 2)
  assert.deepEqual((await source.poll(signal())).quotes, [])
  const third = await source.poll(signal())
  assert.deepEqual(
    third.quotes.map((q) => [q.crypto, q.price_usd]),
    [['bitcoin', 63420]],
  )
  assert.equal(source.stats().repeatsSuppressed, 3)
})

test('emits a coin once when a page boundary shift repeats it on the next page', async (t) => {
  const { server, source } = await setup(
    t,
    (req) => ({ body: req.query.get('page') === '1' ? [cgBitcoin(), cgEthereum()] : [cgEthereum()] }),
    { perPage: 2, pages: 3 },
  )
  const result = await source.poll(signal())
  assert.deepEqual(
    result.quotes.map((q) => q.crypto),
    ['bitcoin', 'ethereum'],
  )
  // The short second page is the last one: no third request.
  assert.deepEqual(
    server.requests.map((r) => r.query.get('page')),
    ['1', '2'],
  )
})

for (const [code, message, hint] of [
  [10002, 'API Key Missing', /set the key and the matching plan/],
  [10005, 'You may not have access to this endpoint', /not available on the current plan/],
  [10010, 'Invalid API Key', /pro-api\.coingecko\.com/],
  [10011, 'Invalid API Key', /https:\/\/api\.coingecko\.com/],
] as const) {
  test(`reports error ${code} as SOURCE_AUTH with its fix, without retrying`, async (t) => {
    const { server, source } = await setup(
      t,
      sequence({ status: 401, body: { status: { error_code: code, error_message: message } } }),
    )
    const e = await pollError(source)
    assert.equal(e.code, 'SOURCE_AUTH')
    assert.equal(e.canRetry, false)
    assert.equal(e.details?.['providerCode'], code)
    assert.equal(e.details?.['providerMessage'], message)
    assert.match(e.message, hint)
    assert.equal(server.requests.length, 1)
  })
}

test('waits as long as retry-after asks after a 429, then succeeds', async (t) => {
  const { server, source, clock } = await setup(
    t,
    sequence(
      {
        status: 429,
        headers: { 'retry-after': '7' },
        body: { status: { error_code: 429, error_message: "You've exceeded the Rate Limit." } },
      },
      { body: [cgBitcoin()] },
    ),
  )
  const result = await source.poll(signal())
  assert.equal(result.quotes.length, 1)
  assert.deepEqual(clock.sleeps, [7000])
  assert.equal(server.requests.length, 2)
})

test('retries 5xx answers with jittered exponential backoff', async (t) => {
  const { server, source, clock } = await setup(
    t,
    sequence({ status: 502, body: HTML_502 }, { status: 503, body: HTML_502 }, { body: [cgBitcoin()] }),
  )
  clock.random = 0.5
  const result = await source.poll(signal())
  assert.equal(result.quotes.length, 1)
  // Equal jitter: half of 1 s and 2 s, plus half of the other half at random = 0.5.
  assert.deepEqual(clock.sleeps, [750, 1500])
  assert.equal(server.requests.length, 3)
  assert.equal(source.stats().retries, 2)
})

test('gives up after the configured attempts with the last HTTP error', async (t) => {
  const { server, source } = await setup(t, sequence({ status: 502, body: HTML_502 }), {
    retry: { maxAttempts: 2 },
  })
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_HTTP')
  assert.equal(e.canRetry, true)
  assert.match(e.message, /HTTP 502: <!DOCTYPE html>/)
  assert.equal(server.requests.length, 2)
  assert.deepEqual(deadLettersOf(e), [])
})

test('does not sleep through a retry-after longer than maxDelayMs but hands it to the collector', async (t) => {
  const { server, source, clock } = await setup(
    t,
    sequence({
      status: 429,
      headers: { 'retry-after': '120' },
      body: { status: { error_code: 429, error_message: 'slow down' } },
    }),
  )
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_RATE_LIMITED')
  assert.equal(e.details?.['retryAfterMs'], 120_000)
  assert.deepEqual(clock.sleeps, [])
  assert.equal(server.requests.length, 1)
})

test('times out a slow answer and retries it', async (t) => {
  const { server, source } = await setup(t, sequence({ delayMs: 5_000, body: [] }, { body: [cgBitcoin()] }), {
    timeoutMs: 150,
  })
  const result = await source.poll(signal())
  assert.equal(result.quotes.length, 1)
  assert.equal(server.requests.length, 2)
})

test('fails with SOURCE_TIMEOUT when every attempt is too slow', async (t) => {
  const { source } = await setup(t, sequence({ delayMs: 5_000, body: [] }), {
    timeoutMs: 100,
    retry: { maxAttempts: 2 },
  })
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_TIMEOUT')
  assert.equal(e.details?.['timeoutMs'], 100)
})

test('a truncated JSON body fails the poll with a body_not_json dead letter holding the text', async (t) => {
  const truncated = JSON.stringify([cgBitcoin(), cgEthereum()]).slice(0, 300)
  const { server, source, clock } = await setup(
    t,
    sequence({ body: truncated, headers: { 'content-type': 'application/json' } }),
  )
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BAD_RESPONSE')
  assert.equal(server.requests.length, 3)
  assert.deepEqual(deadLettersOf(e), [
    {
      source: 'coingecko',
      reason: 'body_not_json',
      detail: 'HTTP 200 body is not JSON',
      raw: truncated,
      received_at: clock.now() * 1000,
    },
  ])
})

test('an HTML page answered with 200 is a dead letter, never quotes', async (t) => {
  const html = '<html><body><h1>Just a moment...</h1></body></html>'
  const { source } = await setup(t, sequence({ body: html }), { retry: { maxAttempts: 1 } })
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BAD_RESPONSE')
  assert.deepEqual(
    deadLettersOf(e).map((d) => [d.reason, d.raw]),
    [['body_not_json', html]],
  )
})

test('a JSON answer that is not a list of coins is a shape_invalid dead letter', async (t) => {
  const { source } = await setup(t, sequence({ body: { coins: [] } }))
  const e = await pollError(source)
  assert.equal(e.code, 'SOURCE_BAD_RESPONSE')
  assert.deepEqual(
    deadLettersOf(e).map((d) => [d.reason, d.raw]),
    [['shape_invalid', { coins: [] }]],
  )
})

test('accepts the base URL as CoinGecko documents it (…/api/v3) as well as the bare origin', async (t) => {
  for (const suffix of ['/api/v3', '/api/v3/', '']) {
    const server = await startProviderServer(t, sequence({ body: [cgBitcoin()] }))
    const clock = new FakeClock()
    const source = new CoinGeckoSource(
      { baseUrl: `${server.baseUrl}${suffix}`, rateLimit: { requestsPerMinute: 6000, burst: 100 } },
      clock.deps(),
    )
    const result = await source.poll(signal())
    assert.equal(result.quotes.length, 1, `base URL ending in "${suffix}"`)
    assert.equal(server.requests[0]?.path, MARKETS)
  }
  const base = (baseUrl: string): string =>
    new CoinGeckoClient({ plan: 'pro', apiKey: 'k', baseUrl }).options.baseUrl
  assert.equal(base('https://pro-api.coingecko.com/api/v3'), 'https://pro-api.coingecko.com')
  assert.equal(base('http://127.0.0.1:9/proxy/api/v3'), 'http://127.0.0.1:9/proxy')
})
