import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkTable, DeltaTable } from '../../src/lake/index.ts'
import { decodeCommit } from '../../src/lake/commit-file.ts'
import { listLog } from '../../src/lake/log-segment.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { SMALL_SCHEMA } from './lake-fixtures.ts'

const WORKER = new URL('./workers/append-worker.ts', import.meta.url).pathname
const TRIALS = 20

/** Starts a writer, waits until it has opened the table, lets it run `delayMs`, then SIGKILLs it. */
function killDuringWrites(dir: string, id: number, delayMs: number): Promise<{ committed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, dir, String(id), '1000000', '200'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let timer: NodeJS.Timeout | undefined
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (timer === undefined && out.includes('"ready"'))
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${code}): ${err}`))
      else resolve({ committed: out.split('\n').filter((l) => l.includes('"version"')).length })
    })
  })
}

test('a writer killed with SIGKILL at random points never leaves the table unreadable or half committed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-lake-crash-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new LocalStore(dir)
  // A short checkpoint interval puts checkpoint writes among the kill points too.
  await DeltaTable.create(store, {
    schema: SMALL_SCHEMA,
    partitionColumns: ['crypto'],
    configuration: { 'delta.checkpointInterval': '3' },
  })
  let reportedCommits = 0
  let sawOrphans = false
  for (let trial = 0; trial < TRIALS; trial++) {
    const delay = Math.floor(Math.random() * 150)
    const { committed } = await killDuringWrites(dir, trial, delay)
    reportedCommits += committed

    // Every commit file parses whole, every live file exists with its size, the log is contiguous.
    const report = await checkTable(store)
    assert.equal(
      report.ok,
      true,
      `trial ${trial} (kill after ${delay} ms): ${JSON.stringify(report.problems)}`,
    )
    sawOrphans ||= report.orphans.length > 0
    const listing = await listLog(store)
    for (const c of listing.commits.values()) {
      const actions = decodeCommit(await store.get(c.path), c.version)
      assert.ok(
        actions.some((a) => 'commitInfo' in a),
        `commit ${c.version} is complete`,
      )
    }
    const snap = await (await DeltaTable.open(store)).snapshot()
    // A commit may land after the writer's last report (killed before printing), never fewer.
    assert.ok(
      snap.version >= reportedCommits,
      `version ${snap.version} < ${reportedCommits} reported commits`,
    )
    assert.equal(snap.numRecords(), snap.version * 200)
  }
  const snap = await (await DeltaTable.open(store)).snapshot()
  const rows = await readRows(store, snap, { columns: ['note'] })
  assert.equal(rows.length, snap.version * 200)
  assert.equal(new Set(rows.map((r) => r.note)).size, rows.length, 'no row committed twice')
  t.diagnostic(`${snap.version} commits survived ${TRIALS} kills; orphans seen: ${sawOrphans}`)
})
