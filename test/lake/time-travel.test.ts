import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable } from '../../src/lake/index.ts'
import { checkpointPath, commitPath } from '../../src/lake/log-paths.ts'
import { Clock, smallRows, smallTable, writeCommit } from './lake-fixtures.ts'

/** A table with versions 0..n committed at clock times 1000, 2000, … (ms). */
async function timedTable(n: number) {
  const t = await smallTable({ clock: new Clock(1000) })
  for (let v = 1; v <= n; v++) {
    t.clock.t = 1000 * (v + 1)
    await t.table.append(smallRows(1, { start: v }))
  }
  return t
}

test('snapshot({version}) rebuilds any retained version', async () => {
  const { table } = await timedTable(5)
  for (let v = 0; v <= 5; v++) {
    const s = await table.snapshot({ version: v })
    assert.equal(s.version, v)
    assert.equal(s.files().length, v)
  }
  await assert.rejects(table.snapshot({ version: 6 }), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_VERSION_NOT_FOUND'))
    assert.match(e.message, /latest version is 5/)
    return true
  })
})

test('snapshot({timestamp}) picks the latest commit at or before the time', async () => {
  const { table } = await timedTable(4)
  assert.equal((await table.snapshot({ timestamp: 1000 })).version, 0)
  assert.equal((await table.snapshot({ timestamp: 2999 })).version, 1)
  assert.equal((await table.snapshot({ timestamp: 3000 })).version, 2)
  assert.equal((await table.snapshot({ timestamp: 99_999 })).version, 4)
  const s = await table.snapshot({ timestamp: 4500 })
  assert.equal(s.version, 3)
  assert.equal(s.timestamp, 4000)
  await assert.rejects(table.snapshot({ timestamp: 999 }), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_VERSION_NOT_FOUND'))
    assert.match(e.message, /earliest available commit \(version 0\)/)
    return true
  })
})

test('commit times that do not increase are made strictly increasing', async () => {
  const { table, clock } = await smallTable()
  const t0 = clock.t
  // Three commits in the same millisecond, then one whose clock went backwards.
  await table.append(smallRows(1))
  await table.append(smallRows(1))
  clock.t = t0 - 50_000
  await table.append(smallRows(1))
  const history = await table.history()
  assert.deepEqual(history.map((h) => h.timestamp).reverse(), [t0, t0 + 1, t0 + 2, t0 + 3])
  assert.equal((await table.snapshot({ timestamp: t0 + 1 })).version, 1)
  assert.equal((await table.snapshot({ timestamp: t0 + 2 })).version, 2)
  assert.equal((await table.snapshot({ version: 3 })).timestamp, t0 + 3)
})

test('inCommitTimestamp is preferred over the file time', async () => {
  const { table, store, clock } = await smallTable({
    configuration: { 'delta.enableInCommitTimestamps': 'true' },
  })
  const start = clock.t
  // File times say both commits happened at once; their inCommitTimestamps are a day apart.
  clock.t = start + 5
  await writeCommit(store, 1, [{ commitInfo: { timestamp: 1, inCommitTimestamp: start + 86_400_000 } }])
  await writeCommit(store, 2, [{ commitInfo: { timestamp: 1, inCommitTimestamp: start + 2 * 86_400_000 } }])
  assert.equal((await table.snapshot({ timestamp: start + 1.5 * 86_400_000 })).version, 1)
  assert.equal((await table.snapshot({ timestamp: start + 10 })).version, 0)
  assert.equal((await table.snapshot()).timestamp, start + 2 * 86_400_000)
})

test('versions whose log was cleaned up are reported as not found, newer ones load from the checkpoint', async () => {
  const { table, store } = await timedTable(12)
  assert.ok(await store.head(checkpointPath(10)))
  for (let v = 0; v <= 9; v++) await store.delete(commitPath(v))
  const reopened = await DeltaTable.open(store)
  await assert.rejects(reopened.snapshot({ version: 4 }), (e) => {
    assert.ok(isCryptoVizError(e, 'DELTA_VERSION_NOT_FOUND'))
    assert.match(e.message, /version 4 cannot be reconstructed.*earliest reconstructable version is 10/)
    return true
  })
  assert.equal((await reopened.snapshot({ version: 10 })).files().length, 10)
  assert.equal((await reopened.snapshot({ version: 11 })).files().length, 11)
  assert.equal((await reopened.snapshot({ timestamp: 12_500 })).version, 11)
  await assert.rejects(table.snapshot({ timestamp: 5000 }), (e) =>
    isCryptoVizError(e, 'DELTA_VERSION_NOT_FOUND'),
  )
})

test('asking for a version and a timestamp at once is refused', async () => {
  const { table } = await smallTable()
  await assert.rejects(table.snapshot({ version: 0, timestamp: 1 }), (e) =>
    isCryptoVizError(e, 'INVALID_ARGUMENT'),
  )
})
