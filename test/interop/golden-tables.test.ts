/**
 * Every golden table written by Spark or delta-rs (see the fixtures' README): our reader agrees
 * with delta-rs at every version delta-rs lists, or refuses a reader feature we do not implement
 * with DELTA_UNSUPPORTED_FEATURE naming it. One Python process per table.
 */
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DeltaTable } from '../../src/lake/index.ts'
import { isCryptoVizError } from '../../src/errors.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { assertSameView, ourHistory, readWithOurs } from '../harness/compare-tables.ts'
import { readWithDeltaRs } from '../harness/delta-rs.ts'
import { GOLDEN_MISSING, goldenDir } from '../harness/golden.ts'

type Expectation =
  | {
      read: true
      /** Only the log is shipped: reading rows must fail with STORAGE_NOT_FOUND, as in delta-rs. */
      logOnly?: boolean
      /** Versions whose commits were cleaned up: time travel must fail with DELTA_VERSION_NOT_FOUND. */
      goneVersions?: number[]
    }
  | { refuse: string }
  | { skip: string }

const CATALOGUE: Record<string, Expectation> = {
  simple_table: { read: true },
  simple_commit: { read: true },
  'delta-0.8.0': { read: true },
  'delta-0.8-empty': { read: true },
  'delta-0.8.0-partitioned': { read: true },
  'partition-type-primitives': { read: true },
  'delta-2.2.0-partitioned-types': { read: true },
  'delta-0.8.0-numeric-partition': { read: true },
  'delta-0.8.0-date': { read: true },
  'delta-0.8.0-special-partition': { read: true },
  'delta-0.8.0-null-partition': { read: true },
  checkpoints: { read: true, logOnly: true },
  checkpoint_with_partitions: { read: true, logOnly: true, goneVersions: [0] },
  simple_table_with_checkpoint: { read: true },
  'python-0.25.5-checkpoint': { read: true },
  checkpoints_tombstones: {
    skip: 'the fixture folder is empty (delta-rs generates this table in its own tests)',
  },
  checkpoints_vacuumed: { read: true, logOnly: true, goneVersions: [0, 4] },
  with_checkpoint_no_last_checkpoint: { read: true, logOnly: true },
  latest_not_checkpointed: { read: true, logOnly: true },
  table_failed_last_checkpoint_update: { read: true },
  'delta-stats-optional': { read: true },
  'delta-checkpoint-stats-optional': { read: true },
  'delta-1.2.1-only-struct-stats': { read: true },
  table_with_edge_timestamps: { read: true },
  concurrent_workers: { read: true },
  issue_1374: { read: true },
  table_with_column_mapping: { refuse: 'columnMapping' },
  'table-with-dv-small': { refuse: 'deletionVectors' },
  'checkpoint-v2-table': { refuse: 'v2Checkpoint' },
  'table-without-dv-small': { read: true },
}

const golden = goldenDir()

if (golden === undefined) {
  test('golden Delta tables agree with delta-rs', (t) => t.skip(GOLDEN_MISSING))
} else {
  test('the catalogue names every golden table', () => {
    const folders = readdirSync(golden).filter((n) => statSync(join(golden, n)).isDirectory())
    assert.deepEqual(folders.sort(), Object.keys(CATALOGUE).sort())
  })

  for (const [name, expect] of Object.entries(CATALOGUE)) {
    const dir = join(golden, name)
    const store = new LocalStore(dir)
    if ('skip' in expect) {
      test(`golden ${name}: skipped`, (t) => t.skip(expect.skip))
    } else if ('refuse' in expect) {
      test(`golden ${name}: refused, naming ${expect.refuse}`, async () => {
        const refused = (e: unknown) =>
          isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE') && (e as Error).message.includes(expect.refuse)
        await assert.rejects(DeltaTable.open(store), refused)
        // Older versions carry the same feature, so time travel is refused too.
        const theirs = await readWithDeltaRs(dir, [])
        for (const v of theirs.history) {
          const ours = await readWithOurs(store, v)
          assert.equal(ours.ok, false, `version ${v}`)
          if (!ours.ok)
            assert.ok(
              ours.code === 'DELTA_UNSUPPORTED_FEATURE' && ours.message.includes(expect.refuse),
              ours.message,
            )
        }
      })
    } else {
      test(`golden ${name}: same history, schema, files and rows as delta-rs at every version`, async () => {
        const gone = expect.goneVersions ?? []
        const theirs = await readWithDeltaRs(dir, undefined)
        assert.deepEqual(await ourHistory(store), theirs.history, 'version history')
        assert.ok(theirs.versions.length > 0)
        for (const v of theirs.versions)
          assertSameView(await readWithOurs(store, v.version), v, `${name}@${v.version}`)
        const latest = await readWithOurs(store)
        assert.ok(latest.ok && latest.version === theirs.latest, `latest is ${theirs.latest}`)
        if (expect.logOnly) {
          const last = theirs.versions.at(-1)
          assert.ok(last?.ok && last.rows === null, 'delta-rs also lacks the data files')
          assert.equal(latest.rows, null)
        } else {
          assert.ok(latest.rows !== null)
        }
        for (const v of gone) {
          const ours = await readWithOurs(store, v)
          assert.ok(
            !ours.ok && ours.code === 'DELTA_VERSION_NOT_FOUND',
            `version ${v}: ${JSON.stringify(ours).slice(0, 300)}`,
          )
        }
      })
    }
  }
}
