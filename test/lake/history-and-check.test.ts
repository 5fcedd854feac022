import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkTable, dataFilePath } from '../../src/lake/index.ts'
import { commitPath } from '../../src/lake/log-paths.ts'
import { smallRows, smallTable, lakeTestStore } from './lake-fixtures.ts'

test('history lists every version newest first with file and row counts', async () => {
  const { table } = await smallTable()
  await table.append([...smallRows(3, { crypto: 'a' }), ...smallRows(2, { crypto: 'b' })])
  const [f] = (await table.snapshot()).files().filter((x) => x.partitionValues.crypto === 'a')
  await table.commit([{ remove: { path: f!.path, dataChange: true } }], {
    operation: 'DELETE',
    readFiles: [f!],
  })
  const h = await table.history()
  assert.deepEqual(
    h.map((e) => [e.version, e.operation, e.filesAdded, e.filesRemoved, e.rowsAdded, e.rowsRemoved]),
    [
      [2, 'DELETE', 0, 1, 0, 3],
      [1, 'WRITE', 2, 0, 5, 0],
      [0, 'CREATE TABLE', 0, 0, 0, 0],
    ],
  )
  assert.equal(h[1]!.isBlindAppend, true)
  assert.equal(h[0]!.isBlindAppend, false)
  assert.equal(h[1]!.readVersion, 0)
  assert.deepEqual(h[1]!.operationParameters, { mode: 'Append', partitionBy: '["crypto"]' })
  assert.deepEqual(
    (await table.history({ limit: 1 })).map((e) => e.version),
    [2],
  )
})

test('checkTable passes a healthy table and counts its files and rows', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(4, { crypto: (i) => `c${i % 2}` }))
  const report = await checkTable(store)
  assert.equal(report.ok, true)
  assert.deepEqual(report.problems, [])
  assert.deepEqual(report.orphans, [])
  assert.equal(report.version, 1)
  assert.equal(report.liveFiles, 2)
  assert.equal(report.rows, 4)
})

test('checkTable reports orphan data files but still calls the table healthy', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(2))
  await store.put('crypto=bitcoin/part-00000-orphan.snappy.parquet', new Uint8Array([1, 2, 3]))
  await store.put('_delta_log/.tmp-something', new Uint8Array([1]))
  const report = await checkTable(store)
  assert.equal(report.ok, true)
  assert.deepEqual(
    report.orphans.map((o) => o.path),
    ['crypto=bitcoin/part-00000-orphan.snappy.parquet'],
  )
})

test('checkTable reports missing files, wrong sizes, gaps and unparseable commits', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(2, { crypto: 'a' }))
  await table.append(smallRows(2, { crypto: 'b' }))
  const files = (await table.snapshot()).files()
  const a = files.find((f) => f.partitionValues.crypto === 'a')!
  const b = files.find((f) => f.partitionValues.crypto === 'b')!
  await store.delete(dataFilePath(a))
  await store.put(dataFilePath(b), new Uint8Array([1, 2, 3]))
  let report = await checkTable(store)
  assert.equal(report.ok, false)
  assert.deepEqual(report.problems.map((p) => p.kind).sort(), ['missing-file', 'size-mismatch'])

  await table.append(smallRows(1, { crypto: 'c' }))
  await store.delete(commitPath(2))
  await store.put(commitPath(1), new TextEncoder().encode('{broken'))
  report = await checkTable(store)
  assert.deepEqual(report.problems.map((p) => p.kind).sort(), [
    'log-gap',
    'unparseable-commit',
    'unreadable-snapshot',
  ])
})

test('checkTable on a folder without a log says so', async () => {
  const report = await checkTable(await lakeTestStore())
  assert.equal(report.ok, false)
  assert.deepEqual(
    report.problems.map((p) => p.kind),
    ['no-log'],
  )
})
