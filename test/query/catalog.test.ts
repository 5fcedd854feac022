import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable, struct } from '../../src/lake/index.ts'
import type { Quote } from '../../src/model/quote.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import { QueryEngine, type PartitionNode } from '../../src/query/index.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
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
  })
  rows = await allRows(fx.duckdb, fx.warehouse.quotes, await fx.warehouse.quotes.snapshot())
})

after(() => {
  engine.close()
  fx.close()
})

function checkSums(node: { files: number; rows: number; bytes: number; children: PartitionNode[] }): void {
  if (node.children.length === 0) return
  for (const key of ['files', 'rows', 'bytes'] as const) {
    assert.equal(
      node.children.reduce((n, c) => n + c[key], 0),
      node[key],
    )
  }
  node.children.forEach(checkSums)
}

test('catalog lists both tables with their schema, totals from stats and a partition tree that adds up', async () => {
  const { tables } = await engine.catalog({ depth: 5 })
  assert.deepEqual(
    tables.map((t) => t.name),
    ['quotes', 'dead_letters'],
  )
  const quotes = tables[0]!
  const snapshot = await fx.warehouse.quotes.snapshot()
  assert.equal(quotes.version, snapshot.version)
  assert.equal(quotes.files, snapshot.files().length)
  assert.equal(quotes.rows, rows.length)
  assert.equal(
    quotes.bytes,
    snapshot.files().reduce((n, f) => n + f.size, 0),
  )
  const minTs = Math.min(...rows.map((q) => q.ts))
  const maxTs = Math.max(...rows.map((q) => q.ts))
  assert.equal(quotes.min_ts, Math.floor(minTs / 1000) * 1000)
  assert.equal(quotes.max_ts, Math.floor(maxTs / 1000) * 1000)
  assert.deepEqual(quotes.partition_columns, QUOTES_PARTITION_COLUMNS)
  assert.deepEqual(
    quotes.columns.map((c) => c.name),
    QUOTES_SCHEMA.fields.map((f) => f.name),
  )
  assert.ok(quotes.columns.every((c) => c.since_version === 0))
  assert.deepEqual(
    quotes.columns.filter((c) => c.partition).map((c) => c.name),
    ['source', 'crypto', 'year', 'month', 'day'],
  )
  checkSums({ ...quotes, children: quotes.partitions })
  const days = quotes.partitions[0]!.children[0]!.children
  assert.deepEqual(
    days.map((d) => d.value),
    ['07', '08', '09'],
  )
  const leaf = days[2]!.children.find((s) => s.value === 'coingecko')!.children
  assert.ok(leaf.some((c) => c.column === 'crypto' && c.value === 'cg-only' && c.files === 1))
  const dead = tables[1]!
  assert.equal(dead.rows, 2)
  assert.deepEqual(
    dead.partitions.map((p) => p.value),
    ['coingecko', 'simulated'],
  )
})

test('catalog depth limits the partition tree', async () => {
  const { tables } = await engine.catalog({ depth: 1 })
  assert.ok(tables[0]!.partitions.every((p) => p.column === 'year' && p.children.length === 0))
  const none = await engine.catalog({ depth: 0 })
  assert.deepEqual(none.tables[0]!.partitions, [])
})

test('files lists the live files matching partition values and a time range, by path, paged', async () => {
  const all = await engine.files({ partitions: { crypto: ['bitcoin'] } })
  assert.equal(all.files_matched, 5) // 3 simulated days + 2 coingecko days
  assert.ok(all.files.every((f) => f.partition['crypto'] === 'bitcoin' && f.rows! > 0 && f.size > 0))
  const paths = all.files.map((f) => f.path)
  assert.deepEqual(paths, [...paths].sort())
  const day = await engine.files({ partitions: { crypto: ['bitcoin'], day: ['08'] }, limit: 1, offset: 1 })
  assert.equal(day.files_matched, 2)
  assert.equal(day.files.length, 1)
  const late = await engine.files({ start: Date.UTC(2024, 0, 9, 12) * 1000 })
  assert.ok(late.files.every((f) => f.max_ts! >= Date.UTC(2024, 0, 9, 12) * 1000 - 1000))
  assert.equal((await engine.files({ table: 'dead_letters' })).files_matched, 2) // one per source
  await assert.rejects(engine.files({ partitions: { price_usd: ['1'] } }), (e: unknown) =>
    isCryptoVizError(e, 'QUERY_INVALID'),
  )
})

test('history lists the commits newest first', async () => {
  const h = await engine.history({ limit: 2 })
  assert.equal(h.length, 2)
  assert.ok(h[0]!.version > h[1]!.version)
  assert.equal(h[0]!.version, (await fx.warehouse.quotes.snapshot()).version)
  assert.equal((await engine.history({ table: 'dead_letters' }))[0]!.operation, 'WRITE')
})

test('after schema evolution, since_version names the version that added a column, and reads still work', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-evolve-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const withoutRank = struct(QUOTES_SCHEMA.fields.filter((f) => f.name !== 'rank'))
  const table = await DeltaTable.create(new LocalStore(dir), {
    schema: withoutRank,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const sample = rows.filter((q) => q.crypto === 'bitcoin' && q.source === 'simulated').slice(0, 6)
  const old = sample.slice(0, 3).map((q) => {
    const r = quoteToRow(q)
    delete r['rank']
    return r
  })
  await table.append(old, { sortBy: QUOTES_SORT_BY })
  const evolved = await table.append(sample.slice(3).map(quoteToRow), {
    sortBy: QUOTES_SORT_BY,
    mergeSchema: true,
    schema: QUOTES_SCHEMA,
  })
  assert.equal(evolved.status, 'committed')
  const evolvedEngine = new QueryEngine({ table, duckdb: fx.duckdb })
  t.after(() => evolvedEngine.close())
  const { tables } = await evolvedEngine.catalog()
  const since = Object.fromEntries(tables[0]!.columns.map((c) => [c.name, c.since_version]))
  assert.equal(since['rank'], 2)
  assert.equal(since['price_usd'], 0)
  const read = await evolvedEngine.readRange({ crypto: 'bitcoin', columns: ['ts', 'rank', 'price_usd'] })
  assert.deepEqual(
    read.rows,
    sample.map((q, i) => ({ ts: q.ts, rank: i < 3 ? null : q.rank, price_usd: q.price_usd })),
  )
  const sql = await evolvedEngine.sql('SELECT count(*) AS n, count(rank) AS ranked FROM quotes')
  assert.deepEqual(sql.rows, [{ n: 6, ranked: 3 }])
})

test('unknown tables and bad arguments are QUERY_INVALID user errors', async () => {
  const bad = (e: unknown): boolean => isCryptoVizError(e, 'QUERY_INVALID') && e.kind === 'user'
  await assert.rejects(engine.history({ table: 'nope' as 'quotes' }), bad)
  await assert.rejects(engine.readRange({ crypto: 'bitcoin', columns: ['nope' as 'ts'] }), bad)
  await assert.rejects(engine.candles({ crypto: 'bitcoin', interval: '2h' as '1h' }), bad)
  await assert.rejects(engine.latest({ sort: 'size' as 'rank' }), bad)
  await assert.rejects(engine.readRange({ crypto: 'bitcoin', start: 2, end: 1 }), bad)
  await assert.rejects(engine.readRange({ crypto: 'bitcoin', asOf: { version: -1 } }), bad)
})
