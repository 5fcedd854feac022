import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError } from '../../src/errors.ts'
import { jitteredBackoff, parseRetryAfter } from '../../src/sources/backoff.ts'
import { CircuitBreaker } from '../../src/sources/circuit-breaker.ts'
import { CoinGeckoSource } from '../../src/sources/coingecko.ts'
import { bucketOptions, RequestPacer } from '../../src/sources/request-pacer.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { cgBitcoin, HTML_502 } from './helpers/fixtures.ts'
import { startProviderServer } from './helpers/provider-server.ts'

test('the token bucket lets a burst through, then paces requests at the refill rate', async () => {
  const clock = new FakeClock(0)
  const bucket = new RequestPacer(bucketOptions({ requestsPerMinute: 30, burst: 2 }), clock)
  for (let i = 0; i < 4; i++) await bucket.take()
  // Two back to back, then one every 2 s (30 a minute).
  assert.deepEqual(clock.sleeps, [2000, 2000])
  assert.equal(clock.now(), 4000)
})

test('the token bucket refills while idle but never beyond its burst', async () => {
  const clock = new FakeClock(0)
  const bucket = new RequestPacer(bucketOptions({ requestsPerMinute: 60, burst: 3 }), clock)
  await bucket.take()
  clock.advance(3_600_000)
  assert.equal(bucket.available(), 3)
})

test('a request waiting for a token gives up when its signal aborts', async () => {
  const clock = new FakeClock(0)
  const bucket = new RequestPacer(bucketOptions({ requestsPerMinute: 1, burst: 1 }), clock)
  await bucket.take()
  const ctrl = new AbortController()
  clock.onSleep = () => ctrl.abort(new Error('stopping'))
  await assert.rejects(bucket.take(ctrl.signal), /stopping/)
})

test('backoff grows exponentially, keeps at least half, and is capped', () => {
  assert.equal(
    jitteredBackoff(1, 1000, 30_000, () => 0),
    500,
  )
  assert.equal(
    jitteredBackoff(1, 1000, 30_000, () => 0.999999),
    1000,
  )
  assert.equal(
    jitteredBackoff(3, 1000, 30_000, () => 0.5),
    3000,
  )
  assert.equal(
    jitteredBackoff(10, 1000, 30_000, () => 1),
    30_000,
  )
})

test('Retry-After is read as seconds or as an HTTP date, and ignored when unreadable', () => {
  const now = Date.parse('2024-04-28T10:16:00.000Z')
  assert.equal(parseRetryAfter('30', now), 30_000)
  assert.equal(parseRetryAfter('Sun, 28 Apr 2024 10:16:45 GMT', now), 45_000)
  assert.equal(parseRetryAfter('Sun, 28 Apr 2024 10:15:00 GMT', now), 0)
  assert.equal(parseRetryAfter('soon', now), undefined)
  assert.equal(parseRetryAfter('-5', now), undefined)
  assert.equal(parseRetryAfter(null, now), undefined)
})

test('the circuit opens after the threshold, half-opens after openMs and allows a single trial', () => {
  const clock = new FakeClock(0)
  const breaker = new CircuitBreaker('p', { failureThreshold: 2, openMs: 10_000 }, clock.now)
  breaker.beforeRequest()
  breaker.onFailure()
  assert.equal(breaker.state(), 'closed')
  breaker.beforeRequest()
  breaker.onFailure()
  assert.equal(breaker.state(), 'open')
  assert.throws(
    () => breaker.beforeRequest(),
    (e: unknown) => isCryptoVizError(e, 'SOURCE_CIRCUIT_OPEN') && e.details?.['retryAfterMs'] === 10_000,
  )
  clock.advance(10_000)
  assert.equal(breaker.state(), 'half-open')
  breaker.beforeRequest()
  assert.throws(
    () => breaker.beforeRequest(),
    (e: unknown) => isCryptoVizError(e, 'SOURCE_CIRCUIT_OPEN'),
  )
  breaker.onFailure()
  assert.equal(breaker.state(), 'open')
  clock.advance(10_000)
  breaker.beforeRequest()
  breaker.onSuccess()
  assert.equal(breaker.state(), 'closed')
  assert.equal(breaker.failureCount(), 0)
})

test('a provider that keeps failing opens its circuit: no requests until the half-open trial succeeds', async (t) => {
  let healthy = false
  const server = await startProviderServer(t, () =>
    healthy ? { body: [cgBitcoin()] } : { status: 503, body: HTML_502 },
  )
  const clock = new FakeClock()
  const source = new CoinGeckoSource(
    {
      baseUrl: server.baseUrl,
      retry: { maxAttempts: 2 },
      circuitBreaker: { failureThreshold: 2, openMs: 60_000 },
      rateLimit: { requestsPerMinute: 6000, burst: 100 },
    },
    clock.deps(),
  )
  const signal = new AbortController().signal
  for (let i = 0; i < 2; i++)
    await assert.rejects(source.poll(signal), (e: unknown) => isCryptoVizError(e, 'SOURCE_HTTP'))
  assert.equal(source.stats().circuit, 'open')
  assert.equal(server.requests.length, 4)
  await assert.rejects(source.poll(signal), (e: unknown) => isCryptoVizError(e, 'SOURCE_CIRCUIT_OPEN'))
  assert.equal(server.requests.length, 4)
  clock.advance(60_000)
  assert.equal(source.stats().circuit, 'half-open')
  healthy = true
  assert.equal((await source.poll(signal)).quotes.length, 1)
  assert.equal(source.stats().circuit, 'closed')
  assert.equal(server.requests.length, 5)
})

test('a failed half-open trial opens the circuit for another period', async (t) => {
  const server = await startProviderServer(t, () => ({ status: 500, body: 'oops' }))
  const clock = new FakeClock()
  const source = new CoinGeckoSource(
    {
      baseUrl: server.baseUrl,
      retry: { maxAttempts: 1 },
      circuitBreaker: { failureThreshold: 1, openMs: 30_000 },
      rateLimit: { requestsPerMinute: 6000, burst: 100 },
    },
    clock.deps(),
  )
  const signal = new AbortController().signal
  await assert.rejects(source.poll(signal), (e: unknown) => isCryptoVizError(e, 'SOURCE_HTTP'))
  clock.advance(30_000)
  await assert.rejects(source.poll(signal), (e: unknown) => isCryptoVizError(e, 'SOURCE_HTTP'))
  assert.equal(source.stats().circuit, 'open')
  clock.advance(29_999)
  await assert.rejects(source.poll(signal), (e: unknown) => isCryptoVizError(e, 'SOURCE_CIRCUIT_OPEN'))
  assert.equal(server.requests.length, 2)
})

test('the rate limit paces the requests of one poll over several pages', async (t) => {
  const server = await startProviderServer(t, () => ({ body: [cgBitcoin(), cgBitcoin()] }))
  const clock = new FakeClock()
  const source = new CoinGeckoSource(
    { baseUrl: server.baseUrl, perPage: 2, pages: 3, rateLimit: { requestsPerMinute: 6, burst: 1 } },
    clock.deps(),
  )
  await source.poll(new AbortController().signal)
  assert.equal(server.requests.length, 3)
  assert.deepEqual(clock.sleeps, [10_000, 10_000])
})

test('a request queued behind another leaves the queue at once when its signal aborts', async () => {
  const clock = new FakeClock(0)
  const bucket = new RequestPacer(bucketOptions({ requestsPerMinute: 1, burst: 1 }), clock)
  await bucket.take()
  const first = bucket.take()
  const ctrl = new AbortController()
  const second = bucket.take(ctrl.signal)
  ctrl.abort(new Error('shutting down'))
  await assert.rejects(second, /shutting down/)
  await first
  // The aborted waiter took no token: the next one is a minute after the first.
  await bucket.take()
  assert.equal(clock.now(), 120_000)
})
