import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { ColumnSource, SchemaElement } from 'hyparquet-writer'
import { isCryptoVizError } from '../../src/errors.ts'
import type { AddFile } from '../../src/lake/actions.ts'
import { field, struct, type StructField, type StructType } from '../../src/lake/schema.ts'
import { readRows, typedPartitionValue, type ScanSource } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import { lakeTestStore } from './lake-fixtures.ts'
import { GOLDEN_MISSING, goldenDir } from '../harness/golden.ts'

const source = (schema: StructType, partitionColumns: string[], files: AddFile[]): ScanSource => ({
  schema,
  partitionColumns,
  files: () => files,
})

async function putParquet(
  store: ObjectStore,
  path: string,
  columnData: ColumnSource[],
  schema?: SchemaElement[],
  partitionValues: Record<string, string | null> = {},
): Promise<AddFile> {
  const bytes = new Uint8Array(parquetWriteBuffer(schema ? { columnData, schema } : { columnData }))
  await store.put(path, bytes)
  return { path: encodeURI(path), partitionValues, size: bytes.length, modificationTime: 0, dataChange: true }
}

const opt = (
  name: string,
  type: SchemaElement['type'],
  extra: Partial<SchemaElement> = {},
): SchemaElement => ({
  name,
  type,
  repetition_type: 'OPTIONAL',
  ...extra,
})

test('timestamps in millis, micros and nanos all read as integer microseconds', async () => {
  const store = await lakeTestStore()
  const us = 1_704_067_200_123_456n // 2024-01-01T00:00:00.123456Z
  const f = await putParquet(
    store,
    't.parquet',
    [
      { name: 'ms', data: [us / 1000n, null] },
      { name: 'us', data: [us, null] },
      { name: 'ns', data: [us * 1000n + 789n, null] },
      { name: 'legacy', data: [us, null] },
    ],
    [
      { name: 'root', num_children: 4 },
      opt('ms', 'INT64', { logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } }),
      opt('us', 'INT64', { logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } }),
      opt('ns', 'INT64', { logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' } }),
      opt('legacy', 'INT64', { converted_type: 'TIMESTAMP_MICROS' }),
    ],
  )
  const schema = struct(['ms', 'us', 'ns', 'legacy'].map((n) => field(n, 'timestamp')))
  const rows = await readRows(store, source(schema, [], [f]))
  assert.deepEqual(rows, [
    {
      ms: 1_704_067_200_123_000,
      us: 1_704_067_200_123_456,
      ns: 1_704_067_200_123_456,
      legacy: 1_704_067_200_123_456,
    },
    { ms: null, us: null, ns: null, legacy: null },
  ])
})

test('partition values are typed per the schema from their string form, null and "" as null', async () => {
  const store = await lakeTestStore()
  const schema = struct([
    field('v', 'long'),
    field('s', 'string'),
    field('l', 'long'),
    field('i', 'integer'),
    field('d', 'date'),
    field('ts', 'timestamp'),
    field('b', 'boolean'),
    field('dec', 'decimal(10,2)'),
    field('x', 'double'),
  ])
  const parts = ['s', 'l', 'i', 'd', 'ts', 'b', 'dec', 'x']
  const f1 = await putParquet(store, 'a.parquet', [{ name: 'v', data: [1n], type: 'INT64' }], undefined, {
    s: 'a/b c',
    l: '9007199254740993',
    i: '-42',
    d: '2024-02-29',
    ts: '2024-01-05 10:00:00.5',
    b: 'true',
    dec: '123.45',
    x: '-0.5',
  })
  const f2 = await putParquet(store, 'b.parquet', [{ name: 'v', data: [2n], type: 'INT64' }], undefined, {
    s: null,
    l: '',
    i: null,
    d: null,
    ts: '2024-01-05T10:00:00.000001Z',
    b: 'false',
    dec: null,
    x: null,
  })
  const rows = await readRows(store, source(schema, parts, [f1, f2]))
  assert.deepEqual(rows, [
    {
      v: 1,
      s: 'a/b c',
      l: 9007199254740993n, // not exactly representable as a number
      i: -42,
      d: '2024-02-29',
      ts: Date.UTC(2024, 0, 5, 10) * 1000 + 500_000,
      b: true,
      dec: 123.45,
      x: -0.5,
    },
    {
      v: 2,
      s: null,
      l: null,
      i: null,
      d: null,
      ts: Date.UTC(2024, 0, 5, 10) * 1000 + 1,
      b: false,
      dec: null,
      x: null,
    },
  ])
})

test('timestamp partition values with a zone offset are converted to UTC', () => {
  const ts: StructField = field('ts', 'timestamp')
  assert.equal(typedPartitionValue(ts, '2024-01-05T12:00:00+02:00'), Date.UTC(2024, 0, 5, 10) * 1000)
  assert.equal(typedPartitionValue(ts, '2024-01-05'), Date.UTC(2024, 0, 5) * 1000)
  assert.throws(
    () => typedPartitionValue(ts, 'yesterday'),
    (e) => isCryptoVizError(e, 'DELTA_LOG_CORRUPT'),
  )
  assert.throws(
    () => typedPartitionValue(field('n', 'integer'), '1.5'),
    (e) => isCryptoVizError(e, 'DELTA_LOG_CORRUPT'),
  )
})

test('columns added after a file was written read as null in that file', async () => {
  const store = await lakeTestStore()
  const old = await putParquet(store, 'old.parquet', [{ name: 'id', data: [1n], type: 'INT64' }])
  const young = await putParquet(store, 'new.parquet', [
    { name: 'id', data: [2n], type: 'INT64' },
    { name: 'note', data: ['hi'], type: 'STRING' },
  ])
  const schema = struct([field('id', 'long'), field('note', 'string')])
  assert.deepEqual(await readRows(store, source(schema, [], [old, young])), [
    { id: 1, note: null },
    { id: 2, note: 'hi' },
  ])
})

test('projects the requested columns in the requested order and refuses unknown ones', async () => {
  const store = await lakeTestStore()
  const f = await putParquet(
    store,
    'day=2024-01-01/p.parquet',
    [
      { name: 'id', data: [1n, 2n], type: 'INT64' },
      { name: 'name', data: ['a', 'b'], type: 'STRING' },
    ],
    undefined,
    { day: '2024-01-01' },
  )
  const schema = struct([field('id', 'long'), field('name', 'string'), field('day', 'date')])
  const snap = source(schema, ['day'], [f])
  assert.deepEqual(await readRows(store, snap, { columns: ['day', 'name'] }), [
    { day: '2024-01-01', name: 'a' },
    { day: '2024-01-01', name: 'b' },
  ])
  await assert.rejects(readRows(store, snap, { columns: ['nope'] }), (e) =>
    isCryptoVizError(e, 'INVALID_ARGUMENT'),
  )
})

test('a partition-only projection still yields one row per stored row', async () => {
  const store = await lakeTestStore()
  const f = await putParquet(
    store,
    'p.parquet',
    [{ name: 'id', data: [1n, 2n, 3n], type: 'INT64' }],
    undefined,
    { k: '7' },
  )
  const schema = struct([field('id', 'long'), field('k', 'integer')])
  assert.deepEqual(await readRows(store, source(schema, ['k'], [f]), { columns: ['k'] }), [
    { k: 7 },
    { k: 7 },
    { k: 7 },
  ])
})

test('add.path is URI-decoded exactly once', async () => {
  const store = await lakeTestStore()
  // The folder of partition value "a/b" is `x=a%2Fb`; in the log that is `x=a%252Fb`.
  const bytes = new Uint8Array(
    parquetWriteBuffer({ columnData: [{ name: 'id', data: [5n], type: 'INT64' }] }),
  )
  await store.put('x=a%2Fb/f.parquet', bytes)
  const add: AddFile = {
    path: 'x=a%252Fb/f.parquet',
    partitionValues: { x: 'a/b' },
    size: bytes.length,
    modificationTime: 0,
    dataChange: true,
  }
  const schema = struct([field('id', 'long'), field('x', 'string')])
  assert.deepEqual(await readRows(store, source(schema, ['x'], [add])), [{ id: 5, x: 'a/b' }])
})

test('reads only the given files, in the given order', async () => {
  const store = await lakeTestStore()
  const files: AddFile[] = []
  for (let i = 0; i < 6; i++)
    files.push(await putParquet(store, `f${i}.parquet`, [{ name: 'id', data: [BigInt(i)], type: 'INT64' }]))
  const schema = struct([field('id', 'long')])
  const snap = source(schema, [], files)
  assert.deepEqual(
    (await readRows(store, snap)).map((r) => r.id),
    [0, 1, 2, 3, 4, 5],
  )
  assert.deepEqual(
    (await readRows(store, snap, { files: [files[4]!, files[1]!] })).map((r) => r.id),
    [4, 1],
  )
})

test('nested structs, lists and maps keep their shape with typed leaves', async () => {
  const store = await lakeTestStore()
  const f = await putParquet(
    store,
    'n.parquet',
    [
      { name: 's', data: [{ at: 1_000_000n, n: 3 }, null] },
      { name: 'tags', data: [['a', 'b'], []] },
      { name: 'm', data: [{ k: 1n }, null] },
    ],
    [
      { name: 'root', num_children: 3 },
      { name: 's', repetition_type: 'OPTIONAL', num_children: 2 },
      opt('at', 'INT64', { converted_type: 'TIMESTAMP_MICROS' }),
      opt('n', 'INT32'),
      { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      opt('element', 'BYTE_ARRAY', { converted_type: 'UTF8' }),
      { name: 'm', repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
      { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
      { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      opt('value', 'INT64'),
    ],
  )
  const schema = struct([
    field('s', struct([field('at', 'timestamp'), field('n', 'integer')])),
    field('tags', { type: 'array', elementType: 'string', containsNull: true }),
    field('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }),
  ])
  assert.deepEqual(await readRows(store, source(schema, [], [f])), [
    { s: { at: 1_000_000, n: 3 }, tags: ['a', 'b'], m: { k: 1 } },
    { s: null, tags: [], m: null },
  ])
})

test('a missing data file is reported as not found', async () => {
  const store = await lakeTestStore()
  const add: AddFile = {
    path: 'gone.parquet',
    partitionValues: {},
    size: 100,
    modificationTime: 0,
    dataChange: true,
  }
  await assert.rejects(readRows(store, source(struct([field('id', 'long')]), [], [add])), (e) =>
    isCryptoVizError(e, 'STORAGE_NOT_FOUND'),
  )
})

test("reads Spark's INT96 timestamps exactly, up to year 9999", async (t) => {
  const golden = goldenDir()
  if (golden === undefined) return t.skip(GOLDEN_MISSING)
  const dir = join(golden, 'table_with_edge_timestamps')
  const actions = readFileSync(join(dir, '_delta_log', '00000000000000000000.json'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { add?: AddFile })
  const adds = actions.flatMap((a) => (a.add ? [a.add] : []))
  const schema = struct([
    field('BIG_DATE', 'timestamp'),
    field('NORMAL_DATE', 'timestamp'),
    field('SOME_VALUE', 'integer'),
  ])
  const rows = await readRows(new LocalStore(dir), source(schema, [], adds))
  const sorted = rows.sort((a, b) => Number(a.SOME_VALUE) - Number(b.SOME_VALUE))
  // 9999-12-31 in µs is a multiple of 2^8, so it is exact as a number.
  assert.deepEqual(sorted, [
    { BIG_DATE: Date.UTC(9999, 11, 31) * 1000, NORMAL_DATE: Date.UTC(2022, 0, 1) * 1000, SOME_VALUE: 1 },
    { BIG_DATE: Date.UTC(9999, 11, 30) * 1000, NORMAL_DATE: Date.UTC(2022, 1, 1) * 1000, SOME_VALUE: 2 },
  ])
})
