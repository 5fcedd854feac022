import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { quoteToRow } from '../../src/model/quote-table.ts'
import { DuckDb, QueryEngine } from '../../src/query/index.ts'
import { inOrder } from '../../src/query/range-read.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

const DAY = 86_400_000_000
const T0 = Date.UTC(2024, 0, 5) * 1000

test('inOrder accepts (ts, source) order only, both directions, ties in any order', () => {
  assert.equal(inOrder([1, 2, 2, 3], ['a', 'a', 'b', 'a'], false), true)
  assert.equal(inOrder([1, 2, 2, 3], ['a', 'b', 'a', 'a'], false), false)
  assert.equal(inOrder([3, 2, 2, 1], ['a', 'b', 'a', 'a'], true), true)
  assert.equal(inOrder([1, 3, 2], ['a', 'a', 'a'], false), false)
  assert.equal(inOrder([2, 2], ['x', 'x'], false), true, 'equal keys')
  assert.equal(inOrder([2, 2], ['a', null], false), false, 'a null source is left to DuckDB')
  assert.equal(inOrder([2, 2], ['\uE000', '\u{1F600}'], false), false, 'surrogates are left to DuckDB')
  assert.equal(inOrder([], [], false), true)
})

test('a one-file read returns rows in (ts, source) order even when the file holds them out of order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-order-'))
  const duckdb = await DuckDb.open({ threads: 1, poolSize: 1 })
  t.after(() => {
    duckdb.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const warehouse = await openWarehouse(new LocalStore(dir))
  const rng = mulberry32(5)
  const quotes = Array.from({ length: 500 }, (_, i) =>
    makeQuote({ ts: T0 + i * 60_000_000, price_usd: 100 + i, ingested_at: T0 + i * 60_000_000 }),
  )
  const shuffled = [...quotes].sort(() => rng() - 0.5)
  // No sortBy: the file keeps the shuffled order, unlike our writers' files.
  await warehouse.quotes.append(shuffled.map(quoteToRow), { operation: 'WRITE' })
  const sortedFile = [...quotes].map((q) => ({ ...q, crypto: 'ethereum', symbol: 'ETH' }))
  await warehouse.quotes.append(sortedFile.map(quoteToRow), { operation: 'WRITE' })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb })
  t.after(() => engine.close())
  for (const crypto of ['bitcoin', 'ethereum']) {
    for (const order of ['asc', 'desc'] as const) {
      const r = await engine.readRange({ crypto, start: T0, end: T0 + DAY - 1, order })
      assert.equal(r.files_scanned, 1)
      const expected = quotes.map((q) => q.ts)
      assert.deepEqual(
        r.rows.map((q) => q.ts),
        order === 'asc' ? expected : expected.reverse(),
        `${crypto} ${order}`,
      )
      assert.deepEqual(
        r.rows.map((q) => q.price_usd),
        r.rows.map((q) => 100 + (q.ts - T0) / 60_000_000),
      )
    }
  }
})
