import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hivePathsMatch, scanSql, type ScanFile } from '../../src/query/file-scan.ts'
import { QueryEngine } from '../../src/query/index.ts'
import { allRows, quoteFixture } from './fixtures.ts'
import { refLatest, refRange } from './reference.ts'

const file = (crypto: string, o: { dir?: string; value?: string } = {}): ScanFile => {
  const relativePath = `year=2024/month=01/day=07/source=simulated/crypto=${o.value ?? crypto}/part-0.parquet`
  return {
    path: `${o.dir ?? '/data/warehouse/quotes'}/${relativePath}`,
    relativePath,
    partitionValues: { year: '2024', month: '01', day: '07', source: 'simulated', crypto },
  }
}

test('hive paths are used when every path spells exactly its partition values', () => {
  assert.equal(hivePathsMatch([file('bitcoin'), file('ethereum')], ['crypto']), true)
  const sql = scanSql({
    files: [file('bitcoin'), file('ethereum')],
    columns: [{ name: 'crypto', from: 'partition', sqlType: 'VARCHAR' }],
    unionByName: false,
  })
  assert.match(sql, /hive_partitioning = true, hive_types_autocast = false/)
  assert.doesNotMatch(sql, /JOIN \(VALUES/)
})

test('hive paths are refused when a path disagrees with the add action, is escaped, or is null', () => {
  assert.equal(hivePathsMatch([file('bitcoin'), file('ethereum', { value: 'solana' })], ['crypto']), false)
  assert.equal(hivePathsMatch([file('bitcoin'), file('a b', { value: 'a%20b' })], ['crypto']), false)
  const nullFile = file('x', { value: '__HIVE_DEFAULT_PARTITION__' })
  assert.equal(
    hivePathsMatch(
      [file('bitcoin'), { ...nullFile, partitionValues: { ...nullFile.partitionValues, crypto: null } }],
      ['crypto'],
    ),
    false,
  )
})

test('hive paths are refused when the folders above the table hold a key=value directory', () => {
  assert.equal(
    hivePathsMatch(
      [file('bitcoin', { dir: '/data/env=prod/quotes' }), file('ethereum', { dir: '/data/env=prod/quotes' })],
      ['crypto'],
    ),
    false,
  )
})

test('hive paths are refused when files are partitioned differently', () => {
  const other: ScanFile = {
    ...file('ethereum'),
    relativePath: 'crypto=ethereum/part-1.parquet',
    path: '/data/warehouse/quotes/crypto=ethereum/part-1.parquet',
  }
  assert.equal(hivePathsMatch([file('bitcoin'), other], ['crypto']), false)
  const sql = scanSql({
    files: [file('bitcoin'), other],
    columns: [{ name: 'crypto', from: 'partition', sqlType: 'VARCHAR' }],
    unionByName: false,
  })
  assert.match(sql, /filename = true/)
  assert.match(sql, /JOIN \(VALUES/)
})

test('without hive paths (the join on file names) reads still equal the brute-force reference', async (t) => {
  const fx = await quoteFixture({ prefix: 'cryptoviz-root=join-' })
  const engine = new QueryEngine({
    table: fx.warehouse.quotes,
    duckdb: fx.duckdb,
  })
  t.after(() => {
    engine.close()
    fx.close()
  })
  const rows = await allRows(fx.duckdb, fx.warehouse.quotes, await fx.warehouse.quotes.snapshot())
  const q = { crypto: 'bitcoin', start: Date.UTC(2024, 0, 8, 20) * 1000, end: Date.UTC(2024, 0, 9, 4) * 1000 }
  assert.deepEqual((await engine.readRange(q)).rows, refRange(rows, q).rows)
  assert.deepEqual(
    (await engine.latest({ sort: 'change_24h' })).rows,
    refLatest(rows, { sort: 'change_24h' }).rows,
  )
  const sql = await engine.sql("SELECT count(*) AS n FROM quotes WHERE crypto = 'bitcoin'")
  assert.deepEqual(sql.rows, [{ n: rows.filter((r) => r.crypto === 'bitcoin').length }])
})
