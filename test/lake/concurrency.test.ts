import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkTable, DeltaTable, fileStats } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import { freshBucket } from '../harness/moto-server.ts'
import { SMALL_SCHEMA } from './lake-fixtures.ts'

const WORKER = new URL('./workers/append-worker.ts', import.meta.url).pathname
const WORKERS = 4
const COMMITS = 50
const ROWS = 5

function runWorker(
  dir: string,
  id: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, dir, String(id), String(COMMITS), String(ROWS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

const TARGETS: {
  name: string
  open: (t: { after(fn: () => unknown): void }) => Promise<[string, ObjectStore]>
}[] = [
  {
    name: 'local',
    open: async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-lake-concurrency-'))
      t.after(() => rm(dir, { recursive: true, force: true }))
      return [dir, new LocalStore(dir)]
    },
  },
  {
    name: 'S3 (moto)',
    open: async () => {
      const { store, bucket } = await freshBucket({ prefix: 'quotes' })
      return [`s3://${bucket}/quotes`, store]
    },
  },
]

for (const target of TARGETS)
  test(`4 processes appending 50 commits each to one ${target.name} table produce exactly 200 data commits`, async (t) => {
    const [dir, store] = await target.open(t)
    await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })

    const results = await Promise.all(Array.from({ length: WORKERS }, (_, id) => runWorker(dir, id)))
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const versions = results.flatMap((r) =>
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { version?: number })
        .flatMap((l) => (l.version === undefined ? [] : [l.version])),
    )
    assert.equal(versions.length, WORKERS * COMMITS)
    assert.deepEqual(
      [...versions].sort((a, b) => a - b),
      Array.from({ length: WORKERS * COMMITS }, (_, i) => i + 1),
      'every version 1..200 was won by exactly one writer',
    )

    const table = await DeltaTable.open(store)
    const snap = await table.snapshot()
    assert.equal(snap.version, WORKERS * COMMITS)
    const history = await table.history()
    assert.equal(history.filter((h) => h.operation === 'WRITE').length, WORKERS * COMMITS)

    // Rows counted from the log's stats…
    const expected = WORKERS * COMMITS * ROWS
    assert.equal(snap.numRecords(), expected)
    // …and from the files actually present: blind appends never lose, so there are no orphans.
    const listed = (await store.list('')).filter((m) => !m.path.startsWith('_delta_log/'))
    assert.equal(listed.length, WORKERS * COMMITS)
    assert.equal(snap.files().length, listed.length)
    assert.equal(
      snap.files().reduce((s, f) => s + (fileStats(f)?.numRecords ?? 0), 0),
      expected,
    )
    // Every row present exactly once.
    const notes = (await readRows(store, snap, { columns: ['note'] })).map((r) => r.note as string)
    assert.equal(notes.length, expected)
    assert.equal(new Set(notes).size, expected)
    const report = await checkTable(store)
    assert.equal(report.ok, true, JSON.stringify(report.problems))
    assert.deepEqual(report.orphans, [])
  })
