/**
 * The first step of a commit, on its own: `prepareCommit` checks and completes actions against
 * the snapshot they came from, without touching the store.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import type { Action } from '../../src/lake/index.ts'
import { prepareCommit } from '../../src/lake/transaction.ts'
import { smallRows, smallTable } from './lake-fixtures.ts'

async function tableWithOneFile(configuration: Record<string, string> = {}) {
  const { table, store } = await smallTable({ configuration })
  await table.append(smallRows(3, { crypto: 'a' }))
  const base = await table.snapshot()
  const [live] = base.files()
  assert.ok(live)
  return { table, store, base, live }
}

test('a blind append prepares as Serializable with a blind-append footprint and the txn recorded', async () => {
  const { base, live } = await tableWithOneFile()
  const actions: Action[] = [
    { txn: { appId: 'p', version: 7 } },
    { add: { ...live, path: 'crypto=a/other.parquet' } },
  ]
  const p = prepareCommit(base, actions, { operation: 'WRITE' }, 1_000)
  assert.ok(!('conflict' in p))
  assert.equal(p.footprint.isBlindAppend, true)
  assert.deepEqual([...p.footprint.txns], [['p', 7]])
  assert.equal(p.commitInfo.isolationLevel, 'Serializable')
  assert.equal(p.commitInfo.operation, 'WRITE')
  assert.match(p.commitInfo.engineInfo ?? '', /^CryptoViz\//)
  assert.equal(p.changesMetadata, false)
})

test('a remove is completed from the live file and a rearrangement is SnapshotIsolation', async () => {
  const { base, live } = await tableWithOneFile()
  const p = prepareCommit(
    base,
    [
      { remove: { path: live.path, dataChange: false } },
      { add: { ...live, path: 'crypto=a/compacted.parquet', dataChange: false } },
    ],
    { operation: 'OPTIMIZE' },
    1_234,
  )
  assert.ok(!('conflict' in p))
  const remove = p.actions.find((a) => 'remove' in a)
  assert.ok(remove && 'remove' in remove)
  assert.deepEqual(
    [
      remove.remove.deletionTimestamp,
      remove.remove.size,
      remove.remove.partitionValues,
      remove.remove.extendedFileMetadata,
    ],
    [1_234, live.size, live.partitionValues, true],
  )
  assert.equal(p.footprint.rearrangeOnly, true)
  assert.equal(p.commitInfo.isolationLevel, 'SnapshotIsolation')
})

test('removing or reading a file that is not live is a conflict before anything is written', async () => {
  const { base, store } = await tableWithOneFile()
  const before = (await store.list('')).length
  const gone = prepareCommit(
    base,
    [{ remove: { path: 'crypto=a/gone.parquet', dataChange: true } }],
    { operation: 'DELETE' },
    0,
  )
  assert.ok('conflict' in gone)
  assert.equal(gone.conflict.status, 'conflict')
  assert.equal(gone.conflict.status === 'conflict' && gone.conflict.reason, 'file-removed')
  const read = prepareCommit(base, [], { operation: 'X', readFiles: ['crypto=b/never.parquet'] }, 0)
  assert.ok('conflict' in read)
  assert.equal((await store.list('')).length, before, 'preparing writes nothing')
})

test('refusals throw: a commitInfo passed in, a data-changing remove on an append-only table', async () => {
  const { base } = await tableWithOneFile()
  assert.throws(
    () => prepareCommit(base, [{ commitInfo: { operation: 'X' } }], { operation: 'X' }, 0),
    (e) => isCryptoVizError(e, 'INVALID_ARGUMENT'),
  )
  const appendOnly = await tableWithOneFile({ 'delta.appendOnly': 'true' })
  assert.throws(
    () =>
      prepareCommit(
        appendOnly.base,
        [{ remove: { path: appendOnly.live.path, dataChange: true } }],
        { operation: 'DELETE' },
        0,
      ),
    (e) => isCryptoVizError(e, 'DELTA_APPEND_ONLY'),
  )
})
