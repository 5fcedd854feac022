import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkTable, DeltaTable, type Row } from '../../src/lake/index.ts'
import { optimizeTable, planOptimize } from '../../src/lake/optimize.ts'
import { parsePartitionPredicate } from '../../src/lake/partition-predicate.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { assertSameView, readWithOurs } from '../harness/compare-tables.ts'
import { readWithDeltaRs } from '../harness/delta-rs.ts'
import { commitActions, HookStore, raceOnce, SMALL_SCHEMA, smallTable } from './lake-fixtures.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'

const WORKER = new URL('./workers/append-worker.ts', import.meta.url).pathname
const BASE = Date.UTC(2024, 0, 5) * 1000

const keyOf = (r: Record<string, unknown>): string =>
  `${String(r['crypto'])}|${String(r['ts'])}|${String(r['note'])}|${String(r['price'])}`
const keys = (rows: readonly Record<string, unknown>[]): string[] => rows.map(keyOf).sort()

function preRows(batch: number, crypto: string): Row[] {
  return Array.from({ length: 4 }, (_, i) => ({
    ts: BASE - 1_000_000_000 + (batch * 4 + i) * 1000,
    crypto,
    price: 1000 + batch,
    note: `pre/${crypto}/${batch}/${i}`,
  }))
}

/** The rows append-worker.ts writes for worker `id`: `commits` batches of `rows`. */
function workerRows(id: number, commits: number, rows: number): Row[] {
  const out: Row[] = []
  for (let batch = 0; batch < commits; batch++) {
    for (let i = 0; i < rows; i++) {
      out.push({
        ts: BASE + (batch * rows + i) * 1000,
        crypto: `w${id}`,
        price: batch,
        note: `${id}/${batch}/${i}`,
      })
    }
  }
  return out
}

test('OPTIMIZE while another process keeps appending keeps the exact key set, leaves fewer files, and delta-rs agrees on every version', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-optimize-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = new LocalStore(dir)
  const table = await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  const expected: Row[] = []
  for (let b = 0; b < 30; b++) {
    const rows = [...preRows(b, 'w0'), ...preRows(b, 'w9')]
    expected.push(...rows)
    await table.append(rows)
  }
  const before = await table.snapshot()
  assert.equal(before.files().length, 60)

  const COMMITS = 250
  const ROWS = 3
  const worker = spawn(process.execPath, [WORKER, dir, '0', String(COMMITS), String(ROWS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  worker.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  let workerDone = false
  const exited = new Promise<number | null>((resolve) =>
    worker.on('exit', (code) => {
      workerDone = true
      resolve(code)
    }),
  )
  // Wait until the worker is appending, then compact over and over while it runs.
  await new Promise<void>((resolve) => worker.stdout.once('data', () => resolve()))
  let runs = 0
  let compacted = 0
  while (!workerDone || runs < 2) {
    const r = await optimizeTable(table, { sortBy: ['crypto', 'ts'] })
    assert.equal(r.partitionsAbandoned, 0)
    compacted += r.partitionsCompacted
    runs++
  }
  assert.equal(await exited, 0, stderr)
  const final = await optimizeTable(table, { sortBy: ['crypto', 'ts'] })
  compacted += final.partitionsCompacted
  assert.ok(compacted >= 2, `at least both partitions were compacted (got ${compacted})`)
  expected.push(...workerRows(0, COMMITS, ROWS))

  const after = await table.snapshot()
  assert.deepEqual(keys(await readRows(store, after)), keys(expected), 'exact key set unchanged')
  assert.ok(after.files().length <= 2, `fewer files: ${after.files().length} live files after, 60+ before`)
  const history = await table.history()
  const optimizeVersions = history.filter((h) => h.operation === 'OPTIMIZE').map((h) => h.version)
  assert.ok(optimizeVersions.length >= 2)
  const lastWrite = Math.max(...history.filter((h) => h.operation === 'WRITE').map((h) => h.version))
  assert.ok(Math.min(...optimizeVersions) < lastWrite, "an OPTIMIZE committed between the worker's appends")
  for (const v of optimizeVersions) {
    const actions = await commitActions(store, v)
    for (const a of actions) {
      const action = (a['add'] ?? a['remove']) as { dataChange?: boolean } | undefined
      if (action)
        assert.equal(action.dataChange, false, `version ${v}: every add/remove has dataChange false`)
    }
  }
  // Time travel: the version before the first OPTIMIZE still reads its 60 small files' rows.
  const old = await table.snapshot({ version: before.version })
  assert.deepEqual(keys(await readRows(store, old)), keys(expected.slice(0, 240)))
  assert.deepEqual((await checkTable(store)).problems, [])

  // delta-rs sees the same files and rows at: before, the first OPTIMIZE, and the latest version.
  const versions = [before.version, Math.min(...optimizeVersions), after.version]
  const theirs = await readWithDeltaRs(dir, versions)
  for (const v of theirs.versions)
    assertSameView(await readWithOurs(store, v.version), v, `version ${v.version}`)
})

test('an OPTIMIZE that loses a file it read to a concurrent OPTIMIZE abandons that partition, cleans up and retries', async () => {
  const inner = new MemoryStore()
  const store = new HookStore(inner)
  const { table } = await smallTable({ store })
  const rival = await DeltaTable.open(inner)
  const expected: Row[] = []
  for (let b = 0; b < 6; b++) {
    const rows = preRows(b, 'bitcoin')
    expected.push(...rows)
    await table.append(rows)
  }
  raceOnce(store, () => optimizeTable(rival, { sortBy: ['ts'] }))
  const r = await optimizeTable(table, { sortBy: ['ts'] })
  assert.equal(r.conflicts, 1, 'the first attempt conflicted with the rival')
  assert.equal(r.partitionsAbandoned, 0)
  const snap = await table.snapshot()
  assert.equal(snap.files().length, 1)
  assert.deepEqual(keys(await readRows(inner, snap)), keys(expected))
  const report = await checkTable(inner)
  assert.deepEqual(report.orphans, [], 'the abandoned attempt deleted the file it had written')
})

test('planOptimize leaves big files and single small files alone and honours the partition predicate', async () => {
  const { table } = await smallTable()
  for (let b = 0; b < 3; b++) await table.append([...preRows(b, 'a'), ...preRows(b, 'b')])
  await table.append(preRows(9, 'c'))
  const snap = await table.snapshot()
  const all = planOptimize(snap)
  assert.deepEqual(
    all.map((p) => p.values['crypto']),
    ['a', 'b'],
  )
  assert.deepEqual(
    planOptimize(snap, { where: parsePartitionPredicate("crypto >= 'b'", snap.partitionColumns) }).map(
      (p) => p.values['crypto'],
    ),
    ['b'],
  )
  const tiny = Math.min(...snap.files().map((f) => f.size))
  assert.deepEqual(
    planOptimize(snap, { targetFileSize: tiny }),
    [],
    'no file is below a target at the smallest size',
  )
  // Bins respect the row cap: 12 rows in 3 files, at most 8 rows per output file → 2 bins (2 files + 1 file → only the first is useful).
  const capped = planOptimize(snap, { maxRowsPerFile: 8 })
  assert.deepEqual(
    capped.map((p) => p.bins.map((b) => b.length)),
    [[2], [2]],
  )
})

test('the partition predicate reads dates across year/month/day columns and refuses unknown columns', () => {
  const p = parsePartitionPredicate("day >= '2024-05-01' AND source = 'sim'", [
    'year',
    'month',
    'day',
    'source',
  ])
  assert.equal(p({ year: '2024', month: '05', day: '01', source: 'sim' }), true)
  assert.equal(p({ year: '2024', month: '04', day: '30', source: 'sim' }), false)
  assert.equal(p({ year: '2024', month: '12', day: '01', source: 'other' }), false)
  assert.equal(
    parsePartitionPredicate("day = '07'", ['year', 'month', 'day'])({ year: '2024', month: '01', day: '07' }),
    true,
  )
  assert.throws(() => parsePartitionPredicate("price > '1'", ['crypto']), /not a partition column/)
  assert.throws(() => parsePartitionPredicate('crypto = bitcoin', ['crypto']), /cannot parse/)
})

test('OPTIMIZE commits several partitions per transaction, up to filesPerCommit removed files', async () => {
  const { table, store } = await smallTable()
  const expected: Row[] = []
  for (let b = 0; b < 3; b++) {
    const rows = [...preRows(b, 'a'), ...preRows(b, 'b'), ...preRows(b, 'c')]
    expected.push(...rows)
    await table.append(rows)
  }
  const r = await optimizeTable(table, { filesPerCommit: 4 })
  assert.equal(r.partitionsCompacted, 3)
  assert.equal(r.versions.length, 2, 'a+b in one commit (6 files ≥ 4), c in the next')
  const first = await commitActions(store, r.versions[0]!)
  assert.equal(first.filter((a) => 'remove' in a).length, 6)
  const snap = await table.snapshot()
  assert.equal(snap.files().length, 3)
  assert.deepEqual(keys(await readRows(store, snap)), keys(expected))
})
