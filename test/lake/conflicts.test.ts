import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable, type AddFile } from '../../src/lake/index.ts'
import { schemaToString } from '../../src/lake/schema-json.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import {
  commitActions,
  HookStore,
  raceOnce,
  SMALL_SCHEMA,
  smallRows,
  smallTable,
  lakeTestStore,
} from './lake-fixtures.ts'

/** Two tables over one store; `a` goes through a HookStore so a test can slip `b`'s commit in. */
async function twoWriters(): Promise<{
  a: DeltaTable
  b: DeltaTable
  hooked: HookStore
  inner: ObjectStore
}> {
  const inner = await lakeTestStore()
  const hooked = new HookStore(inner)
  await DeltaTable.create(inner, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  return { a: await DeltaTable.open(hooked), b: await DeltaTable.open(inner), hooked, inner }
}

test('blind appends never conflict: the loser retries at the next version', async () => {
  const { a, b, hooked, inner } = await twoWriters()
  raceOnce(hooked, () => b.append(smallRows(2, { crypto: 'b' })))
  const r = await a.append(smallRows(3, { crypto: 'a' }))
  assert.equal(r.status, 'committed')
  if (r.status !== 'committed') return
  assert.equal(r.version, 2)
  assert.equal(r.attempts, 2)
  const info = (await commitActions(inner, 2))[0]!.commitInfo as { readVersion: number }
  assert.equal(info.readVersion, 0, 'readVersion stays the version the writer read')
  assert.equal((await a.snapshot()).numRecords(), 5)
})

test('a winner that changed the metadata makes an append fail with DELTA_COMMIT_CONFLICT', async () => {
  const { a, b, hooked, inner } = await twoWriters()
  raceOnce(hooked, () => b.append([{ ...smallRows(1)[0]!, extra: 1 }], { mergeSchema: true }))
  await assert.rejects(a.append(smallRows(1, { crypto: 'a' })), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT'))
    assert.equal(e.canRetry, true)
    assert.equal(e.details?.reason, 'metadata-changed')
    return true
  })
  const live = (await (await DeltaTable.open(inner)).snapshot()).files()
  const dataFiles = (await inner.list('')).filter((m) => !m.path.startsWith('_delta_log/'))
  assert.equal(dataFiles.length, live.length, "the loser's data files were cleaned up")
})

test('a winner that changed the protocol conflicts', async () => {
  const { a, hooked, inner } = await twoWriters()
  raceOnce(hooked, async () => {
    const body = JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } })
    await inner.putIfAbsent('_delta_log/00000000000000000001.json', new TextEncoder().encode(body))
  })
  const r = await a.commit([{ add: fakeAdd('crypto=x/f.parquet') }], { operation: 'WRITE' })
  assert.equal(r.status, 'conflict')
  if (r.status === 'conflict') assert.equal(r.reason, 'protocol-changed')
})

test('a winner that recorded our txn appId at our version turns the append into a skip', async () => {
  const { a, b, hooked } = await twoWriters()
  raceOnce(hooked, () => b.append(smallRows(2), { txn: { appId: 'p0', version: 5 } }))
  const r = await a.append(smallRows(2), { txn: { appId: 'p0', version: 5 } })
  assert.deepEqual(r, {
    status: 'skipped',
    reason: 'txn-already-committed',
    txnVersion: 5,
    txnVersions: { p0: 5 },
  })
  assert.equal((await a.snapshot()).numRecords(), 2, 'the batch is in the table once')
})

test('a winner that recorded an older version of our txn appId is a conflict', async () => {
  const { a, b, hooked } = await twoWriters()
  raceOnce(hooked, () => b.append(smallRows(2), { txn: { appId: 'p0', version: 4 } }))
  await assert.rejects(
    a.append(smallRows(2), { txn: { appId: 'p0', version: 5 } }),
    (e) => isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT') && e.details?.reason === 'txn',
  )
})

test('a txn on another appId does not conflict', async () => {
  const { a, b, hooked } = await twoWriters()
  raceOnce(hooked, () => b.append(smallRows(2), { txn: { appId: 'p1', version: 9 } }))
  const r = await a.append(smallRows(2), { txn: { appId: 'p0', version: 1 } })
  assert.equal(r.status, 'committed')
})

test('removing a file that a winner already removed is a conflict, reported as a result', async () => {
  const { a, b, hooked } = await twoWriters()
  await b.append(smallRows(2))
  const [f] = (await a.snapshot()).files()
  raceOnce(hooked, () => b.commit([{ remove: { path: f!.path, dataChange: true } }], { operation: 'DELETE' }))
  const r = await a.commit([{ remove: { path: f!.path, dataChange: true } }], {
    operation: 'DELETE',
    readFiles: [f!],
  })
  assert.equal(r.status, 'conflict')
  if (r.status !== 'conflict') return
  assert.equal(r.reason, 'file-removed')
  assert.equal(r.winningVersion, 2)
})

test('compaction (dataChange false) does not conflict with concurrent appends', async () => {
  const { a, b, hooked } = await twoWriters()
  await b.append(smallRows(2, { crypto: 'x' }))
  await b.append(smallRows(2, { crypto: 'x', start: 2 }))
  const snap = await a.snapshot()
  const files = [...snap.files()]
  raceOnce(hooked, () => b.append(smallRows(2, { crypto: 'x', start: 4 })))
  const merged: AddFile = { ...files[0]!, path: 'crypto=x/merged.parquet', dataChange: false }
  const r = await a.commit(
    [...files.map((f) => ({ remove: { path: f.path, dataChange: false } })), { add: merged }],
    { operation: 'OPTIMIZE', readFiles: files, readVersion: snap.version },
  )
  assert.equal(r.status, 'committed')
  if (r.status === 'committed') assert.equal(r.version, 4)
  assert.equal((await a.snapshot()).files().length, 2, 'merged file plus the concurrent append')
})

test('a non-blind commit conflicts with files added in the partitions it read', async () => {
  const { a, b, hooked } = await twoWriters()
  await b.append(smallRows(2, { crypto: 'x' }))
  const [f] = (await a.snapshot()).files()
  raceOnce(hooked, () => b.append(smallRows(2, { crypto: 'x', start: 9 })))
  const r = await a.commit(
    [{ remove: { path: f!.path, dataChange: true } }, { add: { ...f!, path: 'crypto=x/rewritten.parquet' } }],
    { operation: 'UPDATE', readFiles: [f!], readPartitions: { crypto: ['x'] } },
  )
  assert.equal(r.status, 'conflict')
  if (r.status === 'conflict') assert.equal(r.reason, 'files-added')
  // Files added in other partitions are fine.
  const [g] = (await a.snapshot()).files().filter((x) => x.path !== f!.path)
  raceOnce(hooked, () => b.append(smallRows(2, { crypto: 'y' })))
  const ok = await a.commit(
    [
      { remove: { path: g!.path, dataChange: true } },
      { add: { ...g!, path: 'crypto=x/rewritten2.parquet' } },
    ],
    { operation: 'UPDATE', readFiles: [g!], readPartitions: { crypto: ['x'] } },
  )
  assert.equal(ok.status, 'committed')
})

test('committing against a file that is no longer live is a conflict, not a crash', async () => {
  const { table } = await smallTable()
  const r = await table.commit([{ remove: { path: 'crypto=x/never.parquet', dataChange: true } }], {
    operation: 'DELETE',
  })
  assert.equal(r.status, 'conflict')
  if (r.status === 'conflict') assert.equal(r.reason, 'file-removed')
})

test('retries are bounded: a writer that keeps losing gives up with DELTA_COMMIT_CONFLICT', async () => {
  const inner = await lakeTestStore()
  const hooked = new HookStore(inner)
  await DeltaTable.create(inner, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  const a = await DeltaTable.open(hooked)
  const b = await DeltaTable.open(inner)
  hooked.beforePutIfAbsent = async (path) => {
    if (path.startsWith('_delta_log/')) await b.append(smallRows(1))
  }
  await assert.rejects(a.append(smallRows(1), { maxRetries: 3 }), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT'))
    assert.equal(e.details?.reason, 'retries-exhausted')
    assert.equal(e.details?.attempts, 4)
    return true
  })
})

test('the metadata replaced by a schema change is visible to the other writer after the conflict', async () => {
  const { a, b, hooked } = await twoWriters()
  const evolved = {
    ...SMALL_SCHEMA,
    fields: [...SMALL_SCHEMA.fields, { name: 'v', type: 'long' as const, nullable: true, metadata: {} }],
  }
  raceOnce(hooked, () => b.append([{ ...smallRows(1)[0]!, v: 1 }], { mergeSchema: true }))
  await assert.rejects(a.append(smallRows(1)))
  const snap = await a.snapshot()
  assert.equal(snap.metadata.schemaString, schemaToString(evolved))
  const retry = await a.append(smallRows(1))
  assert.equal(retry.status, 'committed')
})

function fakeAdd(path: string): AddFile {
  return { path, partitionValues: { crypto: 'x' }, size: 1, modificationTime: 0, dataChange: true }
}

test('a winner that recorded one of several txns makes a multi-txn append a partial conflict', async () => {
  const { a, b, hooked } = await twoWriters()
  raceOnce(hooked, () => b.append(smallRows(2), { txn: { appId: 'p0', version: 5 } }))
  await assert.rejects(
    a.append(smallRows(2), {
      txns: [
        { appId: 'p0', version: 5 },
        { appId: 'p1', version: 9 },
      ],
    }),
    (e) => isCryptoVizError(e, 'DELTA_COMMIT_CONFLICT') && e.details?.reason === 'txn-partially-committed',
  )
  const snap = await a.snapshot()
  assert.equal(snap.numRecords(), 2, "only the winner's rows are in the table")
  assert.equal(snap.txnVersion('p1'), undefined)
})
