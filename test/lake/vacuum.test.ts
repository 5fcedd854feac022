import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CryptoVizError } from '../../src/errors.ts'
import { isCryptoVizError } from '../../src/errors.ts'
import { dataFilePath, type Row } from '../../src/lake/index.ts'
import { optimizeTable } from '../../src/lake/optimize.ts'
import { isDataPath, vacuumTable } from '../../src/lake/vacuum.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { Clock, smallTable, T0 } from './lake-fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

test('VACUUM never deletes a file a retained version references, and deletes every other old file (random histories)', async () => {
  let deleted = 0
  let vacuums = 0
  for (let seed = 1; seed <= 12; seed++) {
    const random = mulberry32(seed)
    const clock = new Clock()
    const { table, store } = await smallTable({
      clock,
      configuration: { 'delta.checkpointInterval': '4', 'delta.logRetentionDuration': '20 days' },
    })
    /** Live file paths and commit time of every version, recorded as the history is made. */
    const versions = new Map<number, { time: number; files: string[] }>()
    const record = async (): Promise<void> => {
      const s = await table.snapshot()
      versions.set(s.version, { time: s.timestamp, files: s.files().map(dataFilePath) })
    }
    await record()
    let rowId = 0
    // A version that fell out of an earlier vacuum's window (a shorter, forced retention) is gone for good.
    let floor = 0
    for (let step = 0; step < 40; step++) {
      const op = random()
      if (op < 0.55) {
        const crypto = ['a', 'b', 'c'][Math.floor(random() * 3)]!
        const rows: Row[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
          ts: T0 + rowId++ * 1000,
          crypto,
          price: rowId,
          note: null,
        }))
        await table.append(rows)
        await record()
      } else if (op < 0.75) {
        const r = await optimizeTable(table)
        for (const v of r.versions) {
          const s = await table.snapshot({ version: v })
          versions.set(v, { time: s.timestamp, files: s.files().map(dataFilePath) })
        }
      } else if (op < 0.92) {
        clock.t += Math.floor(random() * 3 * DAY)
      } else {
        const forced = random() < 0.5
        const retentionMs = forced ? Math.floor(random() * 7 * DAY) : 7 * DAY + Math.floor(random() * 3 * DAY)
        const before = new Set((await store.list('')).map((m) => m.path))
        const r = await vacuumTable(table, { retentionMs, force: forced })
        const cutoff = clock.t - retentionMs
        deleted += r.files.length
        vacuums++
        const present = new Set((await store.list('')).map((m) => m.path))
        // Retained versions: from the one current at the cutoff (or the earliest still readable) on.
        let edge = floor
        for (const [v, info] of versions) if (info.time <= cutoff && v > edge) edge = v
        floor = Math.max(edge, r.oldestRetainedVersion)
        const needed = new Set<string>()
        for (const [v, info] of versions) {
          if (v < edge || v < r.oldestRetainedVersion) continue
          for (const f of info.files) {
            assert.ok(
              present.has(f),
              `seed ${seed} step ${step}: version ${v} needs ${f}, which vacuum deleted`,
            )
            needed.add(f)
          }
        }
        for (const p of before) {
          if (!present.has(p)) continue
          if (!isDataPath(p) || needed.has(p)) continue
          const meta = await store.head(p)
          assert.ok(
            meta!.modified >= cutoff,
            `seed ${seed} step ${step}: ${p} is old and unreferenced by retained versions but was kept`,
          )
        }
        for (const f of r.files) assert.ok(!present.has(f.path))
        // Every retained version still reads.
        for (const [v] of versions)
          if (v >= Math.max(edge, r.oldestRetainedVersion)) await table.snapshot({ version: v })
      }
    }
  }
  assert.ok(
    vacuums >= 12 && deleted >= 20,
    `the histories exercised vacuum (${vacuums} runs, ${deleted} files deleted)`,
  )
})

test('VACUUM refuses a retention below the table minimum unless forced, and a dry run lists without deleting', async () => {
  const clock = new Clock()
  const { table, store } = await smallTable({ clock })
  for (let b = 0; b < 3; b++) await table.append([{ ts: T0 + b, crypto: 'a', price: b, note: null }])
  await optimizeTable(table)
  clock.t += 2 * HOUR
  await assert.rejects(
    vacuumTable(table, { retentionMs: HOUR }),
    (e: unknown) =>
      isCryptoVizError(e, 'INVALID_ARGUMENT') &&
      (e as CryptoVizError).details?.['reason'] === 'retention-too-short',
  )
  const dry = await vacuumTable(table, { retentionMs: HOUR, force: true, dryRun: true })
  assert.equal(dry.files.length, 3, 'the three compacted small files')
  for (const f of dry.files) assert.ok(await store.head(f.path), 'a dry run deletes nothing')
  const real = await vacuumTable(table, { retentionMs: HOUR, force: true })
  assert.deepEqual(real.files.map((f) => f.path).sort(), dry.files.map((f) => f.path).sort())
  for (const f of real.files) assert.equal(await store.head(f.path), undefined)
  // The default retention (7 days) keeps them while the OPTIMIZE is younger than that.
  const { table: t2 } = await smallTable({ clock: new Clock() })
  for (let b = 0; b < 3; b++) await t2.append([{ ts: T0 + b, crypto: 'a', price: b, note: null }])
  await optimizeTable(t2)
  assert.equal((await vacuumTable(t2)).files.length, 0)
})

test('isDataPath excludes the log and hidden folders but keeps partition folders', () => {
  assert.equal(isDataPath('_delta_log/00000000000000000000.json'), false)
  assert.equal(isDataPath('.tmp/x.parquet'), false)
  assert.equal(isDataPath('crypto=a/part-0.parquet'), true)
  assert.equal(isDataPath('_x=1/part-0.parquet'), true)
  assert.equal(isDataPath('part-0.parquet'), true)
})
