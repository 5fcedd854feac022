import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { isCryptoVizError } from '../../src/errors.ts'
import { dataFilePath, DeltaTable, fileStats } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import { commitActions, smallRows, smallTable, T0, lakeTestStore } from './lake-fixtures.ts'

const arrayBuffer = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer

test('create commits version 0 with protocol 1/2, metaData and a CREATE TABLE commitInfo', async () => {
  const { store } = await smallTable({ configuration: { 'delta.appendOnly': 'false' } })
  const actions = await commitActions(store, 0)
  const kinds = actions.map((a) => Object.keys(a)[0])
  assert.deepEqual(kinds, ['commitInfo', 'protocol', 'metaData'])
  assert.deepEqual(actions[1]!.protocol, { minReaderVersion: 1, minWriterVersion: 2 })
  const md = actions[2]!.metaData as Record<string, unknown>
  assert.equal((md.format as { provider: string }).provider, 'parquet')
  assert.deepEqual(md.partitionColumns, ['crypto'])
  assert.deepEqual(md.configuration, { 'delta.appendOnly': 'false' })
  assert.equal(typeof md.schemaString, 'string')
  assert.equal((actions[0]!.commitInfo as { operation: string }).operation, 'CREATE TABLE')
})

test('create refuses a table that already exists, open refuses a folder without a log', async () => {
  const { store } = await smallTable()
  await assert.rejects(DeltaTable.create(store, { schema: QUOTES_SCHEMA, partitionColumns: [] }), (e) =>
    isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT'),
  )
  await assert.rejects(DeltaTable.open(await lakeTestStore()), (e) =>
    isCryptoVizError(e, 'DELTA_TABLE_NOT_FOUND'),
  )
})

test('racing openOrCreate calls produce exactly one version 0 and all see the same table', async () => {
  const store = await lakeTestStore()
  const tables = await Promise.all(
    Array.from({ length: 5 }, () =>
      DeltaTable.openOrCreate(store, { schema: QUOTES_SCHEMA, partitionColumns: QUOTES_PARTITION_COLUMNS }),
    ),
  )
  const ids = new Set(await Promise.all(tables.map(async (t) => (await t.snapshot()).metadata.id)))
  assert.equal(ids.size, 1)
  assert.deepEqual(
    (await store.list('_delta_log/')).map((m) => m.path),
    ['_delta_log/00000000000000000000.json'],
  )
})

test('append writes one file per partition with hive folders, stats and a WRITE commitInfo', async () => {
  const { table, store } = await smallTable()
  const rows = [...smallRows(4, { crypto: 'bitcoin' }), ...smallRows(3, { crypto: 'ethereum', start: 10 })]
  const r = await table.append(rows)
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.equal(r.version, 1)
  assert.equal(r.rows, 7)
  assert.equal(r.files.length, 2)
  const btc = r.files.find((f) => f.partitionValues.crypto === 'bitcoin')!
  assert.match(btc.path, /^crypto=bitcoin\/part-00000-[0-9a-f-]{36}\.snappy\.parquet$/)
  assert.equal(btc.dataChange, true)
  const stats = fileStats(btc)!
  assert.equal(stats.numRecords, 4)
  assert.deepEqual(stats.minValues, { ts: '2024-01-05T00:00:00.000Z', price: 100, note: 'n1' })
  assert.deepEqual(stats.maxValues, { ts: '2024-01-05T00:00:03.000Z', price: 103, note: 'n2' })
  assert.deepEqual(stats.nullCount, { ts: 0, price: 0, note: 2 })
  const bytes = await store.get(dataFilePath(btc))
  assert.equal(bytes.length, btc.size)
  const meta = parquetMetadata(arrayBuffer(bytes))
  assert.deepEqual(
    meta.schema.slice(1).map((s) => s.name),
    ['ts', 'price', 'note'],
    'partition columns are not stored in the file',
  )
  const ts = meta.schema[1]!
  assert.equal(ts.type, 'INT64')
  assert.equal(ts.repetition_type, 'REQUIRED')
  assert.deepEqual(ts.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' })
  assert.equal(meta.schema[3]!.repetition_type, 'OPTIONAL')

  const info = (await commitActions(store, 1))[0]!.commitInfo as Record<string, unknown>
  assert.equal(info.operation, 'WRITE')
  assert.equal(info.readVersion, 0)
  assert.equal(info.isolationLevel, 'Serializable')
  assert.equal(info.isBlindAppend, true)
  assert.equal(info.engineInfo, 'CryptoViz/0.1.0')
  assert.deepEqual(info.operationParameters, { mode: 'Append', partitionBy: '["crypto"]' })
  assert.deepEqual(info.operationMetrics, {
    numFiles: '2',
    numOutputRows: '7',
    numOutputBytes: String(r.bytes),
  })
})

test('rows come back exactly, sorted within each file by the sortBy columns', async () => {
  const { table, store } = await smallTable()
  const rows = smallRows(50, { crypto: (i) => (i % 2 ? 'a' : 'b') }).reverse()
  const r = await table.append(rows, { sortBy: ['crypto', 'ts'] })
  assert.equal(r.status, 'committed')
  const snap = await table.snapshot()
  for (const f of snap.files()) {
    const inFile = await readRows(store, snap, { files: [f] })
    const ts = inFile.map((x) => x.ts as number)
    assert.deepEqual(
      ts,
      [...ts].sort((a, b) => a - b),
    )
  }
  const back = await readRows(store, snap)
  const key = (x: Record<string, unknown>): string => JSON.stringify([x.ts, x.crypto, x.price, x.note])
  assert.deepEqual(back.map(key).sort(), rows.map(key).sort())
})

test('a null in a NOT NULL column is refused before anything is written', async () => {
  const { table, store } = await smallTable()
  const before = (await store.list('')).map((m) => m.path)
  const rows = smallRows(10)
  rows[7]!.price = null
  await assert.rejects(table.append(rows), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_NULL_VIOLATION'))
    assert.match(e.message, /row 7: column "price"/)
    return true
  })
  const missingPartition = smallRows(2)
  missingPartition[1]!.crypto = null
  await assert.rejects(table.append(missingPartition), (e) => isCryptoVizError(e, 'DELTA_NULL_VIOLATION'))
  assert.deepEqual(
    (await store.list('')).map((m) => m.path),
    before,
  )
})

test('values of the wrong type and unknown columns are refused with the row index', async () => {
  const { table } = await smallTable()
  const bad = smallRows(3)
  bad[2]!.ts = 1.5
  await assert.rejects(table.append(bad), /row 2: column "ts" is timestamp/)
  const str = smallRows(3)
  str[1]!.price = '12'
  await assert.rejects(table.append(str), (e) => isCryptoVizError(e, 'DELTA_SCHEMA_MISMATCH'))
  const extra = smallRows(3)
  extra[1]!.volume = 3
  await assert.rejects(table.append(extra), /row 1: column "volume" is not in the table schema/)
})

test('zstd files are named .zstd.parquet and readable', async () => {
  const { table, store } = await smallTable()
  const r = await table.append(smallRows(20), { compression: 'zstd' })
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.match(r.files[0]!.path, /\.zstd\.parquet$/)
  const bytes = await store.get(dataFilePath(r.files[0]!))
  const meta = parquetMetadata(arrayBuffer(bytes))
  assert.equal(meta.row_groups[0]!.columns[0]!.meta_data!.codec, 'ZSTD')
  const rows = await parquetReadObjects({ file: arrayBuffer(bytes), compressors })
  assert.equal(rows.length, 20)
})

test('large partitions are split into several files and row groups', async () => {
  const { table, store } = await smallTable()
  const r = await table.append(smallRows(2500), { maxRowsPerFile: 1000, rowGroupRows: 400 })
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.deepEqual(
    r.files.map((f) => fileStats(f)!.numRecords),
    [1000, 1000, 500],
  )
  const meta = parquetMetadata(arrayBuffer(await store.get(dataFilePath(r.files[0]!))))
  assert.equal(meta.row_groups.length, 3)
  assert.equal((await table.snapshot()).numRecords(), 2500)
})

test('quotes rows go to year/month/day/source/crypto folders', async () => {
  const store = await lakeTestStore()
  const table = await DeltaTable.create(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const quote = {
    ts: T0 + 123_456,
    source: 'simulated',
    crypto: 'bitcoin',
    symbol: 'BTC',
    name: 'Bitcoin',
    price_usd: 42000.5,
    market_cap_usd: null,
    volume_24h_usd: 1e9,
    change_1h_pct: null,
    change_24h_pct: -1.5,
    change_7d_pct: null,
    circulating_supply: null,
    total_supply: null,
    max_supply: 21e6,
    rank: 1,
    ingested_at: T0 + 999_999,
  }
  const r = await table.append([quoteToRow(quote)], { sortBy: QUOTES_SORT_BY })
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.match(
    r.files[0]!.path,
    /^year=2024\/month=01\/day=05\/source=simulated\/crypto=bitcoin\/part-00000-/,
  )
  const [row] = await readRows(store, await table.snapshot())
  assert.deepEqual(row, { ...quote, year: '2024', month: '01', day: '05' })
})

test('an empty append without txn is skipped; with txn it records the marker', async () => {
  const { table } = await smallTable()
  assert.deepEqual(await table.append([]), { status: 'skipped', reason: 'no-rows' })
  const r = await table.append([], { txn: { appId: 'p0', version: 4 } })
  assert.equal(r.status, 'committed')
  assert.equal((await table.snapshot()).txnVersion('p0'), 4)
})

test('an append with a txn already recorded at that version or later is a no-op', async () => {
  const { table, store } = await smallTable()
  const first = await table.append(smallRows(5), { txn: { appId: 'partition-0', version: 7 } })
  assert.equal(first.status, 'committed')
  const files = (await store.list('')).length
  for (const version of [7, 3]) {
    const again = await table.append(smallRows(5), { txn: { appId: 'partition-0', version } })
    assert.deepEqual(again, {
      status: 'skipped',
      reason: 'txn-already-committed',
      txnVersion: 7,
      txnVersions: { 'partition-0': 7 },
    })
  }
  assert.equal((await store.list('')).length, files, 'nothing written for a skipped append')
  const other = await table.append(smallRows(5), { txn: { appId: 'partition-1', version: 7 } })
  assert.equal(other.status, 'committed')
  const next = await table.append(smallRows(5), { txn: { appId: 'partition-0', version: 8 } })
  assert.equal(next.status, 'committed')
  const snap = await table.snapshot()
  assert.equal(snap.txnVersion('partition-0'), 8)
  assert.equal(snap.txnVersion('partition-1'), 7)
  assert.equal(snap.numRecords(), 15)
  // A reopened table (fresh replay) knows the markers too.
  const reopened = await (await DeltaTable.open(store)).snapshot()
  assert.equal(reopened.txnVersion('partition-0'), 8)
})

test('one append carries several txns, one per input stream, all in the same commit', async () => {
  const { table, store } = await smallTable()
  const txns = [
    { appId: 'g:quotes:0', version: 10 },
    { appId: 'g:quotes:1', version: 3 },
  ]
  const r = await table.append(smallRows(4), { txns })
  assert.equal(r.status, 'committed')
  const snap = await table.snapshot()
  assert.equal(snap.txnVersion('g:quotes:0'), 10)
  assert.equal(snap.txnVersion('g:quotes:1'), 3)
  const log = new TextDecoder().decode(await store.get('_delta_log/00000000000000000001.json'))
  assert.equal(log.split('\n').filter((l) => l.includes('"txn"')).length, 2, 'both markers in one commit')
  const again = await table.append(smallRows(4), { txns })
  assert.deepEqual(again, {
    status: 'skipped',
    reason: 'txn-already-committed',
    txnVersion: 10,
    txnVersions: { 'g:quotes:0': 10, 'g:quotes:1': 3 },
  })
  assert.equal((await table.snapshot()).numRecords(), 4)
})

test('an append whose txns are only partly recorded is refused, naming the recorded ones', async () => {
  const { table } = await smallTable()
  await table.append(smallRows(2), { txn: { appId: 'g:quotes:0', version: 10 } })
  await assert.rejects(
    table.append(smallRows(2), {
      txns: [
        { appId: 'g:quotes:0', version: 9 },
        { appId: 'g:quotes:1', version: 5 },
      ],
    }),
    (e) =>
      isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT') &&
      e.details?.reason === 'txn-partially-committed' &&
      JSON.stringify(e.details['txnVersions']) === JSON.stringify({ 'g:quotes:0': 10 }),
  )
  assert.equal((await table.snapshot()).numRecords(), 2, 'nothing of the refused append landed')
  await assert.rejects(
    table.append(smallRows(1), {
      txns: [
        { appId: 'a', version: 1 },
        { appId: 'a', version: 2 },
      ],
    }),
    (e) => isCryptoVizError(e, 'INVALID_ARGUMENT'),
  )
})

test('a txn whose recorded version falls inside its batch (after startsAfter) is refused, not duplicated', async () => {
  const { table } = await smallTable()
  // Another writer committed offsets 0..100 of the partition; this one holds 0..150.
  await table.append(smallRows(2), { txn: { appId: 'g:q:0', version: 100 } })
  await assert.rejects(
    table.append(smallRows(3), { txns: [{ appId: 'g:q:0', version: 150, startsAfter: -1 }] }),
    (e) =>
      isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT') &&
      e.details?.reason === 'txn-partially-committed' &&
      JSON.stringify(e.details['txnVersions']) === JSON.stringify({ 'g:q:0': 100 }),
  )
  // Continuing from what the table holds commits.
  const r = await table.append(smallRows(1), { txns: [{ appId: 'g:q:0', version: 150, startsAfter: 100 }] })
  assert.equal(r.status, 'committed')
  assert.equal((await table.snapshot()).numRecords(), 3)
})
