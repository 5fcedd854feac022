import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Action, AddFile } from '../../src/lake/index.ts'
import { smallRows, smallTable, T0 } from './lake-fixtures.ts'

const names = (files: readonly AddFile[]): string[] =>
  files.map((f) => f.partitionValues.crypto ?? 'null').sort()

test('filesFor keeps only files whose partition value is in the IN list', async () => {
  const { table } = await smallTable()
  await table.append([
    ...smallRows(2, { crypto: 'bitcoin' }),
    ...smallRows(2, { crypto: 'ethereum' }),
    ...smallRows(2, { crypto: 'solana' }),
  ])
  const snap = await table.snapshot()
  assert.deepEqual(names(snap.filesFor({ partitions: { crypto: ['bitcoin', 'solana'] } })), [
    'bitcoin',
    'solana',
  ])
  assert.deepEqual(names(snap.filesFor({ partitions: { crypto: [] } })), [])
  assert.deepEqual(names(snap.filesFor({})), ['bitcoin', 'ethereum', 'solana'])
})

test('filesFor prunes by timestamp stats, widening the ms-truncated max by 1 ms', async () => {
  const { table } = await smallTable()
  // File A: ts in [T0, T0 + 1.000999 s]; its recorded max is T0 + 1.000 s (ms truncation).
  await table.append([
    { ts: T0, crypto: 'a', price: 1, note: null },
    { ts: T0 + 1_000_999, crypto: 'a', price: 1, note: null },
  ])
  // File B: one hour later.
  await table.append([{ ts: T0 + 3_600_000_000, crypto: 'b', price: 1, note: null }])
  const snap = await table.snapshot()
  const within = (min?: number, max?: number): string[] =>
    names(
      snap.filesFor({
        ranges: { ts: { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) } },
      }),
    )
  assert.deepEqual(within(T0 + 1_000_999, T0 + 1_000_999), ['a'], 'the exact max µs still finds file A')
  assert.deepEqual(within(T0 + 2_000_000), ['b'])
  assert.deepEqual(within(undefined, T0 - 1), [])
  assert.deepEqual(within(T0, T0 + 3_600_000_000), ['a', 'b'])
  assert.deepEqual(within(T0 + 3_600_001_000), ['b'], 'widened by a whole millisecond')
  assert.deepEqual(within(T0 + 3_600_001_001), [])
})

test('filesFor prunes on numeric stats and on partition ranges', async () => {
  const { table } = await smallTable()
  await table.append(smallRows(10, { crypto: 'a' })) // price 100..109
  await table.append(smallRows(10, { crypto: 'b' }).map((r) => ({ ...r, price: 500 })))
  const snap = await table.snapshot()
  assert.deepEqual(names(snap.filesFor({ ranges: { price: { min: 105, max: 200 } } })), ['a'])
  assert.deepEqual(names(snap.filesFor({ ranges: { price: { min: 110, max: 499 } } })), [])
  assert.deepEqual(names(snap.filesFor({ ranges: { crypto: { min: 'b' } } })), ['b'])
})

test('files without stats, or without stats for the column, are kept', async () => {
  const { table } = await smallTable()
  await table.append(smallRows(3, { crypto: 'with-stats' }))
  const snap = await table.snapshot()
  const template = snap.files()[0]!
  const noStats: AddFile = { ...template, path: 'crypto=none/x.parquet', partitionValues: { crypto: 'none' } }
  delete noStats.stats
  const partial: AddFile = {
    ...template,
    path: 'crypto=partial/y.parquet',
    partitionValues: { crypto: 'partial' },
    stats: JSON.stringify({ numRecords: 3 }),
  }
  const broken: AddFile = {
    ...template,
    path: 'crypto=broken/z.parquet',
    partitionValues: { crypto: 'broken' },
    stats: '{not json',
  }
  const actions: Action[] = [{ add: noStats }, { add: partial }, { add: broken }]
  const r = await table.commit(actions, { operation: 'WRITE' })
  assert.equal(r.status, 'committed')
  const after = await table.snapshot()
  assert.deepEqual(names(after.filesFor({ ranges: { price: { min: 1e9 } } })), ['broken', 'none', 'partial'])
  assert.equal(after.numRecords(), undefined, 'total rows are unknown when a file lacks numRecords')
})

test('a column that is entirely null in a file cannot match a range', async () => {
  const { table } = await smallTable()
  await table.append(smallRows(3, { crypto: 'nulls' }).map((r) => ({ ...r, note: null })))
  await table.append(smallRows(3, { crypto: 'values' }).map((r) => ({ ...r, note: 'm' })))
  const snap = await table.snapshot()
  assert.deepEqual(names(snap.filesFor({ ranges: { note: { min: 'a', max: 'z' } } })), ['values'])
})
