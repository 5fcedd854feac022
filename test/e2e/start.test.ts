import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { DuckDb } from '../../src/query/duckdb.ts'
import { readSse, runCli, startCryptoviz } from '../harness/cryptoviz-process.ts'

const FAST = ['--flush-interval-ms', '1000', '--sim-interval-ms', '200', '--sim-assets', '5']

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  )
}

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function quotesFor(
  url: string,
  crypto: string,
): Promise<{ count: number; rows: Record<string, unknown>[] }> {
  // Committed rows only (no hot tail), so rows imply Parquet files in the lake.
  const res = await fetch(`${url}/api/v1/quotes?crypto=${crypto}&includePending=false`)
  assert.equal(res.status, 200)
  return (await res.json()) as { count: number; rows: Record<string, unknown>[] }
}

test('start serves /health, commits quotes to a partitioned Delta table, and /api/v1/quotes returns them', async (t) => {
  const { url, warehouse } = await startCryptoviz(t, FAST)
  const health = await fetch(`${url}/health`)
  assert.equal(health.status, 200)
  const body = (await health.json()) as { status: string; components: Record<string, unknown> }
  assert.equal(body.status, 'ok')
  assert.ok(body.components['lake'] && body.components['processor'] && body.components['sources'])

  const result = await poll(async () => {
    const r = await quotesFor(url, 'bitcoin')
    return r.count > 0 ? r : undefined
  }, 20_000)
  assert.equal(result.rows[0]!['crypto'], 'bitcoin')
  assert.equal(result.rows[0]!['source'], 'simulated')
  assert.match(String(result.rows[0]!['ts']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,6}Z$/)

  const table = join(warehouse, 'quotes')
  const files = walk(table).map((f) => relative(table, f))
  const parquet = files.filter((f) => f.endsWith('.parquet') && !f.startsWith('_delta_log'))
  assert.ok(parquet.length > 0)
  for (const f of parquet) {
    assert.match(
      f,
      /^year=\d{4}\/month=\d{2}\/day=\d{2}\/source=simulated\/crypto=[a-z0-9-]+\/part-.*\.snappy\.parquet$/,
    )
  }
  const commits = files.filter((f) => /^_delta_log\/\d{20}\.json$/.test(f)).sort()
  assert.equal(commits[0], '_delta_log/00000000000000000000.json')
  const v0 = readFileSync(join(table, commits[0]!), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.deepEqual(v0.find((a) => a.protocol)?.protocol, { minReaderVersion: 1, minWriterVersion: 2 })
  const meta = v0.find((a) => a.metaData)?.metaData
  assert.deepEqual(meta.partitionColumns, ['year', 'month', 'day', 'source', 'crypto'])
  assert.ok(JSON.parse(meta.schemaString).fields.some((f: { name: string }) => f.name === 'price_usd'))
  const v1 = readFileSync(join(table, commits[1]!), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const add = v1.find((a) => a.add)?.add
  assert.ok(add, 'the first data commit has add actions')
  assert.deepEqual(Object.keys(add.partitionValues).sort(), ['crypto', 'day', 'month', 'source', 'year'])
  const stats = JSON.parse(add.stats)
  assert.ok(stats.numRecords > 0 && stats.minValues.ts && stats.maxValues.price_usd > 0)
  assert.ok(v1.find((a) => a.commitInfo)?.commitInfo.isBlindAppend)
  assert.ok(v1.find((a) => a.txn)?.txn.appId)

  const stats2 = (await (await fetch(`${url}/stats`)).json()) as Record<string, number>
  assert.ok(stats2['records_received']! >= stats2['records_written']!)
  assert.ok(stats2['batches']! >= 1 && stats2['files']! >= 1 && stats2['bytes_written']! > 0)
  assert.ok(stats2['last_table_version']! >= 1)

  const metrics = await (await fetch(`${url}/metrics`)).text()
  const flushes = /^cryptoviz_flush_duration_seconds_count (\d+)$/m.exec(metrics)
  assert.ok(flushes && Number(flushes[1]) >= 1, 'committed batches are measured')
})

test('the live stream sends quotes as server-sent events, filtered by crypto', async (t) => {
  const { url } = await startCryptoviz(t, FAST)
  const events = await readSse(`${url}/api/v1/stream?crypto=ethereum`, 3)
  assert.equal(events.length, 3)
  for (const e of events) {
    assert.equal(e.event, 'quote')
    assert.match(e.id ?? '', /^\d+$/)
    const q = JSON.parse(e.data) as { crypto: string; price_usd: number }
    assert.equal(q.crypto, 'ethereum')
    assert.ok(q.price_usd > 0)
  }
  assert.ok(Number(events[1]!.id) > Number(events[0]!.id))
})

test('a bad request gets a 400 with a message', async (t) => {
  const { url } = await startCryptoviz(t, FAST)
  for (const q of [
    '',
    'crypto=BIT%20COIN',
    'crypto=bitcoin&start=yesterday',
    'crypto=bitcoin&limit=0',
    'crypto=bitcoin&start=2024-02-01&end=2024-01-01',
    'crypto=bitcoin&bogus=1',
  ]) {
    const res = await fetch(`${url}/api/v1/quotes?${q}`)
    assert.equal(res.status, 400, q)
    const body = (await res.json()) as { error: { code: string; message: string } }
    assert.equal(body.error.code, 'INVALID_ARGUMENT')
    assert.ok(body.error.message.length > 0)
  }
  assert.equal((await fetch(`${url}/api/v1/stream?crypto=NOPE!`)).status, 400)
  assert.equal((await fetch(`${url}/nope`)).status, 404)
})

test('SIGTERM commits every received quote before exit: none lost, none duplicated', async (t) => {
  // A long flush interval: everything received is still buffered when the signal arrives.
  const { proc, warehouse } = await startCryptoviz(t, [
    '--flush-interval-ms',
    '600000',
    '--sim-interval-ms',
    '100',
    '--sim-assets',
    '10',
  ])
  await new Promise((r) => setTimeout(r, 1500))
  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  assert.equal(code, 0)
  const stopped = proc.logs.find((l) => l.msg === 'CryptoViz stopped')
  assert.ok(stopped, 'logs its final counters')
  const received = stopped['records_received'] as number
  assert.ok(received >= 50, `received ${received}`)
  assert.equal(stopped['buffered'], 0)

  const duckdb = await DuckDb.open()
  t.after(() => duckdb.close())
  const files = walk(join(warehouse, 'quotes')).filter(
    (f) => f.endsWith('.parquet') && !f.includes('_delta_log'),
  )
  const list = files.map((f) => `'${f}'`).join(', ')
  const [row] = await duckdb.all(
    `SELECT count(*) AS n, count(DISTINCT (filename, ts)) AS distinct_keys FROM read_parquet([${list}], filename = true)`,
  )
  assert.equal(Number(row!['n']), received)
  assert.equal(Number(row!['distinct_keys']), received)
})

test('with default settings, quotes are committed and queryable within 45 s of start', async (t) => {
  const started = Date.now()
  const { url, warehouse } = await startCryptoviz(t)
  assert.ok(Date.now() - started < 20_000, 'serves within 20 s')
  assert.equal((await fetch(`${url}/health`)).status, 200)
  // The hot tail: long before the first 30 s micro-batch, a query already sees the quotes.
  const live = await poll(async () => {
    const r = (await (await fetch(`${url}/api/v1/quotes?crypto=bitcoin`)).json()) as {
      count: number
      pending_rows: number
      version: number
    }
    return r.count > 0 ? r : undefined
  }, 5_000)
  assert.ok(live.pending_rows > 0 && live.pending_rows === live.count)
  assert.equal(live.version, 0, 'nothing committed yet')
  const result = await poll(
    async () => {
      const r = await quotesFor(url, 'bitcoin')
      return r.count > 0 ? r : undefined
    },
    45_000 - (Date.now() - started),
  )
  assert.ok(result.count > 0)
  assert.ok(walk(join(warehouse, 'quotes')).some((f) => f.endsWith('.snappy.parquet')))
})

test('auto mode falls back to the simulated market when no live provider answers, and says so', async (t) => {
  // A port nothing listens on: CoinGecko fails at once, CoinMarketCap has no key.
  const { proc, url } = await startCryptoviz(t, ['--flush-interval-ms', '1000'], {
    CRYPTOVIZ_SOURCE: 'auto',
    CRYPTOVIZ_COINGECKO_BASE_URL: 'http://127.0.0.1:9',
  })
  const warning = await proc.waitForLog((l) => l.level === 40 && /FALLBACK/.test(l.msg), 20_000)
  assert.match(warning.msg, /simulated/)
  const health = await poll(async () => {
    const h = (await (await fetch(`${url}/health`)).json()) as {
      status: string
      components: { sources: { status: string; auto?: { mode: string } } }
    }
    return h.components.sources.auto?.mode === 'fallback' ? h : undefined
  }, 10_000)
  assert.equal(health.components.sources.status, 'degraded')
  const r = await poll(async () => {
    const q = await quotesFor(url, 'bitcoin')
    return q.count > 0 ? q : undefined
  }, 20_000)
  assert.equal(r.rows[0]!['source'], 'simulated')
})

test('start on a port already in use fails with a message naming the port, and exit code 2', async (t) => {
  const blocker = createServer(() => undefined)
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
  t.after(() => blocker.close())
  const port = (blocker.address() as AddressInfo).port
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-port-'))
  const r = await runCli(['start', '--warehouse', warehouse, '--port', String(port)], {
    CRYPTOVIZ_SOURCE: 'simulated',
  })
  assert.equal(r.code, 2)
  assert.match(
    r.stderr,
    new RegExp(`CONFIG_INVALID: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
  )
})
