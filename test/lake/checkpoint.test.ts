import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parquetMetadata, parquetSchema } from 'hyparquet'
import { isCryptoVizError } from '../../src/errors.ts'
import type { Action, AddFile, RemoveFile } from '../../src/lake/actions.ts'
import {
  decodeCheckpoint,
  encodeCheckpoint,
  checkpointBatches,
  readCheckpoint,
  readCheckpointBatches,
  readLastCheckpoint,
  ROW_GROUP_ROWS,
  writeCheckpoint,
  type CheckpointState,
} from '../../src/lake/checkpoint.ts'
import { CountingStore } from '../../src/storage/counting-store.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import type { ByteChunks } from '../../src/storage/object-store.ts'
import { lakeTestStore } from './lake-fixtures.ts'
import { GOLDEN_MISSING, goldenDir } from '../harness/golden.ts'

const add = (i: number, day: string | null): AddFile => ({
  path: `day=${day ?? '__HIVE_DEFAULT_PARTITION__'}/part-${i}.parquet`,
  partitionValues: { day },
  size: 1000 + i,
  modificationTime: 1_700_000_000_000 + i,
  dataChange: true,
  stats: JSON.stringify({
    numRecords: i,
    minValues: { price: i },
    maxValues: { price: i + 1 },
    nullCount: { price: 0 },
  }),
})

/** A checkpoint state whose files are arrays, so tests can index them. */
type ArrayState = CheckpointState & { adds: AddFile[]; removes: RemoveFile[] }

const state = (adds: AddFile[] = [add(1, '2024-01-01'), add(2, null)]): ArrayState => ({
  version: 12,
  protocol: { minReaderVersion: 1, minWriterVersion: 2 },
  metadata: {
    id: 'a6f5c1c2-2b7e-4c8e-9d8e-3f1f0f5d2b11',
    name: 'quotes',
    description: null,
    format: { provider: 'parquet', options: {} },
    schemaString:
      '{"type":"struct","fields":[{"name":"price","type":"double","nullable":true,"metadata":{}}]}',
    partitionColumns: ['day'],
    configuration: { 'delta.checkpointInterval': '10', 'delta.appendOnly': 'true' },
    createdTime: 1_699_999_999_999,
  },
  adds,
  removes: [
    {
      path: 'day=2023-12-31/old.parquet',
      dataChange: true,
      deletionTimestamp: 1_700_000_000_500,
      extendedFileMetadata: true,
      partitionValues: { day: '2023-12-31' },
      size: 77,
    },
  ],
  txns: [{ appId: 'stream-1', version: 41, lastUpdated: 1_700_000_000_900 }],
})

const kinds = (actions: Action[]) => actions.map((a) => Object.keys(a)[0])

test('a checkpoint decodes to the state it encodes, as state (dataChange false)', async () => {
  const s = state()
  const actions = await decodeCheckpoint(encodeCheckpoint(s))
  assert.deepEqual(kinds(actions), ['protocol', 'metaData', 'txn', 'add', 'add', 'remove'])
  assert.deepEqual(actions[0], { protocol: s.protocol })
  assert.deepEqual(actions[1], { metaData: s.metadata })
  assert.deepEqual(actions[2], { txn: s.txns[0] })
  assert.deepEqual(actions[3], { add: { ...s.adds[0], dataChange: false } })
  assert.deepEqual(actions[4], { add: { ...s.adds[1], dataChange: false } })
  assert.deepEqual(actions[5], { remove: { ...s.removes[0], dataChange: false } })
})

test('a null partition value stays null and an empty map stays empty', async () => {
  const actions = await decodeCheckpoint(
    encodeCheckpoint(state([add(1, null), { ...add(2, 'x'), partitionValues: {} }])),
  )
  const adds = actions.flatMap((a) => ('add' in a ? [a.add] : []))
  assert.deepEqual(adds[0]?.partitionValues, { day: null })
  assert.deepEqual(adds[1]?.partitionValues, {})
})

test('protocol reader and writer features survive a round trip', async () => {
  const s = state()
  s.protocol = {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: ['timestampNtz'],
    writerFeatures: ['timestampNtz', 'appendOnly'],
  }
  const actions = await decodeCheckpoint(encodeCheckpoint(s))
  assert.deepEqual(actions[0], { protocol: s.protocol })
})

test('a checkpoint of ten thousand files round-trips every path and size', async () => {
  const adds = Array.from({ length: 10_000 }, (_, i) =>
    add(i, `2024-01-${String((i % 28) + 1).padStart(2, '0')}`),
  )
  const actions = await decodeCheckpoint(encodeCheckpoint(state(adds)))
  const decoded = actions.flatMap((a) => ('add' in a ? [a.add] : []))
  assert.equal(decoded.length, 10_000)
  assert.deepEqual(
    decoded.map((a) => [a.path, a.size, a.partitionValues.day]),
    adds.map((a) => [a.path, a.size, a.partitionValues.day]),
  )
})

test('a checkpoint streamed in small row groups decodes to exactly what a single row group holds', async () => {
  const adds = Array.from({ length: 2_500 }, (_, i) => add(i, i % 7 === 0 ? null : `2024-02-${(i % 9) + 1}`))
  const streamed = encodeCheckpoint(state(adds), 300)
  const whole = encodeCheckpoint(state(adds), 1_000_000)
  const groups = (bytes: Uint8Array) =>
    parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
      .row_groups.length
  // 2 + 1 txn + 2,500 adds + 1 remove = 2,504 rows: nine groups of 300 and one of 104.
  assert.equal(groups(streamed), 9)
  assert.equal(groups(whole), 1)
  // Each file is one fixed-length buffer of exactly its bytes (no resizable or oversized backing).
  for (const bytes of [streamed, whole]) {
    assert.equal((bytes.buffer as ArrayBuffer).resizable, false)
    assert.equal(bytes.byteOffset, 0)
    assert.equal(bytes.byteLength, bytes.buffer.byteLength)
  }
  assert.deepEqual(await decodeCheckpoint(streamed), await decodeCheckpoint(whole))
  const batches: number[] = []
  for await (const batch of checkpointBatches(streamed, 'test')) batches.push(batch.length)
  assert.deepEqual(batches, [...Array<number>(8).fill(300), 104])
})

test('multi-byte paths and stats larger than the string buffer round-trip byte for byte', async () => {
  // ~3 MB of stats text in one row group: the encoder's 1 MB string chunks overflow several
  // times, and one stats text alone is bigger than a chunk's remaining room.
  const big = (i: number) => `{"numRecords":${i},"minValues":{"name":"${'日本é'.repeat(1_500 + i)}"}}`
  const adds = Array.from({ length: 300 }, (_, i) => ({
    ...add(i, `ünïcødé-${i % 3}`),
    path: `day=ünïcødé-${i % 3}/part-€${i}.parquet`,
    stats: i === 7 ? big(400_000) : big(i),
  }))
  const decoded = (await decodeCheckpoint(encodeCheckpoint(state(adds), 1024))).flatMap((a) =>
    'add' in a ? [a.add] : [],
  )
  assert.deepEqual(
    decoded.map((a) => [a.path, a.stats, a.partitionValues]),
    adds.map((a) => [a.path, a.stats, a.partitionValues]),
  )
})

test('shared (frozen) partition-value maps encode to the same bytes as per-file maps', () => {
  const shared = [Object.freeze({ day: '2024-03-01' }), Object.freeze({ day: null })]
  const sharedAdds = Array.from({ length: 2_000 }, (_, i) => ({
    ...add(i, null),
    partitionValues: shared[i % 2]!,
  }))
  const ownAdds = sharedAdds.map((a) => ({ ...a, partitionValues: { ...a.partitionValues } }))
  assert.deepEqual(encodeCheckpoint(state(sharedAdds), 500), encodeCheckpoint(state(ownAdds), 500))
})

test('encoding consumes the files lazily, once', async () => {
  let pulled = 0
  const adds = Array.from({ length: 50 }, (_, i) => add(i, 'x'))
  const lazy: CheckpointState = {
    ...state(),
    adds: {
      *[Symbol.iterator]() {
        for (const a of adds) {
          pulled++
          yield a
        }
      },
    },
  }
  const decoded = await decodeCheckpoint(encodeCheckpoint(lazy, 16))
  assert.equal(pulled, 50)
  assert.equal(decoded.filter((a) => 'add' in a).length, 50)
})

test('the Parquet file has the protocol column layout: one struct column per action kind', () => {
  const bytes = encodeCheckpoint(state())
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const tree = parquetSchema(parquetMetadata(buffer))
  assert.deepEqual(
    tree.children.map((c) => c.element.name),
    ['txn', 'add', 'remove', 'metaData', 'protocol'],
  )
  const addCol = tree.children.find((c) => c.element.name === 'add')!
  const pv = addCol.children.find((c) => c.element.name === 'partitionValues')!
  assert.equal(pv.element.converted_type, 'MAP')
  assert.equal(
    pv.children[0]?.children.find((c) => c.element.name === 'value')?.element.repetition_type,
    'OPTIONAL',
  )
  const removeCol = tree.children.find((c) => c.element.name === 'remove')!
  assert.ok(!removeCol.children.some((c) => c.element.name === 'stats'), 'removes carry no stats')
})

test('writeCheckpoint writes the file and then a _last_checkpoint without "parts"', async () => {
  const store = await lakeTestStore()
  const last = await writeCheckpoint(store, state())
  const file = await store.head('_delta_log/00000000000000000012.checkpoint.parquet')
  assert.ok(file)
  assert.deepEqual(last, { version: 12, size: 6, sizeInBytes: file.size, numOfAddFiles: 2 })
  const json = JSON.parse(new TextDecoder().decode(await store.get('_delta_log/_last_checkpoint'))) as Record<
    string,
    unknown
  >
  assert.deepEqual(json, last)
  assert.ok(!('parts' in json))
  assert.deepEqual(await readLastCheckpoint(store), last)
})

test('writeCheckpoint streams the file a row group at a time; the stored bytes are the encoded checkpoint', async () => {
  const chunkSizes: number[] = []
  class ChunkRecordingStore extends MemoryStore {
    override async putStream(path: string, chunks: ByteChunks): Promise<void> {
      async function* recorded(): AsyncGenerator<Uint8Array> {
        for await (const c of chunks) {
          chunkSizes.push(c.byteLength)
          yield c
        }
      }
      return super.putStream(path, recorded())
    }
  }
  const store = new ChunkRecordingStore()
  const adds = Array.from({ length: 3 * ROW_GROUP_ROWS + 5 }, (_, i) => add(i, `2024-01-${(i % 28) + 1}`))
  const last = await writeCheckpoint(store, state(adds))
  const stored = await store.get('_delta_log/00000000000000000012.checkpoint.parquet')
  assert.ok(Buffer.from(stored).equals(encodeCheckpoint(state(adds))), 'the same bytes as encodeCheckpoint')
  // Four row groups (the fourth holds the last files and the tombstone), then the footer.
  assert.equal(chunkSizes.length, 5)
  assert.equal(
    chunkSizes.reduce((a, b) => a + b, 0),
    stored.length,
  )
  assert.ok(Math.max(...chunkSizes) < stored.length / 2, `chunks ${chunkSizes.join(', ')}`)
  assert.deepEqual(last, {
    version: 12,
    size: adds.length + 4,
    sizeInBytes: stored.length,
    numOfAddFiles: adds.length,
  })
})

test('a checkpoint that fails while streaming leaves neither a file nor a _last_checkpoint', async () => {
  const store = await lakeTestStore()
  const adds: AddFile[] = Array.from({ length: 2 * ROW_GROUP_ROWS }, (_, i) => add(i, 'a'))
  // A file the encoder refuses, after a row group was already handed to the store.
  adds.push({
    ...add(99_999, 'a'),
    deletionVector: { storageType: 'u', pathOrInlineDv: 'x', sizeInBytes: 1, cardinality: 1 },
  })
  await assert.rejects(writeCheckpoint(store, state(adds)), (e) =>
    isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'),
  )
  assert.deepEqual(await store.list('_delta_log/'), [])
  const folder = store.localPath('_delta_log')
  if (folder !== undefined) assert.deepEqual(readdirSync(folder), [], 'no temp file left behind')
})

test('a large checkpoint is read by ranges (footer, then windows of row groups), never whole, to the same actions', async () => {
  const inner = await lakeTestStore()
  const adds = Array.from({ length: 3 * ROW_GROUP_ROWS + 5 }, (_, i) => add(i, `2024-01-${(i % 28) + 1}`))
  const last = await writeCheckpoint(inner, state(adds))
  const path = '_delta_log/00000000000000000012.checkpoint.parquet'
  const expected = await decodeCheckpoint(await inner.get(path))
  const ref = { version: 12, paths: [path], sizes: [last.sizeInBytes!] }
  for (const [windowBytes, windows] of [
    [1, 4],
    [1e9, 1],
  ] as const) {
    const store = new CountingStore(inner)
    const actions: Action[] = []
    for await (const batch of readCheckpointBatches(store, ref, { rangedAbove: 0, windowBytes }))
      actions.push(...batch)
    assert.deepEqual(actions, expected)
    assert.deepEqual(
      store.counts(),
      { ...store.counts(), get: 0, getRange: 1 + windows },
      `windows of ${windowBytes} B`,
    )
  }
  // Below the threshold: one GET, as before.
  const small = new CountingStore(inner)
  assert.deepEqual(await readCheckpoint(small, ref), expected)
  assert.deepEqual(small.counts(), { ...small.counts(), get: 1, getRange: 0 })
})

test('a checkpoint whose listed size is stale (rewritten since) reads as corrupt or right, never as wrong actions', async () => {
  const store = await lakeTestStore()
  const last = await writeCheckpoint(store, state())
  const path = '_delta_log/00000000000000000012.checkpoint.parquet'
  const ref = (size: number) => ({ version: 12, paths: [path], sizes: [size] })
  // Listed shorter than it is: the footer is not where the size says.
  await assert.rejects(readCheckpoint(store, ref(last.sizeInBytes! - 100), { rangedAbove: 0 }), (e) =>
    isCryptoVizError(e, 'DELTA_LOG_CORRUPT'),
  )
  // Listed longer: ranges end at the real end, so the real footer and actions are read.
  assert.deepEqual(
    await readCheckpoint(store, ref(last.sizeInBytes! + 100), { rangedAbove: 0 }),
    await decodeCheckpoint(await store.get(path)),
  )
})

test('an older checkpoint written late leaves a newer _last_checkpoint in place', async () => {
  const store = await lakeTestStore()
  await writeCheckpoint(store, { ...state(), version: 20 })
  await writeCheckpoint(store, { ...state(), version: 10 })
  assert.ok(await store.head('_delta_log/00000000000000000010.checkpoint.parquet'))
  assert.equal((await readLastCheckpoint(store))?.version, 20)
})

test('readCheckpoint reads a multi-part checkpoint as the concatenation of its parts', async () => {
  const store = await lakeTestStore()
  const whole = state([add(1, 'a'), add(2, 'b'), add(3, 'c')])
  const part1 = { ...whole, adds: whole.adds.slice(0, 1), removes: [], txns: [] }
  const part2 = { ...whole, adds: whole.adds.slice(1) }
  const paths = [
    '_delta_log/00000000000000000012.checkpoint.0000000001.0000000002.parquet',
    '_delta_log/00000000000000000012.checkpoint.0000000002.0000000002.parquet',
  ]
  await store.put(paths[0]!, encodeCheckpoint(part1))
  await store.put(paths[1]!, encodeCheckpoint(part2))
  const actions = await readCheckpoint(store, { version: 12, paths })
  const adds = actions.flatMap((a) => ('add' in a ? [a.add.path] : []))
  assert.deepEqual(
    adds,
    whole.adds.map((a) => a.path),
  )
  assert.equal(actions.filter((a) => 'remove' in a).length, 1)
})

test('readLastCheckpoint treats a missing or garbage hint as absent', async () => {
  const store = await lakeTestStore()
  assert.equal(await readLastCheckpoint(store), undefined)
  for (const garbage of ['{not json', '{"version":"ten","size":3}', '[]', '', '{"size":3}']) {
    await store.put('_delta_log/_last_checkpoint', new TextEncoder().encode(garbage))
    assert.equal(await readLastCheckpoint(store), undefined, garbage)
  }
  await store.put(
    '_delta_log/_last_checkpoint',
    new TextEncoder().encode('{"version":7,"size":3,"parts":1,"extra":true}'),
  )
  assert.deepEqual(await readLastCheckpoint(store), { version: 7, size: 3 })
})

test('a truncated checkpoint is reported as a corrupt log', async () => {
  const bytes = encodeCheckpoint(state())
  await assert.rejects(decodeCheckpoint(bytes.subarray(0, bytes.length - 9)), (e) =>
    isCryptoVizError(e, 'DELTA_LOG_CORRUPT'),
  )
})

test('refuses to checkpoint a file with a deletion vector', () => {
  const s = state([
    {
      ...add(1, 'a'),
      deletionVector: { storageType: 'u', pathOrInlineDv: 'x', sizeInBytes: 1, cardinality: 1 },
    },
  ])
  assert.throws(
    () => encodeCheckpoint(s),
    (e) => isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'),
  )
})

test('decodes the checkpoints Spark and delta-rs wrote in the golden tables', async (t) => {
  const golden = goldenDir()
  if (golden === undefined) return t.skip(GOLDEN_MISSING)
  const expected: Record<string, { adds: number; removes: number; partitionColumns: string[] }> = {
    'simple_table_with_checkpoint/_delta_log/00000000000000000010.checkpoint.parquet': {
      adds: 11,
      removes: 0,
      partitionColumns: [],
    },
    'python-0.25.5-checkpoint/_delta_log/00000000000000000000.checkpoint.parquet': {
      adds: 1,
      removes: 0,
      partitionColumns: [],
    },
    'with_checkpoint_no_last_checkpoint/_delta_log/00000000000000000002.checkpoint.parquet': {
      adds: 1,
      removes: 1,
      partitionColumns: [],
    },
    'checkpoints_vacuumed/_delta_log/00000000000000000010.checkpoint.parquet': {
      adds: 10,
      removes: 0,
      partitionColumns: ['date'],
    },
    'checkpoint_with_partitions/_delta_log/00000000000000000002.checkpoint.parquet': {
      adds: 2,
      removes: 0,
      partitionColumns: ['color'],
    },
  }
  for (const [path, want] of Object.entries(expected)) {
    const actions = await decodeCheckpoint(readFileSync(join(golden, path)))
    const meta = actions.find((a) => 'metaData' in a)
    assert.ok(meta && 'metaData' in meta, path)
    assert.deepEqual(meta.metaData.partitionColumns, want.partitionColumns, path)
    assert.equal(actions.filter((a) => 'add' in a).length, want.adds, path)
    assert.equal(actions.filter((a) => 'remove' in a).length, want.removes, path)
    assert.equal(actions.filter((a) => 'protocol' in a).length, 1, path)
  }
  // Every golden classic checkpoint decodes and each add has a path and a size.
  for (const table of readdirSync(golden)) {
    let names: string[] = []
    try {
      names = readdirSync(join(golden, table, '_delta_log')).filter((n) =>
        /^\d{20}\.checkpoint\.parquet$/.test(n),
      )
    } catch {
      continue
    }
    for (const n of names) {
      for (const a of await decodeCheckpoint(readFileSync(join(golden, table, '_delta_log', n)))) {
        if ('add' in a) assert.ok(a.add.path.length > 0 && a.add.size > 0, `${table}/${n}`)
      }
    }
  }
})
