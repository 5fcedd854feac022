import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parquetReadObjects } from 'hyparquet'
import { type Quote } from '../../src/model/quote.ts'
import { isoFromMicros } from '../../src/micros.ts'
import { DAY_US, END_US, HOUR_US, openFixture, START_US } from './fixture.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

type Json = Record<string, unknown>
type Rows = Json[]

async function get(app: Awaited<ReturnType<typeof openFixture>>['app'], url: string) {
  const res = await app.inject(url)
  return { status: res.statusCode, body: res.json() as Json, headers: res.headers }
}

const iso = (us: number): string => isoFromMicros(us)
const FULL = `start=${iso(START_US)}&end=${iso(END_US)}`

function assertError(r: { status: number; body: Json }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body))
  const error = r.body['error'] as { code: string; message: string }
  assert.equal(error.code, code)
  assert.ok(error.message.length > 0)
}

test('quotes returns one asset over a range, oldest first, with the version and files it read', async (t) => {
  const { app } = await openFixture(t)
  const r = await get(app, `/api/v1/quotes?crypto=bitcoin&${FULL}&limit=1000`)
  assert.equal(r.status, 200)
  const rows = r.body['rows'] as Rows
  // 72 hourly simulated quotes plus 24 from the second source on the last day.
  assert.equal(r.body['count'], 96)
  assert.equal(rows.length, 96)
  assert.equal(r.body['truncated'], false)
  assert.equal(r.body['version'], 4)
  assert.ok((r.body['files_scanned'] as number) < (r.body['files_total'] as number), 'other assets pruned')
  assert.ok(rows.every((q) => q['crypto'] === 'bitcoin'))
  const times = rows.map((q) => Date.parse(q['ts'] as string))
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  )
  assert.equal(rows[0]!['ts'], '2024-01-01T00:00:00.000Z')
})

test('quotes filters by source, projects columns, orders newest first and reports truncation', async (t) => {
  const { app } = await openFixture(t)
  const bySource = await get(app, `/api/v1/quotes?crypto=bitcoin&${FULL}&sources=coingecko`)
  assert.equal(bySource.body['count'], 24)
  assert.ok((bySource.body['rows'] as Rows).every((q) => q['source'] === 'coingecko'))

  const projected = await get(
    app,
    `/api/v1/quotes?crypto=ethereum&${FULL}&columns=ts,price_usd&order=desc&limit=5`,
  )
  assert.equal(projected.status, 200)
  const rows = projected.body['rows'] as Rows
  assert.equal(rows.length, 5)
  assert.equal(projected.body['truncated'], true)
  assert.deepEqual(Object.keys(rows[0]!).sort(), ['price_usd', 'ts'])
  assert.equal(rows[0]!['ts'], '2024-01-03T23:00:00.000Z')
})

test('quotes without a range reads the 24 hours before now', async (t) => {
  const { app } = await openFixture(t)
  const r = await get(app, '/api/v1/quotes?crypto=tether')
  assert.equal(r.body['start'], iso(END_US - DAY_US))
  assert.equal(r.body['end'], iso(END_US))
  assert.equal(r.body['count'], 24)
})

test('bad quote parameters are refused with 400 INVALID_ARGUMENT naming the parameter', async (t) => {
  const { app } = await openFixture(t)
  for (const [query, field] of [
    ['', 'crypto'],
    ['crypto=BIT%20COIN', 'crypto'],
    ['crypto=bitcoin&start=yesterday', 'start'],
    ['crypto=bitcoin&end=2024-02-30T99:00:00Z', 'end'],
    ['crypto=bitcoin&start=99999999999999', 'start'],
    ['crypto=bitcoin&limit=0', 'limit'],
    ['crypto=bitcoin&limit=100001', 'limit'],
    ['crypto=bitcoin&columns=ts,password', 'columns'],
    ['crypto=bitcoin&format=xml', 'format'],
    ['crypto=bitcoin&asOf=last-tuesday', 'asOf'],
    ['crypto=bitcoin&bogus=1', 'bogus'],
    ['crypto=bitcoin&crypto=ethereum', 'crypto'],
  ]) {
    const r = await get(app, `/api/v1/quotes?${query}`)
    assertError(r, 400, 'INVALID_ARGUMENT')
    assert.match((r.body['error'] as Json)['message'] as string, new RegExp(field!), query)
  }
  const reversed = await get(app, '/api/v1/quotes?crypto=bitcoin&start=2024-02-01&end=2024-01-01')
  assertError(reversed, 400, 'INVALID_ARGUMENT')
  assert.match((reversed.body['error'] as Json)['message'] as string, /start must not be after end/)
})

test('asOf reads an older version, by version number and by time', async (t) => {
  const { app, commitTimes } = await openFixture(t)
  const v1 = await get(app, `/api/v1/quotes?crypto=bitcoin&${FULL}&asOf=1`)
  assert.equal(v1.status, 200)
  assert.equal(v1.body['version'], 1)
  // Version 1 is the first generated day only.
  assert.equal(v1.body['count'], 24)
  assert.ok((v1.body['rows'] as Rows).every((q) => (q['ts'] as string).startsWith('2024-01-01')))

  const at = new Date(commitTimes.get(2)!).toISOString()
  const v2 = await get(app, `/api/v1/quotes?crypto=bitcoin&${FULL}&asOf=${at}`)
  assert.equal(v2.body['version'], 2)
  assert.equal(v2.body['count'], 48)

  const catalog = await get(app, '/api/v1/catalog?asOf=2')
  const quotes = (catalog.body['tables'] as Rows).find((x) => x['name'] === 'quotes')!
  assert.equal(quotes['version'], 2)
  assert.equal(quotes['rows'], 2 * 24 * 3)
})

test('an unknown asOf version is a 404, on every read that takes asOf', async (t) => {
  const { app } = await openFixture(t)
  for (const url of [
    `/api/v1/quotes?crypto=bitcoin&asOf=99`,
    `/api/v1/candles?crypto=bitcoin&${FULL}&asOf=99`,
    `/api/v1/latest?asOf=99`,
    `/api/v1/compare?crypto=bitcoin&${FULL}&asOf=99`,
    `/api/v1/catalog?asOf=99`,
    `/api/v1/catalog/partitions?asOf=99`,
    `/api/v1/history?asOf=99`,
    `/api/v1/files?asOf=99`,
  ]) {
    assertError(await get(app, url), 404, 'DELTA_VERSION_NOT_FOUND')
  }
  const sql = await app.inject({
    method: 'POST',
    url: '/api/v1/sql',
    payload: { sql: 'select 1', asOf: '99' },
  })
  assert.equal(sql.statusCode, 404)
})

test('quotes download as CSV: a header line and the same rows as JSON', async (t) => {
  const { app } = await openFixture(t)
  const json = await get(app, `/api/v1/quotes?crypto=ethereum&${FULL}`)
  const res = await app.inject(`/api/v1/quotes?crypto=ethereum&${FULL}&format=csv`)
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/csv/)
  assert.match(String(res.headers['content-disposition']), /^attachment; filename="quotes-ethereum-v4\.csv"$/)
  const lines = res.body.trimEnd().split('\r\n')
  const header = lines[0]!.split(',')
  assert.equal(header[0], 'ts')
  assert.equal(lines.length - 1, json.body['count'])
  const rows = json.body['rows'] as Rows
  for (const [i, line] of lines.slice(1).entries()) {
    const cells = line.split(',')
    const row = rows[i]!
    header.forEach((name, j) => {
      const expected = row[name] === null ? '' : String(row[name])
      assert.equal(cells[j], expected, `${name} of row ${i}`)
    })
  }
})

test('quotes download as Parquet: hyparquet reads back the same rows, microseconds exact', async (t) => {
  const { app } = await openFixture(t)
  const json = await get(app, `/api/v1/quotes?crypto=bitcoin&${FULL}`)
  const res = await app.inject(`/api/v1/quotes?crypto=bitcoin&${FULL}&format=parquet`)
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'application/vnd.apache.parquet')
  assert.match(String(res.headers['content-disposition']), /filename="quotes-bitcoin-v4\.parquet"/)
  const bytes = res.rawPayload
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const rows = await parquetReadObjects({
    file,
    parsers: { timestampFromMicroseconds: (v: bigint | number) => Number(v) } as never,
  })
  const expected = json.body['rows'] as Rows
  assert.equal(rows.length, expected.length)
  for (const [i, row] of rows.entries()) {
    const want = expected[i] as unknown as Quote & { ts: string; ingested_at: string }
    assert.equal(isoFromMicros(row['ts'] as number), want.ts)
    assert.equal(isoFromMicros(row['ingested_at'] as number), want.ingested_at)
    for (const key of [
      'source',
      'crypto',
      'symbol',
      'name',
      'price_usd',
      'market_cap_usd',
      'rank',
      'max_supply',
    ]) {
      assert.equal(row[key], (want as unknown as Json)[key], `${key} of row ${i}`)
    }
  }
})

test('candles bucket a range into OHLC, per source or pooled, and download as Parquet', async (t) => {
  const { app, engine } = await openFixture(t)
  const daily = await get(app, `/api/v1/candles?crypto=bitcoin&interval=1d&source=simulated&${FULL}`)
  assert.equal(daily.status, 200)
  const candles = daily.body['candles'] as Rows
  assert.equal(candles.length, 3)
  assert.deepEqual(
    candles.map((c) => c['count']),
    [24, 24, 24],
  )
  const day1 = await engine.readRange({
    crypto: 'bitcoin',
    sources: ['simulated'],
    start: START_US,
    end: START_US + DAY_US - 1,
  })
  const prices = day1.rows.map((q) => q.price_usd)
  assert.equal(candles[0]!['open'], prices[0])
  assert.equal(candles[0]!['close'], prices.at(-1))
  assert.equal(candles[0]!['high'], Math.max(...prices))
  assert.equal(candles[0]!['low'], Math.min(...prices))

  const pooled = await get(app, `/api/v1/candles?crypto=bitcoin&interval=1d&${FULL}`)
  assert.equal(pooled.body['source'], null)
  assert.equal((pooled.body['candles'] as Rows)[2]!['count'], 48)

  const res = await app.inject(`/api/v1/candles?crypto=bitcoin&interval=4h&${FULL}&format=parquet`)
  const bytes = res.rawPayload
  const rows = await parquetReadObjects({
    file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    parsers: { timestampFromMicroseconds: (v: bigint | number) => Number(v) } as never,
  })
  const fourHourly = await get(app, `/api/v1/candles?crypto=bitcoin&interval=4h&${FULL}`)
  assert.equal(rows.length, 18)
  assert.deepEqual(
    rows.map((r) => ({ ...r, ts: isoFromMicros(r['ts'] as number) })),
    fourHourly.body['candles'],
  )
})

test('candles refuse a range of more than 50 000 buckets and an unknown interval', async (t) => {
  const { app } = await openFixture(t)
  const tooLong = await get(app, '/api/v1/candles?crypto=bitcoin&interval=1m&start=2000-01-01&end=2024-01-01')
  assertError(tooLong, 400, 'INVALID_ARGUMENT')
  assert.match((tooLong.body['error'] as Json)['message'] as string, /buckets/)
  assertError(await get(app, '/api/v1/candles?crypto=bitcoin&interval=2m'), 400, 'INVALID_ARGUMENT')
})

test('latest lists each asset once with its last quote and a sparkline, sorted as asked', async (t) => {
  const { app } = await openFixture(t)
  const r = await get(app, '/api/v1/latest?sort=name&order=asc')
  assert.equal(r.status, 200)
  const rows = r.body['rows'] as Rows
  assert.equal(r.body['assets_total'], 3)
  assert.deepEqual(
    rows.map((x) => x['crypto']),
    ['bitcoin', 'ethereum', 'tether'],
  )
  for (const row of rows) {
    assert.equal(row['ts'], '2024-01-03T23:00:00.000Z')
    assert.ok(Array.isArray(row['sparkline']) && (row['sparkline'] as unknown[]).length > 0)
  }
  const top = await get(app, '/api/v1/latest?limit=1&sort=price&order=desc')
  assert.equal((top.body['rows'] as Rows)[0]!['crypto'], 'bitcoin')
})

test('compare shows one asset per source per bucket with the spread between sources', async (t) => {
  const { app } = await openFixture(t)
  const r = await get(app, `/api/v1/compare?crypto=bitcoin&interval=1h&${FULL}`)
  assert.equal(r.status, 200)
  assert.deepEqual(r.body['sources'], ['coingecko', 'simulated'])
  const points = r.body['points'] as { prices: Record<string, number>; spread_pct: number | null }[]
  assert.equal(points.length, 72)
  assert.equal(points[0]!.spread_pct, null, 'one source on the first day')
  const last = points.at(-1)!
  assert.ok(Math.abs(last.spread_pct! - 1) < 1e-9, `second source quotes 1 % higher: ${last.spread_pct}`)

  const csv = await app.inject(`/api/v1/compare?crypto=bitcoin&interval=1d&${FULL}&format=csv`)
  const lines = csv.body.trimEnd().split('\r\n')
  assert.equal(lines[0], 'ts,price_coingecko,price_simulated,spread_pct')
  assert.equal(lines.length, 4)
  assert.match(lines[1]!, /^2024-01-01T00:00:00\.000Z,,\d/)
})

test('catalog describes both tables; partitions expand to the requested depth', async (t) => {
  const { app, rows } = await openFixture(t)
  const catalog = await get(app, '/api/v1/catalog')
  const tables = catalog.body['tables'] as Rows
  assert.deepEqual(tables.map((x) => x['name']).sort(), ['dead_letters', 'quotes'])
  const quotes = tables.find((x) => x['name'] === 'quotes')!
  assert.equal(quotes['rows'], rows)
  assert.equal(quotes['min_ts'], iso(START_US))
  assert.equal(quotes['max_ts'], iso(END_US - HOUR_US))
  assert.deepEqual(quotes['partition_columns'], ['year', 'month', 'day', 'source', 'crypto'])

  const tree = await get(app, '/api/v1/catalog/partitions?depth=3')
  const year = (tree.body['partitions'] as Rows)[0]!
  assert.equal(year['column'], 'year')
  const month = (year['children'] as Rows)[0]!
  const days = month['children'] as Rows
  assert.deepEqual(
    days.map((d) => d['value']),
    ['01', '02', '03'],
  )
  assert.ok(days.every((d) => (d['children'] as Rows).length === 0))
  assert.equal(
    days.reduce((n, d) => n + (d['rows'] as number), 0),
    rows,
  )
  assertError(await get(app, '/api/v1/catalog/partitions?table=dead_letters&asOf=1'), 400, 'INVALID_ARGUMENT')
  assertError(await get(app, '/api/v1/catalog/partitions?depth=9'), 400, 'INVALID_ARGUMENT')
})

test('history lists commits newest first, and asOf starts it at that version', async (t) => {
  const { app } = await openFixture(t)
  const all = await get(app, '/api/v1/history')
  const versions = (all.body['entries'] as Rows).map((e) => e['version'])
  assert.deepEqual(versions, [4, 3, 2, 1, 0])
  const entry = (all.body['entries'] as Rows)[0]!
  assert.equal(entry['operation'], 'WRITE')
  assert.equal(entry['rows_added'], 24)
  const old = await get(app, '/api/v1/history?asOf=2&limit=2')
  assert.deepEqual(
    (old.body['entries'] as Rows).map((e) => e['version']),
    [2, 1],
  )
})

test('files lists live files pruned by asset and time, paged by offset', async (t) => {
  const { app } = await openFixture(t)
  const btc = await get(app, '/api/v1/files?crypto=bitcoin')
  assert.equal(btc.body['files_matched'], 4)
  const lastDay = await get(app, `/api/v1/files?crypto=bitcoin&start=${iso(END_US - HOUR_US)}`)
  assert.equal(lastDay.body['files_matched'], 2)
  const page = await get(app, '/api/v1/files?limit=3&offset=3')
  const all = await get(app, '/api/v1/files')
  assert.deepEqual(
    (page.body['files'] as Rows).map((f) => f['path']),
    (all.body['files'] as Rows).slice(3, 6).map((f) => f['path']),
  )
  const file = (all.body['files'] as Rows)[0]!
  assert.match(
    file['path'] as string,
    /^year=2024\/month=01\/day=01\/source=simulated\/crypto=bitcoin\/part-/,
  )
  assertError(await get(app, '/api/v1/files?table=dead_letters&crypto=bitcoin'), 400, 'INVALID_ARGUMENT')
})

test('the SQL console answers a query and refuses writes, bad SQL and bad bodies', async (t) => {
  const { app } = await openFixture(t)
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/v1/sql', payload: payload as string, headers })
  const ok = await post({ sql: 'SELECT crypto, count(*) AS n FROM quotes GROUP BY 1 ORDER BY 1' })
  assert.equal(ok.statusCode, 200)
  const body = ok.json() as { rows: Rows; columns: Rows; version: number }
  assert.deepEqual(body.rows, [
    { crypto: 'bitcoin', n: 96 },
    { crypto: 'ethereum', n: 72 },
    { crypto: 'tether', n: 72 },
  ])
  const asOf = (await post({ sql: 'SELECT count(*) AS n FROM quotes', asOf: '1' })).json() as { rows: Rows }
  assert.equal(asOf.rows[0]!['n'], 72)

  const drop = await post({ sql: 'DROP TABLE quotes' })
  assert.equal(drop.statusCode, 400)
  assert.equal((drop.json() as { error: Json }).error['code'], 'SQL_FORBIDDEN')
  const invalid = await post({ sql: 'SELEC nonsense' })
  assert.equal(invalid.statusCode, 400)
  assert.equal((invalid.json() as { error: Json }).error['code'], 'QUERY_INVALID')
  assert.equal((await post({})).statusCode, 400)
  assert.equal((await post({ sql: 'select 1', extra: true })).statusCode, 400)
  assert.equal((await post('select 1', { 'content-type': 'text/plain' })).statusCode, 400)
  const notJson = await post('<sql>select 1</sql>', { 'content-type': 'application/xml' })
  assert.equal(notJson.statusCode, 415)
  assert.equal((notJson.json() as { error: Json }).error['code'], 'UNSUPPORTED_MEDIA_TYPE')
  const broken = await post('{"sql": ', { 'content-type': 'application/json' })
  assert.equal(broken.statusCode, 400)
  assert.equal((broken.json() as { error: Json }).error['code'], 'INVALID_ARGUMENT')
  const huge = await post({ sql: `select '${'x'.repeat(70_000)}'` })
  assert.equal(huge.statusCode, 413)
  assert.equal((huge.json() as { error: Json }).error['code'], 'PAYLOAD_TOO_LARGE')
})

test('reads include uncommitted quotes from the hot tail unless includePending=false', async (t) => {
  const pendingQuote = makeQuote({
    ts: END_US + HOUR_US,
    crypto: 'tether',
    symbol: 'USDT',
    name: 'Tether',
    price_usd: 1.001,
  })
  const { app } = await openFixture(t, { pending: () => [pendingQuote] })
  const range = `start=${iso(END_US - DAY_US)}&end=${iso(END_US + DAY_US)}`
  const hot = await get(app, `/api/v1/quotes?crypto=tether&${range}`)
  assert.equal(hot.body['pending_rows'], 1)
  assert.equal((hot.body['rows'] as Rows).at(-1)!['price_usd'], 1.001)
  const cold = await get(app, `/api/v1/quotes?crypto=tether&${range}&includePending=false`)
  assert.equal(cold.body['pending_rows'], 0)
  assert.equal(cold.body['count'], 24)
  const latest = await get(app, '/api/v1/latest?includePending=true&sort=name')
  const tether = (latest.body['rows'] as Rows).find((r) => r['crypto'] === 'tether')!
  assert.equal(tether['price_usd'], 1.001)
  const travelled = await get(app, `/api/v1/quotes?crypto=tether&${range}&includePending=true&asOf=4`)
  assert.equal(travelled.body['pending_rows'], 0, 'asOf reads the committed version only')
})

test('health and readiness answer 503 when a component is down', async (t) => {
  const { app } = await openFixture(t, {})
  assert.equal((await app.inject('/ready')).statusCode, 200)
  const down = await openFixture(t, {})
  // A second app whose sources report down.
  const { buildApp } = await import('../../src/server/app.ts')
  const { pino } = await import('pino')
  const broken = buildApp({
    engine: down.engine,
    feed: down.feed,
    logger: pino({ level: 'silent' }),
    ops: {
      health: async () => ({ sources: { status: 'down', reason: 'no provider answers' } }),
      stats: async () => ({}),
    },
  })
  t.after(() => broken.close())
  const health = await broken.inject('/health')
  assert.equal(health.statusCode, 503)
  assert.equal((health.json() as Json)['status'], 'down')
  const ready = await broken.inject('/ready')
  assert.equal(ready.statusCode, 503)
  const checks = (ready.json() as { checks: Record<string, Json> }).checks
  assert.equal(checks['lake']!['status'], 'ok')
  assert.equal(checks['sources']!['status'], 'down')
})

test('metrics expose pipeline counters, request durations by route and files scanned', async (t) => {
  const { app } = await openFixture(t)
  await app.inject(`/api/v1/quotes?crypto=bitcoin&${FULL}`)
  await app.inject('/nope')
  const res = await app.inject('/metrics')
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain/)
  const text = res.body
  assert.match(text, /^cryptoviz_records_received_total 10$/m)
  assert.match(text, /^cryptoviz_records_written_total 8$/m)
  assert.match(text, /^cryptoviz_records_rejected_total 1$/m)
  assert.match(text, /^cryptoviz_batches_total 2$/m)
  assert.match(text, /^cryptoviz_query_files_scanned_total\{route="\/api\/v1\/quotes"\} 4$/m)
  assert.match(text, /^cryptoviz_query_files_skipped_total\{route="\/api\/v1\/quotes"\} 6$/m)
  assert.match(
    text,
    /^cryptoviz_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/quotes",status_code="200"\} 1$/m,
  )
  assert.match(text, /route="unmatched",status_code="404"/)
  assert.match(text, /^cryptoviz_sse_clients 0$/m)
  assert.match(text, /^# TYPE cryptoviz_flush_duration_seconds histogram$/m)
})
