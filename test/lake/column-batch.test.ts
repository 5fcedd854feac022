import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { prepareColumnFiles, type BatchColumn, type ColumnBatch } from '../../src/lake/column-batch.ts'
import { WorkerEncoder } from '../../src/lake/encoder-worker.ts'
import {
  prepareDataFiles,
  type DataFileOptions,
  type PreparedFile,
  type Row,
} from '../../src/lake/data-files.ts'
import { field, struct, type StructType } from '../../src/lake/schema.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import type { Quote } from '../../src/model/quote.ts'

const T0 = Date.UTC(2024, 0, 5) * 1000

/** The rows as a column batch, the way any caller would build one (generic: from the schema). */
function toBatch(rows: readonly Row[], schema: StructType): ColumnBatch {
  const columns: Record<string, BatchColumn> = {}
  for (const f of schema.fields) {
    const n = rows.length
    const nulls = new Uint8Array(n)
    let anyNull = false
    if (f.type === 'string') {
      const ids = new Uint32Array(n)
      const dictionary: string[] = []
      const idOf = new Map<string, number>()
      rows.forEach((r, i) => {
        const v = r[f.name]
        if (v === null || v === undefined) {
          nulls[i] = 1
          anyNull = true
          return
        }
        let id = idOf.get(v as string)
        if (id === undefined) idOf.set(v as string, (id = dictionary.push(v as string) - 1))
        ids[i] = id
      })
      columns[f.name] = { type: 'string', ids, dictionary, nulls: anyNull ? nulls : undefined }
    } else {
      const values = new Float64Array(n)
      rows.forEach((r, i) => {
        const v = r[f.name]
        if (v === null || v === undefined) {
          nulls[i] = 1
          anyNull = true
        } else values[i] = v as number
      })
      columns[f.name] = { type: 'number', values, nulls: anyNull ? nulls : undefined }
    }
  }
  return { numRows: rows.length, columns }
}

/** A file without its per-append uuid, to compare the two paths. */
const comparable = (f: PreparedFile): object => {
  const strip = (p: string): string => p.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, '<uuid>')
  return {
    ...f,
    bytes: new Uint8Array(f.bytes),
    storePath: strip(f.storePath),
    add: { ...f.add, path: strip(f.add.path) },
  }
}

function quotes(n: number, seed: number): Quote[] {
  let x = seed
  const rnd = (): number => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
  const assets = ['bitcoin', 'ethereum', 'solana', 'dogecoin', 'tether']
  return Array.from({ length: n }, (_, i) => {
    const a = assets[Math.floor(rnd() * assets.length)]!
    const ts = T0 + Math.floor(rnd() * 3 * 86_400e6) // three days, out of order
    const maybe = (v: number): number | null => (rnd() < 0.2 ? null : v)
    return {
      ts,
      source: rnd() < 0.5 ? 'coingecko' : 'coincap',
      crypto: a,
      symbol: a.slice(0, 3).toUpperCase(),
      name: `${a} ${i % 7 === 0 ? 'ünïcödé 😀' : ''}`,
      price_usd: 1 + rnd() * 1000,
      market_cap_usd: maybe(rnd() * 1e12),
      volume_24h_usd: maybe(rnd() * 1e9),
      change_1h_pct: maybe(rnd() - 0.5),
      change_24h_pct: maybe(rnd() * 10 - 5),
      change_7d_pct: maybe(rnd() * 20 - 10),
      circulating_supply: maybe(rnd() * 1e8),
      total_supply: maybe(rnd() * 1e8),
      max_supply: maybe(21e6),
      rank: rnd() < 0.2 ? null : 1 + Math.floor(rnd() * 100),
      ingested_at: ts + 1_000,
    }
  })
}

const quoteOptions = (o: Partial<DataFileOptions> = {}): DataFileOptions => ({
  schema: QUOTES_SCHEMA,
  partitionColumns: QUOTES_PARTITION_COLUMNS,
  sortBy: QUOTES_SORT_BY,
  modificationTime: 1_700_000_000_000,
  ...o,
})

test('a column batch of quotes gives the same Parquet bytes, stats and partition values as its rows', () => {
  const rows: Row[] = quotes(3_000, 7).map(quoteToRow)
  // The table's symbol and name admit nulls (older sources), the model does not.
  for (let i = 0; i < rows.length; i += 11) rows[i]!['symbol'] = null
  for (let i = 0; i < rows.length; i += 13) rows[i]!['name'] = null
  for (const o of [
    quoteOptions(),
    quoteOptions({ compression: 'zstd', maxRowsPerFile: 50, rowGroupRows: 20 }),
  ]) {
    const fromRows = prepareDataFiles(rows, o)
    const fromColumns = prepareColumnFiles(toBatch(rows, QUOTES_SCHEMA), o)
    assert.ok(fromRows.length > 20, 'many partitions and files')
    assert.deepEqual(fromColumns.map(comparable), fromRows.map(comparable))
  }
})

test('a column batch sorts by strings and by nullable numbers like rows do, unpartitioned', () => {
  const schema = struct([
    field('label', 'string', true),
    field('n', 'long', true),
    field('x', 'double', true),
    field('small', 'short', true),
  ])
  const labels = ['b', '', null, 'a', 'ünï', 'B', 'a']
  const rows: Row[] = Array.from({ length: 400 }, (_, i) => ({
    label: labels[(i * 5) % labels.length]!,
    n: i % 9 === 0 ? null : (i * 7919) % 31,
    x: i % 13 === 0 ? null : i % 17 === 0 ? -0 : (i % 5) / 3,
    small: i % 4 === 0 ? null : (i % 300) - 150,
  }))
  const o: DataFileOptions = { schema, partitionColumns: [], sortBy: ['label', 'n'], modificationTime: 1 }
  const fromRows = prepareDataFiles(rows, o)
  assert.deepEqual(prepareColumnFiles(toBatch(rows, schema), o).map(comparable), fromRows.map(comparable))
})

test('a column batch is refused like rows are: NOT NULL, integer range, unknown column, wrong type', () => {
  const schema = struct([field('k', 'string', false), field('i', 'short', true), field('v', 'double', true)])
  const o: DataFileOptions = { schema, partitionColumns: ['k'], modificationTime: 1 }
  const rows: Row[] = [
    { k: 'a', i: 1, v: 1 },
    { k: 'b', i: 2, v: 2 },
  ]
  const refused = (batch: ColumnBatch, code: string, row?: number): void => {
    assert.throws(
      () => prepareColumnFiles(batch, o),
      (e: unknown) =>
        isCryptoVizError(e) && e.code === code && (row === undefined || e.details?.['row'] === row),
    )
  }
  const nullKey = toBatch(rows, schema)
  ;(nullKey.columns['k'] as { nulls?: Uint8Array }).nulls = Uint8Array.of(0, 1)
  refused(nullKey, 'DELTA_NULL_VIOLATION', 1)
  const missingKey = toBatch(rows, schema)
  delete missingKey.columns['k']
  refused(missingKey, 'DELTA_NULL_VIOLATION', 0)
  const tooBig = toBatch(rows, schema)
  ;(tooBig.columns['i'] as { values: Float64Array }).values[1] = 40_000
  refused(tooBig, 'DELTA_SCHEMA_MISMATCH', 1)
  const unknown = toBatch(rows, schema)
  unknown.columns['extra'] = { type: 'number', values: new Float64Array(2) }
  refused(unknown, 'DELTA_SCHEMA_MISMATCH')
  const wrongType = toBatch(rows, schema)
  wrongType.columns['v'] = { type: 'string', ids: new Uint32Array(2), dictionary: ['x'] }
  refused(wrongType, 'DELTA_SCHEMA_MISMATCH')
  const short = toBatch(rows, schema)
  short.columns['v'] = { type: 'number', values: new Float64Array(1) }
  refused(short, 'INVALID_ARGUMENT')
  // A missing nullable column is all null, as a missing row property is.
  const noV = toBatch(rows, schema)
  delete noV.columns['v']
  assert.deepEqual(
    prepareColumnFiles(noV, o).map(comparable),
    prepareDataFiles(
      rows.map(({ v: _v, ...r }) => r),
      o,
    ).map(comparable),
  )
})

test('the encoder thread returns the same files as encoding on this thread, and its refusals with their codes', async () => {
  const rows: Row[] = quotes(2_000, 11).map(quoteToRow)
  const encoder = new WorkerEncoder()
  try {
    const batch = toBatch(rows, QUOTES_SCHEMA)
    const [viaWorker, again] = await Promise.all([
      encoder.encode(batch, quoteOptions()),
      encoder.encode(toBatch(rows, QUOTES_SCHEMA), quoteOptions({ compression: 'zstd' })),
    ])
    // Transferred, not copied: the caller's batch is detached.
    assert.equal((batch.columns['price_usd'] as { values: Float64Array }).values.length, 0)
    assert.deepEqual(viaWorker.map(comparable), prepareDataFiles(rows, quoteOptions()).map(comparable))
    assert.deepEqual(
      again.map(comparable),
      prepareDataFiles(rows, quoteOptions({ compression: 'zstd' })).map(comparable),
    )
    const bad = toBatch(rows, QUOTES_SCHEMA)
    ;(bad.columns['price_usd'] as { nulls?: Uint8Array }).nulls = new Uint8Array(rows.length).fill(1, 5)
    await assert.rejects(
      encoder.encode(bad, quoteOptions()),
      (e: unknown) => isCryptoVizError(e, 'DELTA_NULL_VIOLATION') && e.details?.['row'] === 5,
    )
    // Still serving after a refusal.
    assert.equal(
      (await encoder.encode(toBatch(rows, QUOTES_SCHEMA), quoteOptions())).length,
      viaWorker.length,
    )
  } finally {
    await encoder.close()
  }
})
