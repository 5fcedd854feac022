import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { encodeCheckpoint } from '../../src/lake/checkpoint.ts'
import { checkpointPartPath, checkpointPath, commitPath } from '../../src/lake/log-paths.ts'
import { dataFilePath, DeltaTable, field, struct, type Action } from '../../src/lake/index.ts'
import { schemaToString } from '../../src/lake/schema-json.ts'
import { StateBuilder } from '../../src/lake/table-state.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import {
  commitActions,
  HookStore,
  SMALL_SCHEMA,
  smallRows,
  smallTable,
  writeCommit,
  lakeTestStore,
} from './lake-fixtures.ts'

const paths = (files: readonly { path: string }[]): string[] => files.map((f) => f.path).sort()

test('replay applies adds and removes in order, keeps tombstones and revives a re-added path', async () => {
  const { table, store, clock } = await smallTable()
  await table.append(smallRows(3, { crypto: 'a' }))
  await table.append(smallRows(3, { crypto: 'b' }))
  const snap = await table.snapshot()
  const [a, b] = [...snap.files()].sort((x, y) => x.path.localeCompare(y.path))
  clock.t += 5000
  const r = await table.commit([{ remove: { path: a!.path, dataChange: true } }], {
    operation: 'DELETE',
    readFiles: [a!],
  })
  assert.equal(r.status, 'committed')
  const after = await (await DeltaTable.open(store)).snapshot()
  assert.deepEqual(paths(after.files()), [b!.path])
  const [tomb] = after.tombstones()
  assert.deepEqual(tomb, {
    path: a!.path,
    dataChange: true,
    deletionTimestamp: clock.t,
    extendedFileMetadata: true,
    partitionValues: { crypto: 'a' },
    size: a!.size,
    // The commit records the file's stats on the remove; the state's tombstone drops them.
  })
  await table.commit([{ add: { ...a!, dataChange: false } }], { operation: 'RESTORE' })
  const revived = await (await DeltaTable.open(store)).snapshot()
  assert.deepEqual(paths(revived.files()), paths([a!, b!]))
  assert.deepEqual(revived.tombstones(), [])
})

test('unknown actions and unknown fields in the log are ignored', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(2))
  const [, add] = (await commitActions(store, 1)).filter((a) => 'add' in a).map((a) => ['add', a.add])[0]!
  await writeCommit(store, 2, [
    { commitInfo: { operation: 'FUTURE', somethingNew: { nested: true } } },
    { domainMetadata: { domain: 'delta.rowTracking', configuration: '{}', removed: false } },
    {
      add: {
        ...(add as object),
        path: 'crypto=bitcoin/other.parquet',
        baseRowId: 7,
        clusteringProvider: 'x',
      },
    },
  ])
  const snap = await (await DeltaTable.open(store)).snapshot()
  assert.equal(snap.version, 2)
  assert.equal(snap.files().length, 2)
})

test('a gap in the commit sequence is a corrupt log', async () => {
  const { table, store } = await smallTable()
  for (let i = 0; i < 4; i++) await table.append(smallRows(1))
  await store.delete(commitPath(2))
  await assert.rejects(DeltaTable.open(store), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_LOG_CORRUPT'))
    assert.match(e.message, /commit 2 is missing/)
    return true
  })
})

test('an unparseable commit line is a corrupt log naming the version', async () => {
  const { store } = await smallTable()
  await store.put(commitPath(1), new TextEncoder().encode('{"add": {"path": 3}}\n'))
  await assert.rejects(
    DeltaTable.open(store),
    (e) => isCryptoVizError(e, 'DELTA_LOG_CORRUPT') && /commit 1/.test(e.message),
  )
  await store.put(commitPath(1), new TextEncoder().encode('{"txn": {"appId": "a", "version": 1}}\n{oops\n'))
  await assert.rejects(
    DeltaTable.open(store),
    (e) => isCryptoVizError(e, 'DELTA_LOG_CORRUPT') && /line 2/.test(e.message),
  )
})

for (const [protocol, feature] of [
  [
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['deletionVectors'],
      writerFeatures: ['deletionVectors'],
    },
    'deletionVectors',
  ],
  [{ minReaderVersion: 2, minWriterVersion: 5 }, 'columnMapping'],
  [
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['v2Checkpoint'],
      writerFeatures: ['v2Checkpoint'],
    },
    'v2Checkpoint',
  ],
  [
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['timestampNtz'],
      writerFeatures: ['timestampNtz'],
    },
    'timestampNtz',
  ],
] as const) {
  test(`a table requiring reader feature ${feature} is refused with DELTA_UNSUPPORTED_FEATURE naming it`, async () => {
    const { table, store } = await smallTable()
    await table.append(smallRows(1))
    await writeCommit(store, 2, [{ protocol }])
    await assert.rejects(DeltaTable.open(store), (e) => {
      assert.ok(isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'))
      assert.match(e.message, new RegExp(feature))
      return true
    })
    // The table that had it cached refuses it too once it sees the new commit.
    await assert.rejects(table.snapshot(), (e) => isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'))
  })
}

test('a newer writer version is readable but refused for writing, naming the feature', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(2))
  await writeCommit(store, 2, [{ protocol: { minReaderVersion: 1, minWriterVersion: 3 } }])
  const snap = await table.snapshot()
  assert.equal(snap.files().length, 1)
  await assert.rejects(table.append(smallRows(1)), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'))
    assert.match(e.message, /checkConstraints/)
    return true
  })
  await writeCommit(store, 3, [
    {
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['vacuumProtocolCheck'],
        writerFeatures: ['vacuumProtocolCheck', 'appendOnly'],
      },
    },
  ])
  assert.equal((await table.snapshot()).version, 3, 'vacuumProtocolCheck does not stop readers')
  await assert.rejects(table.append(smallRows(1)), /vacuumProtocolCheck/)
})

test('columns carrying delta.invariants are refused for writing', async () => {
  const { table, store } = await smallTable()
  const snap = await table.snapshot()
  const schema = struct([
    ...SMALL_SCHEMA.fields.filter((f) => f.name !== 'price'),
    {
      ...field('price', 'double', false),
      metadata: { 'delta.invariants': '{"expression":{"expression":"price > 0"}}' },
    },
  ])
  await writeCommit(store, 1, [{ metaData: { ...snap.metadata, schemaString: schemaToString(schema) } }])
  await assert.rejects(table.append(smallRows(1)), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE'))
    assert.match(e.message, /invariants on price/)
    return true
  })
})

test('delta.appendOnly allows appends and refuses removing data', async () => {
  const { table } = await smallTable({ configuration: { 'delta.appendOnly': 'true' } })
  const r = await table.append(smallRows(2))
  assert.equal(r.status, 'committed')
  const [f] = (await table.snapshot()).files()
  await assert.rejects(
    table.commit([{ remove: { path: f!.path, dataChange: true } }], { operation: 'DELETE' }),
    (e) => isCryptoVizError(e, 'DELTA_APPEND_ONLY'),
  )
  // Rearranging (dataChange false) is not a data change and stays allowed.
  const moved = await table.commit(
    [
      { remove: { path: f!.path, dataChange: false } },
      { add: { ...f!, path: 'crypto=bitcoin/compacted.parquet', dataChange: false } },
    ],
    { operation: 'OPTIMIZE' },
  )
  assert.equal(moved.status, 'committed')
})

test('a checkpoint is written at every tenth version and loading uses it instead of older commits', async () => {
  const inner = await lakeTestStore()
  const { table } = await smallTable({ store: inner })
  for (let i = 1; i <= 12; i++) {
    const r = await table.append(smallRows(1, { start: i }))
    assert.equal(r.status, 'committed')
    if (r.status === 'committed') assert.equal(r.checkpoint?.status, i === 10 ? 'written' : undefined)
  }
  assert.ok(await inner.head(checkpointPath(10)))
  const hooked = new HookStore(inner)
  const snap = await (await DeltaTable.open(hooked)).snapshot()
  assert.equal(snap.version, 12)
  assert.equal(snap.numRecords(), 12)
  assert.deepEqual(
    hooked.gets.filter((p) => p.endsWith('.json')),
    [commitPath(11), commitPath(12)],
  )
})

test('a failed checkpoint does not fail the commit that triggered it', async () => {
  const store = new HookStore(await lakeTestStore())
  store.beforePut = (path) => {
    if (path.includes('checkpoint')) throw new Error('disk full')
  }
  const { table } = await smallTable({ store, configuration: { 'delta.checkpointInterval': '2' } })
  await table.append(smallRows(1))
  const r = await table.append(smallRows(1))
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.equal(r.version, 2)
  assert.equal(r.checkpoint?.status, 'failed')
  assert.equal((await (await DeltaTable.open(store)).snapshot()).numRecords(), 2)
})

test('an unreadable checkpoint falls back to replaying the JSON commits', async () => {
  const { table, store } = await smallTable({ configuration: { 'delta.checkpointInterval': '3' } })
  for (let i = 0; i < 4; i++) await table.append(smallRows(1, { start: i }))
  assert.ok(await store.head(checkpointPath(3)))
  await store.put(checkpointPath(3), new TextEncoder().encode('not parquet'))
  await store.put('_delta_log/_last_checkpoint', new TextEncoder().encode('{"version": 99}'))
  const snap = await (await DeltaTable.open(store)).snapshot()
  assert.equal(snap.version, 4)
  assert.equal(snap.numRecords(), 4)
})

test('a multi-part checkpoint found by listing is loaded; an incomplete one is ignored', async () => {
  const { table, store } = await smallTable()
  await table.append([...smallRows(2, { crypto: 'a' }), ...smallRows(3, { crypto: 'b' })])
  await table.append(smallRows(4, { crypto: 'c' }))
  const snap = await table.snapshot()
  const files = [...snap.files()]
  const base = { version: 2, protocol: snap.protocol, metadata: snap.metadata, removes: [], txns: [] }
  await store.put(checkpointPartPath(2, 1, 2), encodeCheckpoint({ ...base, adds: files.slice(0, 1) }))
  await store.put(checkpointPartPath(2, 2, 2), encodeCheckpoint({ ...base, adds: files.slice(1) }))
  // Without the JSON commits only the checkpoint can say what is live.
  for (const v of [0, 1, 2]) await store.delete(commitPath(v))
  const loaded = await (await DeltaTable.open(store)).snapshot()
  assert.equal(loaded.version, 2)
  assert.deepEqual(paths(loaded.files()), paths(files))

  await store.delete(checkpointPartPath(2, 2, 2))
  // With one part missing the checkpoint does not count, and no commit is left to read.
  await assert.rejects(DeltaTable.open(store), (e) => isCryptoVizError(e, 'DELTA_TABLE_NOT_FOUND'))
})

test('snapshot() reads only the commits added since the previous snapshot', async () => {
  const inner = await lakeTestStore()
  const { table: writer } = await smallTable({ store: inner })
  await writer.append(smallRows(1))
  const hooked = new HookStore(inner)
  const reader = await DeltaTable.open(hooked)
  const first = await reader.snapshot()
  assert.equal(first.version, 1)
  hooked.gets.length = 0
  assert.equal(await reader.snapshot(), first, 'an unchanged table returns the same snapshot object')
  assert.deepEqual(hooked.gets, [])
  await writer.append(smallRows(1, { start: 1 }))
  await writer.append(smallRows(1, { start: 2 }))
  const next = await reader.snapshot()
  assert.equal(next.version, 3)
  assert.equal(next.numRecords(), 3)
  assert.deepEqual(hooked.gets, [commitPath(2), commitPath(3)])
  assert.equal(first.version, 1, 'the older snapshot is unchanged')
  assert.equal(first.files().length, 1)
})

test('incremental snapshots cross a decade of versions', async () => {
  const { table: writer, store } = await smallTable({ configuration: { 'delta.checkpointInterval': '1000' } })
  const reader = await DeltaTable.open(store)
  for (let i = 0; i < 25; i++) await writer.append(smallRows(1, { start: i }))
  const snap = await reader.snapshot()
  assert.equal(snap.version, 25)
  assert.equal(snap.numRecords(), 25)
})

test('paths in the log are decoded once when keying files', async () => {
  const store = await lakeTestStore()
  const table = await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  await table.append(smallRows(1, { crypto: 'a b' }))
  const [f] = (await table.snapshot()).files()
  assert.equal(f!.path.includes('%20'), true)
  // A remove spelling the same path differently (literal space) still removes it.
  const actions: Action[] = [{ remove: { path: dataFilePath(f!), dataChange: true } }]
  const r = await table.commit(actions, { operation: 'DELETE' })
  assert.equal(r.status, 'committed')
  assert.equal((await table.snapshot()).files().length, 0)
})

test('files in subfolders of the log (Spark stages commits in _delta_log/.tmp/) are not commits', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(1))
  await writeCommit(store, 2, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }])
  const staged = await store.get(commitPath(2))
  await store.delete(commitPath(2))
  await store.put('_delta_log/.tmp/00000000000000000002.json', staged)
  await store.put('_delta_log/00000000000000000002.crc', new TextEncoder().encode('{}'))
  const snap = await (await DeltaTable.open(store)).snapshot()
  assert.equal(snap.version, 1)
  assert.deepEqual(
    (await table.history()).map((h) => h.version),
    [1, 0],
  )
})

test('a state built commit by commit equals a fresh replay at every version, and older snapshots never change', async () => {
  const { table, store, clock } = await smallTable()
  const held: { version: number; files: string[]; tombstones: string[] }[] = []
  const view = (s: Awaited<ReturnType<typeof table.snapshot>>) => ({
    version: s.version,
    files: paths(s.files()),
    tombstones: paths(s.tombstones()),
  })
  const snapshots = []
  for (let i = 0; i < 24; i++) {
    clock.t += 1000
    const current = await table.snapshot()
    const live = [...current.files()].sort((x, y) => x.path.localeCompare(y.path))
    if (i % 5 === 4 && live.length > 1) {
      // Remove two files (one of them re-added later) alongside an append.
      const [a, b] = live
      await table.commit(
        [{ remove: { path: a!.path, dataChange: true } }, { remove: { path: b!.path, dataChange: true } }],
        { operation: 'DELETE', readFiles: [a!, b!] },
      )
      if (i % 10 === 9) await table.commit([{ add: { ...a!, dataChange: false } }], { operation: 'RESTORE' })
    } else {
      await table.append(smallRows(2, { crypto: `c${i % 3}` }))
    }
    const s = await table.snapshot()
    snapshots.push(s)
    held.push(view(s))
  }
  // Versions past 10 and 20 were checkpointed: fresh loads start from checkpoints, the held ones
  // were built incrementally from version 0.
  for (const [i, s] of snapshots.entries()) {
    assert.deepEqual(view(s), held[i], `snapshot of version ${s.version} changed after later commits`)
    const fresh = await (await DeltaTable.open(store)).snapshot({ version: s.version })
    assert.deepEqual(view(fresh), held[i], `version ${s.version}: incremental state differs from a replay`)
    // Whole actions too, except dataChange (a checkpoint records state: always false) and
    // tombstone stats (checkpoints leave them out).
    const files = (m: ReadonlyMap<string, { dataChange: boolean }>) =>
      [...m.entries()]
        .map(([k, v]) => [k, { ...v, dataChange: false }])
        .sort(([x], [y]) => `${x}`.localeCompare(`${y}`))
    assert.deepEqual(files(s.state.adds), files(fresh.state.adds))
    const tombstones = (m: ReadonlyMap<string, { dataChange: boolean; stats?: string | null }>) =>
      files(new Map([...m].map(([k, { stats: _, ...v }]) => [k, v])))
    assert.deepEqual(tombstones(s.state.removes), tombstones(fresh.state.removes))
  }
})

test('equal partition-value maps share one frozen object in the state; maps differing in order, null or value do not', async () => {
  const { table } = await smallTable()
  const { protocol, metadata } = (await table.snapshot()).state
  const add = (path: string, partitionValues: Record<string, string | null>): Action => ({
    add: { path, partitionValues, size: 1, modificationTime: 1, dataChange: true },
  })
  const maps: Record<string, string | null>[] = [
    { year: '2024', crypto: 'btc' },
    { year: '2024', crypto: 'btc' },
    { crypto: 'btc', year: '2024' },
    { year: '2024', crypto: null },
    { year: '2024', crypto: 'null' },
    { year: '2024', crypto: null },
    { year: '2025', crypto: 'btc' },
    {},
    {},
  ]
  const builder = StateBuilder.empty()
  builder.applyCommit(
    [{ protocol }, { metaData: metadata }, ...maps.map((m, i) => add(`f${i}.parquet`, m))],
    0,
    1,
  )
  const state = builder.finish()
  const held = maps.map((_, i) => state.adds.get(`f${i}.parquet`)!.partitionValues)
  held.forEach((m, i) => {
    assert.deepEqual(m, maps[i])
    assert.deepEqual(Object.keys(m), Object.keys(maps[i]!), 'key order kept')
    assert.ok(Object.isFrozen(m))
  })
  const same = (i: number, j: number) => held[i] === held[j]
  assert.ok(same(0, 1) && same(3, 5) && same(7, 8))
  assert.ok(!same(0, 2) && !same(3, 4) && !same(0, 6) && !same(0, 3))
})

test('live files layered over a loaded base equal a plain replay after random adds, removes and re-adds, and older states never change', async () => {
  const { table } = await smallTable()
  const { protocol, metadata } = (await table.snapshot()).state
  const rng = mulberry32(99)
  const key = () => `k${Math.floor(rng() * 60)}.parquet`
  const add = (path: string, size: number): Action => ({
    add: { path, partitionValues: {}, size, modificationTime: 1, dataChange: true },
  })
  const reference = new Map<string, number>()
  const loaded = StateBuilder.empty()
  const rows: Action[] = [{ protocol }, { metaData: metadata }]
  for (let i = 0; i < 40; i++) {
    const k = key()
    rows.push(add(k, i))
    reference.set(k, i)
  }
  loaded.applyCheckpoint(rows, 0, 1)
  let state = loaded.finish()
  const held: { state: typeof state; files: [string, number][] }[] = []
  const contents = (s: typeof state): [string, number][] =>
    [...s.adds.entries()]
      .map(([k, a]): [string, number] => [k, a.size])
      .sort(([a], [b]) => a.localeCompare(b))
  for (let version = 1; version <= 150; version++) {
    const b = StateBuilder.from(state)
    const actions: Action[] = []
    for (let n = Math.floor(rng() * 8); n > 0; n--) {
      const k = key()
      if (rng() < 0.45) {
        actions.push({ remove: { path: k, dataChange: true } })
        reference.delete(k)
      } else {
        actions.push(add(k, version * 100 + n))
        reference.set(k, version * 100 + n)
      }
    }
    b.applyCommit(actions, version, version + 1)
    state = b.finish()
    const expected = [...reference.entries()].sort(([a], [b]) => a.localeCompare(b))
    assert.deepEqual(contents(state), expected, `version ${version}`)
    assert.equal(state.adds.size, reference.size)
    for (let i = 0; i < 60; i++) {
      const k = `k${i}.parquet`
      assert.equal(state.adds.has(k), reference.has(k))
      assert.equal(state.adds.get(k)?.size, reference.get(k))
    }
    held.push({ state, files: expected })
  }
  for (const h of held) assert.deepEqual(contents(h.state), h.files, `version ${h.state.version} changed`)
})
