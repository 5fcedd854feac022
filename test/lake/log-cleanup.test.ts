import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { decodeCheckpoint } from '../../src/lake/checkpoint.ts'
import { DeltaTable, type Row } from '../../src/lake/index.ts'
import { listLog } from '../../src/lake/log-segment.ts'
import { checkpointPath } from '../../src/lake/log-paths.ts'
import { optimizeTable } from '../../src/lake/optimize.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import { assertSameView, readWithOurs } from '../harness/compare-tables.ts'
import { readWithDeltaRs } from '../harness/delta-rs.ts'
import { Clock, smallTable, T0 } from './lake-fixtures.ts'

const HOUR = 3_600_000

const keys = (rows: readonly Record<string, unknown>[]): string[] =>
  rows.map((r) => `${String(r['crypto'])}|${String(r['ts'])}|${String(r['price'])}`).sort()

/** Copies a store's objects to a folder, keeping their modification times (commit times). */
async function copyToDisk(store: ObjectStore, dir: string): Promise<void> {
  for (const meta of await store.list('')) {
    const path = join(dir, meta.path)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, await store.get(meta.path))
    await utimes(path, meta.modified / 1000, meta.modified / 1000)
  }
}

test('log cleanup keeps time travel working for every version inside the retention, and delta-rs agrees', async (t) => {
  const clock = new Clock()
  const { table, store } = await smallTable({
    clock,
    configuration: { 'delta.checkpointInterval': '3', 'delta.logRetentionDuration': '2 days' },
  })
  /** Rows and commit time of every version, as written. */
  const written = new Map<number, { time: number; keys: string[] }>()
  const rows: Row[] = []
  for (let i = 0; i < 30; i++) {
    clock.t += 5 * HOUR
    if (i % 7 === 6) {
      for (const v of (await optimizeTable(table)).versions) {
        written.set(v, { time: (await table.snapshot({ version: v })).timestamp, keys: keys(rows) })
      }
    } else {
      const batch = [{ ts: T0 + i * 1000, crypto: i % 2 === 0 ? 'a' : 'b', price: i, note: null }]
      rows.push(...batch)
      await table.append(batch)
    }
    const s = await table.snapshot()
    written.set(s.version, { time: s.timestamp, keys: keys(rows) })
  }
  const latest = await table.snapshot()
  const listing = await listLog(store)
  assert.ok(!listing.commits.has(0), 'old commits were cleaned up')
  const cutoff = clock.t - 2 * 24 * HOUR
  let edge = 0
  for (const [v, w] of written) if (w.time <= cutoff && v > edge) edge = v
  const oldestKept = Math.min(...listing.commits.keys())
  assert.ok(
    oldestKept <= edge,
    `the log still starts at or before the window's edge (${oldestKept} ≤ ${edge})`,
  )
  assert.ok(oldestKept > 0)

  // Every version from the edge of the window on reads exactly what was written, by version and by time.
  const fresh = await DeltaTable.open(store, { now: clock.now })
  for (let v = edge; v <= latest.version; v++) {
    const s = await fresh.snapshot({ version: v })
    assert.deepEqual(keys(await readRows(store, s)), written.get(v)!.keys, `version ${v}`)
    const byTime = await fresh.snapshot({ timestamp: written.get(v)!.time })
    assert.equal(byTime.version, v, `time travel to the commit time of version ${v}`)
  }
  await assert.rejects(fresh.snapshot({ version: 0 }), /cannot be reconstructed|does not exist|cleaned/)

  // delta-rs reads the cleaned log the same way, for every retained version.
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-log-cleanup-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await copyToDisk(store, dir)
  const versions = Array.from({ length: latest.version - oldestKept + 1 }, (_, i) => oldestKept + i)
  const theirs = await readWithDeltaRs(dir, versions)
  const local = new LocalStore(dir)
  for (const v of theirs.versions)
    assertSameView(await readWithOurs(local, v.version), v, `version ${v.version}`)
})

test('a checkpoint leaves out txn markers older than delta.setTransactionRetentionDuration', async () => {
  const clock = new Clock()
  const { table, store } = await smallTable({
    clock,
    configuration: { 'delta.checkpointInterval': '3', 'delta.setTransactionRetentionDuration': '1 day' },
  })
  const row = (i: number) => [{ ts: T0 + i, crypto: 'a', price: i, note: null }]
  await table.append(row(1), { txn: { appId: 'old-writer', version: 7 } })
  clock.t += 2 * 24 * HOUR
  await table.append(row(2), { txn: { appId: 'live-writer', version: 1 } })
  const r = await table.append(row(3), { txn: { appId: 'live-writer', version: 2 } })
  assert.equal(r.status === 'committed' && r.version, 3)
  const actions = await decodeCheckpoint(await store.get(checkpointPath(3)))
  const txns = actions.flatMap((a) => ('txn' in a ? [a.txn.appId] : []))
  assert.deepEqual(txns, ['live-writer'])
  const reopened = await DeltaTable.open(store)
  const s = await reopened.snapshot()
  assert.equal(s.txnVersion('old-writer'), undefined)
  assert.equal(s.txnVersion('live-writer'), 2)
  // Without the property, txn markers never expire.
  const plain = await smallTable({ clock: new Clock(), configuration: { 'delta.checkpointInterval': '2' } })
  await plain.table.append(row(1), { txn: { appId: 'w', version: 1 } })
  plain.clock.t += 400 * 24 * HOUR
  await plain.table.append(row(2))
  const plainTxns = (await decodeCheckpoint(await plain.store.get(checkpointPath(2)))).flatMap((a) =>
    'txn' in a ? [a.txn.appId] : [],
  )
  assert.deepEqual(plainTxns, ['w'])
})
