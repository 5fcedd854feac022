import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError, type ErrorCode } from '../../src/errors.ts'
import type { Quote } from '../../src/model/quote.ts'
import { QueryEngine } from '../../src/query/index.ts'
import { prunedFiles, type SqlView } from '../../src/query/sql-console.ts'
import { DuckDBInstance } from '@duckdb/node-api'
import { allRows, quoteFixture, type Fixture } from './fixtures.ts'

let fx: Fixture
let engine: QueryEngine
let rows: Quote[]

before(async () => {
  fx = await quoteFixture()
  engine = new QueryEngine({
    table: fx.warehouse.quotes,
    duckdb: fx.duckdb,
    deadLetters: fx.warehouse.deadLetters,
    sql: { maxMaxRows: 500 },
  })
  rows = await allRows(fx.duckdb, fx.warehouse.quotes, await fx.warehouse.quotes.snapshot())
})

after(() => {
  engine.close()
  fx.close()
})

async function refused(sql: string, code: ErrorCode = 'SQL_FORBIDDEN', message?: RegExp): Promise<void> {
  await assert.rejects(engine.sql(sql), (e: unknown) => {
    assert.ok(isCryptoVizError(e, code), `${sql} → ${String(e)}`)
    assert.equal(e.kind, 'user')
    if (message) assert.match(e.message, message)
    return true
  })
}

test('a SELECT over the quotes view returns what a scan of every file holds', async () => {
  const r = await engine.sql(
    'SELECT source, count(*) AS n, sum(price_usd) AS total FROM quotes GROUP BY source ORDER BY source',
  )
  assert.equal(r.statement_type, 'SELECT')
  assert.deepEqual(
    r.columns.map((c) => c.name),
    ['source', 'n', 'total'],
  )
  const bySource = (s: string): Quote[] => rows.filter((q) => q.source === s)
  assert.deepEqual(
    r.rows.map((x) => [x['source'], x['n']]),
    [
      ['coingecko', bySource('coingecko').length],
      ['simulated', bySource('simulated').length],
    ],
  )
  assert.equal(r.version, (await fx.warehouse.quotes.snapshot()).version)
  assert.equal(r.truncated, false)
})

test('the views carry the partition columns and the dead_letters table', async () => {
  const r = await engine.sql(
    "WITH d AS (SELECT count(*) AS n FROM dead_letters) SELECT (SELECT n FROM d) AS dead, count(DISTINCT day) AS days FROM quotes WHERE year = '2024' AND month = '01'",
  )
  assert.deepEqual(r.rows, [{ dead: 2, days: 3 }])
  const describe = await engine.sql('DESCRIBE quotes', { maxRows: 100 })
  assert.ok(describe.rows.some((c) => c['column_name'] === 'crypto'))
})

test('asOf shows the table as it was at that version', async () => {
  const [first] = fx.versions
  const r = await engine.sql('SELECT count(*) AS n, count(DISTINCT source) AS sources FROM quotes', {
    asOf: { version: first! },
  })
  assert.equal(r.version, first)
  assert.deepEqual(r.rows, [{ n: 8 * 288, sources: 1 }])
})

test('EXPLAIN of a SELECT is allowed', async () => {
  const r = await engine.sql('EXPLAIN SELECT count(*) FROM quotes')
  assert.equal(r.statement_type, 'EXPLAIN')
})

test('the row limit truncates the result and says so', async () => {
  const r = await engine.sql('SELECT * FROM quotes', { maxRows: 7 })
  assert.equal(r.row_count, 7)
  assert.equal(r.truncated, true)
  const clamped = await engine.sql('SELECT * FROM range(10000)', { maxRows: 1_000_000 })
  assert.equal(clamped.row_count, 500)
})

test('a slow statement is interrupted at the timeout with SQL_TIMEOUT', async () => {
  const started = performance.now()
  await assert.rejects(
    engine.sql('SELECT count(*) FROM range(1000000000) a, range(10000) b WHERE (a.range * b.range) % 7 = 3', {
      timeoutMs: 300,
    }),
    (e: unknown) => isCryptoVizError(e, 'SQL_TIMEOUT') && e.kind === 'user',
  )
  assert.ok(performance.now() - started < 5_000)
  // The console still works afterwards.
  assert.equal((await engine.sql('SELECT 1 AS one')).rows[0]!['one'], 1)
})

test('aborting the signal (the HTTP client left) interrupts a running statement at once', async () => {
  const abandoned = new AbortController()
  const started = performance.now()
  setTimeout(() => abandoned.abort(), 200)
  await assert.rejects(
    engine.sql('SELECT count(*) FROM range(1000000000) a, range(10000) b WHERE (a.range * b.range) % 7 = 3', {
      timeoutMs: 30_000,
      signal: abandoned.signal,
    }),
    (e: unknown) => isCryptoVizError(e, 'SQL_TIMEOUT') && /abandoned/.test((e as Error).message),
  )
  // Far below the 30 s limit: the abort, not the timeout, stopped it.
  assert.ok(performance.now() - started < 10_000, `stopped after ${performance.now() - started} ms`)
  // The console still answers afterwards.
  assert.deepEqual((await engine.sql('SELECT 1 AS x')).rows, [{ x: 1 }])
})

test('partition equalities in WHERE prune the view and give the same answer as the whole view', async () => {
  const pick = await engine.sql('SELECT crypto, source, day FROM quotes ORDER BY ts LIMIT 1')
  const { crypto, source, day } = pick.rows[0] as { crypto: string; source: string; day: string }
  // Each pair: a form the console prunes, and the same question in a form it cannot prune.
  const pairs: [string, string][] = [
    [
      `SELECT ts, price_usd FROM quotes WHERE crypto = '${crypto}' AND day = '${day}' ORDER BY ts LIMIT 50`,
      `SELECT ts, price_usd FROM quotes WHERE crypto || '' = '${crypto}' AND day || '' = '${day}' ORDER BY ts LIMIT 50`,
    ],
    [
      `SELECT count(*) AS n, sum(price_usd) AS total FROM quotes q WHERE q.source = '${source}' AND '${crypto}' = crypto AND price_usd > 0`,
      `SELECT count(*) AS n, sum(price_usd) AS total FROM quotes q WHERE q.source || '' = '${source}' AND '${crypto}' = crypto || '' AND price_usd > 0`,
    ],
    [
      "SELECT count(*) AS n FROM quotes WHERE crypto = 'no-such-asset'",
      "SELECT count(*) AS n FROM quotes WHERE crypto || '' = 'no-such-asset'",
    ],
  ]
  for (const [pruned, whole] of pairs) {
    const a = await engine.sql(pruned)
    const b = await engine.sql(whole)
    assert.deepEqual(a.rows, b.rows, pruned)
    assert.ok(a.rows.length > 0, pruned)
  }
  assert.deepEqual((await engine.sql(pairs[2]![0])).rows, [{ n: 0 }])
  // The narrower view lived on that statement's connection only: the full view answers again.
  const all = await engine.sql('SELECT count(*) AS n FROM quotes')
  assert.deepEqual(all.rows, [{ n: rows.length }])
})

test('pruning applies only where it is provably the same answer', async () => {
  const instance = await DuckDBInstance.create(':memory:')
  const c = await instance.connect()
  const tree = async (sql: string): Promise<Record<string, unknown>> => {
    const r = await c.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS t', [sql])
    return (JSON.parse(String(r.getRowObjectsJS()[0]!['t'])) as { statements: Record<string, unknown>[] })
      .statements[0]!
  }
  const file = (crypto: string, day: string) => ({
    path: `/w/crypto=${crypto}/day=${day}/p.parquet`,
    relativePath: `crypto=${crypto}/day=${day}/p.parquet`,
    partitionValues: { crypto, day },
  })
  const view: SqlView = {
    name: 'quotes',
    key: 'quotes@1',
    schema: {
      type: 'struct',
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false, metadata: {} },
        { name: 'price_usd', type: 'double', nullable: false, metadata: {} },
        { name: 'crypto', type: 'string', nullable: false, metadata: {} },
        { name: 'day', type: 'string', nullable: false, metadata: {} },
      ],
    },
    partitionColumns: ['crypto', 'day'],
    files: [file('a', '01'), file('b', '01'), file('a', '02')],
    unionByName: false,
  }
  const chosen = async (sql: string): Promise<string[] | undefined> =>
    prunedFiles(await tree(sql), view)?.map((f) => f.relativePath.split('/p.')[0]!)
  try {
    assert.deepEqual(await chosen("SELECT * FROM quotes WHERE crypto = 'a' AND price_usd > 1 LIMIT 5"), [
      'crypto=a/day=01',
      'crypto=a/day=02',
    ])
    assert.deepEqual(await chosen("SELECT * FROM quotes q WHERE q.crypto = 'a' AND DAY = '01'"), [
      'crypto=a/day=01',
    ])
    assert.deepEqual(await chosen("SELECT count(*) FROM QUOTES WHERE '01' = day GROUP BY crypto"), [
      'crypto=a/day=01',
      'crypto=b/day=01',
    ])
    assert.deepEqual(await chosen("SELECT * FROM quotes WHERE crypto = 'zzz'"), [])
    assert.deepEqual(await chosen("SELECT * FROM quotes WHERE crypto = 'a' AND crypto = 'b'"), [])
    for (const kept of [
      'SELECT * FROM quotes LIMIT 5',
      "SELECT * FROM quotes WHERE crypto = 'a' OR day = '01'",
      "SELECT * FROM quotes WHERE crypto IN ('a')",
      "SELECT * FROM quotes WHERE price_usd = 'a'",
      "SELECT * FROM quotes JOIN quotes q2 USING (ts) WHERE crypto = 'a'",
      "SELECT * FROM quotes WHERE crypto = 'a' AND ts IN (SELECT ts FROM quotes)",
      "WITH x AS (SELECT 1) SELECT * FROM quotes WHERE crypto = 'a'",
      "SELECT * FROM quotes q(t, p, crypto) WHERE crypto = 'a'",
      "SELECT * FROM quotes WHERE crypto = 'a' UNION ALL SELECT * FROM quotes",
      "SELECT * FROM main.quotes WHERE crypto = 'a'",
      "SELECT * FROM quotes TABLESAMPLE 10% WHERE crypto = 'a'",
      "SELECT * FROM quotes WHERE crypto = 'a' USING SAMPLE 10",
      'SELECT * FROM quotes WHERE crypto = 1',
      "SELECT * FROM quotes WHERE other.crypto = 'a'",
    ]) {
      assert.equal(await chosen(kept), undefined, kept)
    }
  } finally {
    c.closeSync()
    instance.closeSync()
  }
})

test('a syntax error is QUERY_INVALID with DuckDB’s message', () =>
  refused('SELEC 1', 'QUERY_INVALID', /syntax/i))

test('refuses read_csv of a local file', () =>
  refused("SELECT * FROM read_csv('/etc/passwd')", 'SQL_FORBIDDEN', /read_csv/))

test('refuses read_text', () =>
  refused("SELECT * FROM read_text('/etc/hostname')", 'SQL_FORBIDDEN', /read_text/))

test('refuses glob', () => refused("SELECT * FROM glob('/etc/*')", 'SQL_FORBIDDEN', /glob/))

test('refuses read_parquet, even of the warehouse’s own files', () =>
  refused(`SELECT * FROM read_parquet('${fx.dir}/quotes/**/*.parquet')`, 'SQL_FORBIDDEN', /read_parquet/))

test('refuses a file named as a table (replacement scan)', async () => {
  await refused("SELECT * FROM '/etc/passwd'", 'SQL_FORBIDDEN', /reading files by name/)
  await refused("SELECT * FROM 'data.csv'", 'SQL_FORBIDDEN', /reading files by name/)
})

test('refuses ATTACH', () => refused("ATTACH '/tmp/x.duckdb' AS x", 'SQL_FORBIDDEN', /ATTACH/))

test('refuses INSTALL', () => refused('INSTALL httpfs', 'SQL_FORBIDDEN', /LOAD|INSTALL/))

test('refuses LOAD', () => refused('LOAD httpfs', 'SQL_FORBIDDEN', /LOAD/))

test('refuses COPY … TO', () =>
  refused("COPY (SELECT * FROM quotes) TO '/tmp/out.csv'", 'SQL_FORBIDDEN', /COPY/))

test('refuses SET, including re-enabling external access', async () => {
  await refused('SET enable_external_access = true', 'SQL_FORBIDDEN', /SET/)
  await refused('SET threads = 8', 'SQL_FORBIDDEN', /SET/)
  await refused('RESET memory_limit')
})

test('refuses PRAGMA, even the ones DuckDB rewrites into a SELECT', async () => {
  await refused('PRAGMA show_tables', 'SQL_FORBIDDEN', /PRAGMA/)
  await refused('PRAGMA enable_profiling')
})

test('refuses CREATE', async () => {
  await refused('CREATE TABLE t AS SELECT 1', 'SQL_FORBIDDEN', /CREATE/)
  await refused('CREATE MACRO m(x) AS x + 1')
})

test('refuses more than one statement', () =>
  refused('SELECT 1; SELECT 2', 'SQL_FORBIDDEN', /exactly one statement/))

test('refuses EXPLAIN ANALYZE of a statement that is not a SELECT', async () => {
  await refused("EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/x.csv'")
  await refused('EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1')
})

test('refuses data changes and DDL on the views', async () => {
  await refused('DROP VIEW quotes', 'SQL_FORBIDDEN', /DROP/)
  await refused("INSERT INTO quotes (source) VALUES ('x')")
})

test('refuses running SQL text through a function (json_execute_serialized_sql, query)', async () => {
  await refused(
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM read_csv(''/etc/passwd'')'))",
    'SQL_FORBIDDEN',
    /json_execute_serialized_sql/,
  )
  await refused("SELECT * FROM query('SELECT 1')", 'SQL_FORBIDDEN', /query/)
})

test('the console instance is locked: no external access, locked configuration, only the snapshot’s files allowed', async () => {
  const r = await engine.sql(
    "SELECT current_setting('enable_external_access') AS ext, current_setting('lock_configuration') AS locked, len(current_setting('allowed_paths')) AS allowed, current_setting('autoload_known_extensions') AS autoload, current_setting('memory_limit') AS memory",
  )
  const snapshot = await fx.warehouse.quotes.snapshot()
  const dead = await fx.warehouse.deadLetters.snapshot()
  const { memory, ...settings } = r.rows[0]!
  assert.deepEqual(settings, {
    ext: false,
    locked: true,
    allowed: snapshot.files().length + dead.files().length,
    autoload: false,
  })
  assert.equal(memory, '244.1 MiB') // the default 256MB limit
})
