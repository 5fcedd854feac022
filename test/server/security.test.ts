import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tokenMatches } from '../../src/server/auth.ts'
import { ClientRateLimiter } from '../../src/server/client-rate-limit.ts'
import { openFixture } from './fixture.ts'

const TOKEN = 'correct-horse-battery-staple'
const SQL = { sql: 'SELECT count(*) AS n FROM quotes' }

test('with a token configured the SQL console needs it: 401 without or with a wrong one', async (t) => {
  const { app } = await openFixture(t, { api: { token: TOKEN } })
  const sql = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/sql',
      payload: SQL,
      ...(authorization !== undefined && { headers: { authorization } }),
    })
  for (const authorization of [undefined, 'Bearer nope', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer ']) {
    const res = await sql(authorization)
    assert.equal(res.statusCode, 401, String(authorization))
    assert.equal((res.json() as { error: { code: string } }).error.code, 'UNAUTHORIZED')
    assert.match(String(res.headers['www-authenticate']), /^Bearer/)
  }
  assert.equal((await sql(`Bearer ${TOKEN}`)).statusCode, 200)
  assert.equal((await sql(`bearer ${TOKEN}`)).statusCode, 200)
  // Reads stay open.
  assert.equal((await app.inject('/api/v1/latest')).statusCode, 200)
  const doc = (await app.inject('/api/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>
  }
  assert.deepEqual(doc.paths['/api/v1/sql']!['post']!.security, [{ bearerToken: [] }])
  assert.ok(doc.paths['/api/v1/sql']!['post']!.responses['401'])
})

test('the token comparison accepts only the exact token', () => {
  assert.equal(tokenMatches(TOKEN, `Bearer ${TOKEN}`), true)
  assert.equal(tokenMatches(TOKEN, `Bearer  ${TOKEN} `), true)
  assert.equal(tokenMatches(TOKEN, undefined), false)
  assert.equal(tokenMatches(TOKEN, ''), false)
  assert.equal(tokenMatches(TOKEN, `Bearer ${TOKEN.slice(0, -1)}`), false)
  assert.equal(tokenMatches(TOKEN, `Bearer ${TOKEN} extra`), false)
  assert.equal(tokenMatches(TOKEN, TOKEN), false)
})

test('a client over its rate gets 429 RATE_LIMITED with retry-after; other clients and probes do not', async (t) => {
  const { app } = await openFixture(t, { api: { rateLimitPerSecond: 0.5, rateLimitBurst: 3 } })
  const from = (ip: string, url = '/api/v1/latest?limit=1') => app.inject({ url, remoteAddress: ip })
  for (let i = 0; i < 3; i++) assert.equal((await from('10.0.0.1')).statusCode, 200)
  const limited = await from('10.0.0.1')
  assert.equal(limited.statusCode, 429)
  assert.equal((limited.json() as { error: { code: string } }).error.code, 'RATE_LIMITED')
  const retryAfter = Number(limited.headers['retry-after'])
  assert.ok(retryAfter >= 1 && retryAfter <= 2, `retry-after ${retryAfter}`)
  assert.equal((await from('10.0.0.2')).statusCode, 200)
  for (const probe of ['/health', '/ready', '/metrics']) {
    assert.equal((await from('10.0.0.1', probe)).statusCode, 200, probe)
  }
  const metrics = (await app.inject('/metrics')).body
  assert.match(metrics, /^cryptoviz_http_rate_limited_total 1$/m)
})

test('the token bucket refills at its rate up to its burst', () => {
  let now = 0
  const limiter = new ClientRateLimiter({ perSecond: 2, burst: 2, now: () => now })
  assert.equal(limiter.take('a').ok, true)
  assert.equal(limiter.take('a').ok, true)
  const refused = limiter.take('a')
  assert.equal(refused.ok, false)
  assert.equal(!refused.ok && refused.retryAfterMs, 500)
  now += 500
  assert.equal(limiter.take('a').ok, true)
  assert.equal(limiter.take('a').ok, false)
  now += 60_000
  assert.equal(limiter.take('a').ok, true)
  assert.equal(limiter.take('a').ok, true)
  assert.equal(limiter.take('a').ok, false, 'a long pause refills to the burst, no further')
})

test('the rate limiter keeps a bounded number of clients, forgetting the least recently seen', () => {
  const limiter = new ClientRateLimiter({ perSecond: 1, burst: 1, maxClients: 100, now: () => 0 })
  for (let i = 0; i < 1_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`)
  assert.equal(limiter.clients, 100)
  assert.equal(limiter.take('10.0.3.231').ok, false, 'a recent client is still remembered')
})

test('CORS is off by default: no allow-origin header even when a browser asks', async (t) => {
  const { app } = await openFixture(t)
  const res = await app.inject({ url: '/api/v1/latest', headers: { origin: 'https://evil.example' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/sql',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  })
  assert.equal(preflight.headers['access-control-allow-origin'], undefined)
})

test('CORS allows exactly the configured origins, including on errors and preflights', async (t) => {
  const { app } = await openFixture(t, {
    api: {
      corsOrigins: 'https://dash.example,https://other.example',
      rateLimitPerSecond: 1,
      rateLimitBurst: 1,
    },
  })
  const allowed = await app.inject({ url: '/api/v1/latest', headers: { origin: 'https://dash.example' } })
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://dash.example')
  const other = await app.inject({
    url: '/api/v1/latest',
    headers: { origin: 'https://evil.example' },
    remoteAddress: '10.9.9.9',
  })
  assert.equal(other.headers['access-control-allow-origin'], undefined)
  const limited = await app.inject({ url: '/api/v1/latest', headers: { origin: 'https://dash.example' } })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.headers['access-control-allow-origin'], 'https://dash.example')
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/sql',
    headers: {
      origin: 'https://other.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
    remoteAddress: '10.9.9.8',
  })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://other.example')
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/)
})
