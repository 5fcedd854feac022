import assert from 'node:assert/strict'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'node:test'
import { parquetMetadata, parquetSchema } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import type { AddFile, RemoveFile } from '../../src/lake/actions.ts'
import {
  decodeCheckpoint,
  decodeCheckpointByRows,
  encodeCheckpoint,
  type CheckpointState,
} from '../../src/lake/checkpoint.ts'
import { fileActions, otherActionRows, RowGroupColumns } from '../../src/lake/checkpoint-columns.ts'
import { checkpointState } from '../../src/lake/delta-table.ts'
import { DeltaTable } from '../../src/lake/index.ts'
import { optimizeTable } from '../../src/lake/optimize.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { GOLDEN_MISSING, goldenDir } from '../harness/golden.ts'
import { smallRows, SMALL_SCHEMA, streamingQuotesTable } from './lake-fixtures.ts'

/** Column-wise and row-wise decoding of `bytes` give the same actions, in the same order. */
async function assertDecodersAgree(bytes: Uint8Array, where: string): Promise<number> {
  const columns = await decodeCheckpoint(bytes)
  const rows = await decodeCheckpointByRows(bytes)
  assert.deepEqual(columns, rows, where)
  // deepEqual ignores key order; the JSON text does not.
  assert.equal(JSON.stringify(columns), JSON.stringify(rows), where)
  return columns.length
}

test('the column decoder equals the row decoder on our tables at every version, optimize and tombstones included', async () => {
  const store = new MemoryStore()
  const table = await streamingQuotesTable(store, { assets: 6, days: 0.02, seed: 3 })
  await optimizeTable(table, { filesPerCommit: 10 })
  const latest = await table.snapshot()
  let checked = 0
  for (let v = 0; v <= latest.version; v++) {
    const s = await table.snapshot({ version: v })
    // Row groups of 7 rows: action kinds mix inside groups and groups end mid-kind.
    const bytes = encodeCheckpoint(checkpointState(s.state, 0), 7)
    checked += await assertDecodersAgree(bytes, `version ${v}`)
  }
  assert.ok(latest.state.removes.size > 0, 'tombstones were checkpointed')
  // Our layout takes the column path (the row decoder only for the protocol/metaData/txn rows).
  const bytes = encodeCheckpoint(checkpointState(latest.state, 0), 7)
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(file)
  let built = 0
  for (const rowGroup of metadata.row_groups) {
    const group = new RowGroupColumns(file, parquetSchema(metadata), rowGroup, compressors)
    const others = otherActionRows(group, ['txn', 'metaData', 'protocol'])
    const files = fileActions(group)
    assert.ok(others !== undefined && files !== undefined)
    built += files.filter((a) => a !== undefined).length
  }
  assert.equal(built, latest.state.adds.size + latest.state.removes.size)
  assert.ok(checked > 100)
})

test('the column decoder equals the row decoder on null and empty maps, tags, txns and features', async () => {
  const store = new MemoryStore()
  const table = await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  await table.append(smallRows(3, { crypto: 'bitcoin' }))
  const s = (await table.snapshot()).state
  const add = (i: number, pv: Record<string, string | null>, tags?: Record<string, string>): AddFile => ({
    path: `p/part-${i}.parquet`,
    partitionValues: pv,
    size: i,
    modificationTime: 1_700_000_000_000 + i,
    dataChange: true,
    ...(i % 3 === 0 ? {} : { stats: `{"numRecords":${i}}` }),
    ...(tags === undefined ? {} : { tags }),
  })
  const removes: RemoveFile[] = [
    { path: 'gone/a.parquet', dataChange: true },
    {
      path: 'gone/b.parquet',
      dataChange: true,
      deletionTimestamp: 5,
      extendedFileMetadata: true,
      partitionValues: { crypto: null },
      size: 9,
      tags: { k: 'v' },
    },
    { path: 'gone/c.parquet', dataChange: false, partitionValues: {} },
  ]
  const state: CheckpointState = {
    version: 4,
    protocol: {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: [],
      writerFeatures: ['appendOnly'],
    },
    metadata: { ...s.metadata, configuration: { 'delta.appendOnly': 'true' } },
    adds: [
      add(1, {}),
      add(2, { crypto: null }),
      add(3, { crypto: 'ether', source: 'sim' }, { a: '1', b: '2' }),
      add(4, { crypto: 'x' }, {}),
      add(5, { crypto: '' }),
    ],
    removes,
    txns: [
      { appId: 'a', version: 1, lastUpdated: 2 },
      { appId: 'b', version: 3 },
    ],
  }
  for (const groupRows of [1, 2, 3, 5, 1000]) {
    await assertDecodersAgree(encodeCheckpoint(state, groupRows), `row groups of ${groupRows}`)
  }
})

test('the column decoder equals the row decoder on every golden checkpoint Spark and delta-rs wrote', async (t) => {
  const golden = goldenDir()
  if (golden === undefined) return t.skip(GOLDEN_MISSING)
  let files = 0
  for (const table of readdirSync(golden)) {
    const log = join(golden, table, '_delta_log')
    if (!existsSync(log)) continue
    for (const name of readdirSync(log)) {
      if (!/^\d{20}\.checkpoint\.parquet$/.test(name)) continue
      const bytes = readFileSync(join(log, name))
      let rows: unknown
      try {
        rows = await decodeCheckpointByRows(bytes)
      } catch (e) {
        // A checkpoint we refuse (deletion vectors, v2) is refused the same way column-wise.
        await assert.rejects(decodeCheckpoint(bytes), { message: /not supported/ }, `${table}/${name}`)
        assert.match((e as Error).message, /not supported/)
        files++
        continue
      }
      assert.deepEqual(await decodeCheckpoint(bytes), rows, `${table}/${name}`)
      files++
    }
  }
  assert.ok(files >= 5, `${files} golden checkpoints`)
})
