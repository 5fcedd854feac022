import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DuckDb } from '../../src/query/index.ts'

test('runs more concurrent queries than pooled connections by queueing them, each with its own result', async (t) => {
  const db = await DuckDb.open({ threads: 1, poolSize: 2 })
  t.after(() => db.close())
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      db.all(`SELECT ${i} AS i, sum(range) AS s FROM range(${(i + 1) * 1000})`),
    ),
  )
  results.forEach((rows, i) => {
    const n = (i + 1) * 1000
    assert.deepEqual(rows, [{ i, s: BigInt((n * (n - 1)) / 2) }])
  })
})

test('a failing query gives its connection back to the pool', async (t) => {
  const db = await DuckDb.open({ threads: 1, poolSize: 1 })
  t.after(() => db.close())
  for (let i = 0; i < 3; i++) await assert.rejects(db.all('SELECT * FROM no_such_table'), /no_such_table/)
  assert.deepEqual(await db.all('SELECT 42 AS answer'), [{ answer: 42 }])
})

test('list parameters bind typed values (the hot tail travels this way)', async (t) => {
  const { DOUBLE, LIST, VARCHAR, listValue } = await import('@duckdb/node-api')
  const db = await DuckDb.open({ threads: 1 })
  t.after(() => db.close())
  const rows = await db.all(
    'SELECT unnest($1::DOUBLE[])::BIGINT AS ts, unnest($2::VARCHAR[]) AS s',
    [listValue([1_704_585_600_000_001, 2]), listValue(["it's", 'b'])],
    [LIST(DOUBLE), LIST(VARCHAR)],
  )
  assert.deepEqual(rows, [
    { ts: 1_704_585_600_000_001n, s: "it's" },
    { ts: 2n, s: 'b' },
  ])
})

test('a deferred DuckDb starts on its first queries (concurrent ones share one start) and closes unused', async (t) => {
  const unused = DuckDb.deferred({ threads: 1 })
  unused.close()
  await assert.rejects(unused.all('SELECT 1'), /closed/)
  const db = DuckDb.deferred({ threads: 1, poolSize: 2 })
  t.after(() => db.close())
  const rows = await Promise.all([1, 2, 3].map((i) => db.all(`SELECT ${i} AS i`)))
  assert.deepEqual(rows, [[{ i: 1 }], [{ i: 2 }], [{ i: 3 }]])
  // The parquet settings of `open` apply to a deferred start too.
  assert.deepEqual(
    await db.all("SELECT value FROM duckdb_settings() WHERE name = 'parquet_metadata_cache'"),
    [{ value: 'true' }],
  )
})
