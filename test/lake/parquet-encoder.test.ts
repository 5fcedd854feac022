import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { encodeParquet, type ColumnInput } from '../../src/lake/parquet-encoder.ts'

const N = 300
const big = 2 ** 53 - 1

/** Every kind, with and without nulls, dictionary-friendly and unique values. */
function columns(): { inputs: ColumnInput[]; expected: Record<string, unknown>[] } {
  const rows: Record<string, unknown>[] = []
  const ts = new Float64Array(N)
  const price = new Float64Array(N)
  const rank = new Float64Array(N)
  const small = new Float64Array(N)
  const neg = new Float64Array(N)
  const f32 = new Float64Array(N)
  const names: unknown[] = []
  const labels: unknown[] = []
  const flags: unknown[] = []
  const rankNulls = new Uint8Array(N)
  const labelNulls = new Uint8Array(N)
  const flagNulls = new Uint8Array(N)
  for (let i = 0; i < N; i++) {
    ts[i] = 1_704_412_800_000_000 + i * 1_000_001
    price[i] = i === 7 ? -0 : i === 8 ? NaN : 100 + i / 7
    rank[i] = i % 5
    rankNulls[i] = i % 11 === 0 ? 1 : 0
    small[i] = i % 3 // dictionary-friendly
    neg[i] = i % 2 ? -big + i : big - i // int64 extremes, negative and positive
    f32[i] = Math.fround(i * 0.25)
    names[i] = ['Bitcoin', 'Ether ₿', 'ünïcödé 😀', ''][i % 4]
    labels[i] = `label-${i}-${'x'.repeat(i % 13)}`
    labelNulls[i] = i % 4 === 1 ? 1 : 0
    flags[i] = i % 3 === 0
    flagNulls[i] = i % 7 === 0 ? 1 : 0
    rows.push({
      ts: BigInt(ts[i]!),
      price: price[i],
      rank: rankNulls[i] ? null : rank[i],
      small: small[i],
      neg: BigInt(neg[i]!),
      f32: f32[i],
      name: names[i],
      label: labelNulls[i] ? null : labels[i],
      flag: flagNulls[i] ? null : flags[i],
    })
  }
  const opt = 'OPTIONAL' as const
  const req = 'REQUIRED' as const
  const inputs: ColumnInput[] = [
    {
      element: { name: 'ts', type: 'INT64', repetition_type: req },
      kind: 'int64',
      values: ts,
      nulls: undefined,
    },
    {
      element: { name: 'price', type: 'DOUBLE', repetition_type: opt },
      kind: 'double',
      values: price,
      nulls: undefined,
    },
    {
      element: { name: 'rank', type: 'INT32', repetition_type: opt },
      kind: 'int32',
      values: rank,
      nulls: rankNulls,
    },
    {
      element: { name: 'small', type: 'INT32', repetition_type: req },
      kind: 'int32',
      values: small,
      nulls: undefined,
    },
    {
      element: { name: 'neg', type: 'INT64', repetition_type: req },
      kind: 'int64',
      values: neg,
      nulls: undefined,
    },
    {
      element: { name: 'f32', type: 'FLOAT', repetition_type: req },
      kind: 'float',
      values: f32,
      nulls: undefined,
    },
    {
      element: { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: req },
      kind: 'string',
      values: names,
      nulls: undefined,
    },
    {
      element: { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: opt },
      kind: 'string',
      values: labels,
      nulls: labelNulls,
    },
    {
      element: { name: 'flag', type: 'BOOLEAN', repetition_type: opt },
      kind: 'boolean',
      values: flags,
      nulls: flagNulls,
    },
  ]
  return { inputs, expected: rows }
}

const ab = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer

for (const codec of ['SNAPPY', 'ZSTD'] as const) {
  test(`encoded files (${codec}) read back exactly with hyparquet, across row groups`, async () => {
    const { inputs, expected } = columns()
    const bytes = encodeParquet(inputs, N, { codec, rowGroupRows: 128, createdBy: 'test' })
    const meta = parquetMetadata(ab(bytes))
    assert.equal(meta.row_groups.length, 3)
    assert.equal(Number(meta.num_rows), N)
    const rows = await parquetReadObjects({ file: ab(bytes), compressors })
    assert.equal(rows.length, N)
    for (let i = 0; i < N; i++) {
      const got = rows[i]!
      const want = expected[i]!
      for (const k of Object.keys(want)) {
        if (k === 'price' && i === 8) assert.ok(Number.isNaN(got.price))
        else
          assert.ok(
            Object.is(got[k], want[k]) || got[k] === want[k],
            `row ${i} ${k}: ${got[k]} vs ${want[k]}`,
          )
      }
    }
  })
}

test('low-cardinality columns are dictionary-encoded; unique int64 delta-packed, doubles PLAIN (Spark reads every page); with null counts and bounds', () => {
  const { inputs } = columns()
  const bytes = encodeParquet(inputs, N, { codec: 'SNAPPY', rowGroupRows: 1000, createdBy: 'test' })
  const meta = parquetMetadata(ab(bytes))
  const byName = new Map(
    meta.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema[0], c.meta_data!]),
  )
  assert.ok(byName.get('small')!.encodings.includes('RLE_DICTIONARY'))
  assert.ok(byName.get('name')!.encodings.includes('RLE_DICTIONARY'))
  assert.ok(!byName.get('ts')!.encodings.includes('RLE_DICTIONARY'))
  assert.ok(byName.get('ts')!.encodings.includes('DELTA_BINARY_PACKED'))
  assert.ok(!byName.get('price')!.encodings.includes('RLE_DICTIONARY'), '-0 forces a non-dictionary encoding')
  assert.deepEqual(byName.get('price')!.encodings, ['RLE', 'PLAIN'])
  assert.equal(byName.get('rank')!.statistics!.null_count, 28n)
  assert.equal(byName.get('label')!.statistics!.null_count, 75n)
  assert.equal(byName.get('ts')!.statistics!.min_value, 1_704_412_800_000_000n)
  assert.equal(byName.get('ts')!.statistics!.max_value, 1_704_412_800_000_000n + 299n * 1_000_001n)
  assert.equal(byName.get('neg')!.statistics!.min_value, BigInt(-big + 1))
})

test('DuckDB reads the encoded file with the same values', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-encoder-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const { inputs, expected } = columns()
  const file = join(dir, 'x.parquet')
  await writeFile(file, encodeParquet(inputs, N, { codec: 'SNAPPY', rowGroupRows: 100, createdBy: 'test' }))
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    const reader = await conn.runAndReadAll(
      `select ts::varchar as ts, rank, small, neg::varchar as neg, f32, name, label, flag from read_parquet('${file}')`,
    )
    const got = reader.getRowObjectsJS()
    assert.equal(got.length, N)
    for (let i = 0; i < N; i++) {
      const w = expected[i]!
      const g = got[i]!
      assert.equal(g.neg, String(w.neg))
      assert.equal(g.rank, w.rank)
      assert.equal(g.small, w.small)
      assert.equal(g.f32, w.f32)
      assert.equal(g.name, w.name)
      assert.equal(g.label, w.label)
      assert.equal(g.flag, w.flag)
    }
    const sum = await conn.runAndReadAll(
      `select count(*)::int as n, sum(ts)::varchar as s from read_parquet('${file}')`,
    )
    const expectedSum = expected.reduce((s, r) => s + (r.ts as bigint), 0n)
    assert.deepEqual(sum.getRowObjectsJS()[0], { n: N, s: String(expectedSum) })
  } finally {
    conn.closeSync()
  }
})
