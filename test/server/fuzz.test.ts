/**
 * API fuzz pass driven by the served OpenAPI document: for every route and parameter it lists, a
 * seeded generator sends valid, boundary and hostile values and checks that the server never
 * answers 5xx, that every error has the documented shape and status, and (the fixture checks
 * responses against their schemas) that every 200 body matches the document.
 */
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ERROR_CODES, type ErrorCode } from '../../src/errors.ts'
import { STATUS } from '../../src/server/errors.ts'
import { openFixture } from './fixture.ts'

interface Parameter {
  name: string
  in: string
  required: boolean
  schema: JsonSchema
}
interface JsonSchema {
  type?: string
  enum?: unknown[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
}
interface Operation {
  operationId: string
  parameters: Parameter[]
  requestBody?: { content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, unknown>
}
type Doc = { paths: Record<string, Record<string, Operation>> }

const HOSTILE = [
  '',
  ' ',
  '\t',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '-1',
  '0',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999999',
  '0x10',
  '1.5',
  "'; DROP TABLE quotes; --",
  '" OR 1=1 --',
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '%00',
  '\u0000',
  'bitcoin\u0000',
  'bitcoin\r\nX-Injected: 1',
  'ü',
  'Ωmega',
  '💥',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '<script>alert(1)</script>',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  ',,,',
  'bitcoin,,ethereum',
  'bitcoin,../x',
  'a'.repeat(101),
  'x'.repeat(5_000),
  '2024-13-45',
  '2024-02-30T25:61:61Z',
  '0000-01-01',
  '9999-12-31T23:59:59.999999Z',
  '1969-12-31T23:59:59Z',
  '1970-01-01',
  '2255-06-05',
  '2999-01-01T00:00:00Z',
  '1700000000000',
  '2024-01-01T00:00:00+99:99',
]

/** Values that are valid for our fixture, by parameter name. */
const VALID: Record<string, string[]> = {
  crypto: ['bitcoin', 'ethereum', 'tether', 'dogecoin'],
  /** List parameters (no pattern in the document: a comma-separated string). */
  cryptoList: ['bitcoin', 'ethereum', 'bitcoin,ethereum', 'dogecoin,tether'],
  sources: ['simulated', 'coingecko', 'simulated,coingecko', 'nosuchsource'],
  source: ['simulated', 'coingecko'],
  start: ['2024-01-01', '2024-01-02T12:00:00Z', '1704067200000', '2024-01-03T00:00:00.000001Z'],
  end: ['2024-01-04', '2024-01-03T12:00:00+02:00', '1704326400000', '2024-01-05'],
  asOf: ['0', '1', '2', '4', '5', '99', '2024-01-01', '2199-01-01T00:00:00Z'],
  columns: ['ts,price_usd', 'rank', 'ts,source,crypto,symbol,name,market_cap_usd,ingested_at'],
  lastEventId: ['0', '5', '123456789012345'],
}

function validValue(p: Parameter, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const named = p.name === 'crypto' && p.schema.pattern === undefined ? VALID['cryptoList'] : VALID[p.name]
  if (named) return pick(named)
  const s = p.schema
  if (s.enum) return String(pick(s.enum))
  if (s.type === 'integer' || s.type === 'number') {
    const min = s.minimum ?? 0
    const max = Math.min(s.maximum ?? 1_000, 100_000)
    return String(pick([min, max, Math.floor(min + rnd() * (max - min))]))
  }
  return 'bitcoin'
}

function boundaryValue(p: Parameter, rnd: () => number): string {
  const s = p.schema
  if (s.type === 'integer' || s.type === 'number') {
    const min = s.minimum ?? 0
    const max = s.maximum ?? Number.MAX_SAFE_INTEGER
    return String([min - 1, max + 1, min, max, -0.5, max * 10][Math.floor(rnd() * 6)])
  }
  if (s.enum) return String(s.enum[0]).toUpperCase()
  return HOSTILE[Math.floor(rnd() * HOSTILE.length)]!
}

const SQL_SAMPLES = [
  'SELECT 1',
  'SELECT crypto, max(price_usd) FROM quotes GROUP BY crypto',
  "SELECT * FROM read_csv('/etc/passwd')",
  "SELECT * FROM '../../etc/passwd'",
  "COPY quotes TO '/tmp/cryptoviz-fuzz.csv'",
  "ATTACH '/tmp/cryptoviz-fuzz.db' AS x",
  'INSTALL httpfs',
  "SET memory_limit = '100GB'",
  'PRAGMA database_list',
  'SELECT 1; DROP TABLE quotes',
  "'; DROP TABLE quotes; --",
  'DELETE FROM quotes',
  'CREATE TABLE t AS SELECT 1',
  "SELECT * FROM quotes WHERE crypto = 'bitcoin' OR 1=1",
  'EXPLAIN SELECT * FROM quotes',
  'WITH x AS (SELECT 1 AS a) SELECT * FROM x',
  "SELECT getenv('HOME')",
  'SELECT * FROM duckdb_settings()',
  '',
  '💥',
  'SELECT '.repeat(3_000),
]

function sqlBody(rnd: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return pick([null, 42, 'SELECT 1', [], [{ sql: 'SELECT 1' }], true])
    case 1:
      return { sql: pick([1, null, ['SELECT 1'], { a: 1 }]) }
    case 2:
      return { sql: 'SELECT 1', asOf: pick(HOSTILE) }
    case 3:
      return {
        sql: 'SELECT count(*) FROM quotes',
        timeout_ms: pick([0, -1, 1, 1.5, 1e12, 'x']),
        max_rows: pick([0, 1, 1e9, null]),
      }
    case 4:
      return { sql: pick(SQL_SAMPLES), extra: pick(HOSTILE) }
    default:
      return { sql: pick(SQL_SAMPLES), ...(rnd() < 0.5 && { asOf: pick(VALID['asOf']!) }) }
  }
}

function checkAnswer(label: string, status: number, body: string): void {
  assert.ok(status < 500, `${label} → ${status} ${body.slice(0, 300)}`)
  if (status >= 400) {
    const parsed = JSON.parse(body) as { error: { code: ErrorCode; message: string } }
    assert.ok(
      (ERROR_CODES as readonly string[]).includes(parsed.error.code),
      `${label}: ${parsed.error.code}`,
    )
    assert.equal(status, STATUS[parsed.error.code], `${label}: status of ${parsed.error.code}`)
    assert.equal(typeof parsed.error.message, 'string')
  }
}

test('a seeded fuzz pass over every route and parameter of the OpenAPI document never gets a 5xx', async (t) => {
  const rnd = mulberry32(20_240_104)
  const { app, url } = await (async () => {
    const f = await openFixture(t)
    await f.app.listen({ host: '127.0.0.1', port: 0 })
    const address = f.app.server.address()
    return { ...f, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
  })()
  const doc = (await app.inject('/api/v1/openapi.json')).json() as Doc
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  )
  assert.ok(operations.length >= 15, `${operations.length} operations documented`)
  let sent = 0
  const statuses = new Map<number, number>()
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1)

  for (const { path, method, op } of operations) {
    const rounds = op.parameters.length === 0 && !op.requestBody ? 4 : 16 + 8 * op.parameters.length
    for (let round = 0; round < rounds; round++) {
      // Half the requests are entirely valid, most others have exactly one bad parameter (so
      // each refusal is attributable), a few are chaos.
      const mode = rnd()
      const bad = Math.floor(rnd() * op.parameters.length)
      const query = new URLSearchParams()
      for (const [i, p] of op.parameters.entries()) {
        const hostile = mode < 0.5 ? false : mode < 0.85 ? i === bad : rnd() < 0.5
        if (!hostile && !p.required && rnd() < 0.3) continue
        query.append(p.name, hostile ? boundaryValue(p, rnd) : validValue(p, rnd))
        if (hostile && rnd() < 0.1) query.append(p.name, validValue(p, rnd))
      }
      if (rnd() < 0.05) query.append(rnd() < 0.5 ? 'bogus' : '__proto__', 'x')
      const target = `${path}${query.size > 0 ? `?${query}` : ''}`
      if (path === '/api/v1/stream') {
        // A valid stream never ends: read the head over a socket, then hang up.
        const abort = new AbortController()
        const res = await fetch(`${url}${target}`, { signal: abort.signal })
        const body = res.status === 200 ? '' : await res.text()
        abort.abort()
        checkAnswer(target, res.status, body)
        count(res.status)
      } else if (method === 'POST') {
        const payload = sqlBody(rnd)
        const res = await app.inject({
          method,
          url: target,
          payload: JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        })
        checkAnswer(`${target} ${JSON.stringify(payload).slice(0, 120)}`, res.statusCode, res.body)
        count(res.statusCode)
      } else {
        const res = await app.inject({ method, url: target })
        checkAnswer(target, res.statusCode, res.body)
        count(res.statusCode)
      }
      sent++
    }
  }
  // Raw hostile paths and methods, outside the document.
  for (const raw of [
    '/api/v1/../../etc/passwd',
    '/api/v1/quotes/..%2f..%2f',
    '/%00',
    '/api/v1/%',
    '/api/v1/quotes?%',
  ]) {
    const res = await app.inject({ method: 'GET', url: raw })
    checkAnswer(raw, res.statusCode, res.body)
    sent++
  }
  for (const m of ['PUT', 'DELETE', 'PATCH'] as const) {
    const res = await app.inject({ method: m, url: '/api/v1/quotes?crypto=bitcoin' })
    checkAnswer(`${m} quotes`, res.statusCode, res.body)
    sent++
  }
  const summary = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ')
  t.diagnostic(`${sent} requests over ${operations.length} operations: ${summary}`)
  assert.ok(sent >= 500, `only ${sent} requests`)
  assert.ok((statuses.get(200) ?? 0) >= 150, 'enough valid requests reached the engine')
  assert.ok((statuses.get(400) ?? 0) >= 50, 'enough invalid requests were refused')
})

test('the SQL console refuses to read files, write, attach or change settings', async (t) => {
  const { app } = await openFixture(t)
  for (const sql of [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('../../etc/*.parquet')",
    "COPY quotes TO '/tmp/cryptoviz-fuzz.csv'",
    "ATTACH '/tmp/cryptoviz-fuzz.db' AS x",
    'INSTALL httpfs',
    "SET memory_limit = '100GB'",
    'SELECT 1; DROP TABLE quotes',
    'DELETE FROM quotes',
  ]) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sql', payload: { sql } })
    assert.ok(
      res.statusCode === 400 || res.statusCode === 408,
      `${sql} → ${res.statusCode} ${res.body.slice(0, 200)}`,
    )
  }
})
