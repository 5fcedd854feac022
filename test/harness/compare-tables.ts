/**
 * Our reader's view of a table version in the same shape as `readWithDeltaRs`, and the assertion
 * that both views agree: schema field names, partition columns, live files with typed partition
 * values, and every row (sorted, canonical). Where delta-rs cannot load a version, we must refuse
 * it too; where delta-rs finds a data file missing, we must report STORAGE_NOT_FOUND.
 */
import assert from 'node:assert/strict'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable } from '../../src/lake/index.ts'
import { readRows, typedPartitionValue } from '../../src/lake/scan.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import {
  canonicalRows,
  canonicalValue,
  sortCanonical,
  type Canonical,
  type DeltaRsFile,
  type DeltaRsVersion,
} from './delta-rs.ts'

export type OurVersion =
  | {
      ok: true
      version: number
      fields: string[]
      partitionColumns: string[]
      files: DeltaRsFile[]
      rows: Canonical[] | null
      rowsError?: { code: string; message: string }
    }
  | { ok: false; version: number; code: string; message: string }

const errorOf = (e: unknown): { code: string; message: string } => ({
  code: isCryptoVizError(e) ? e.code : `not a CryptoVizError (${(e as Error)?.name})`,
  message: (e as Error)?.message ?? String(e),
})

/** Opens the table in `store` and reads `version` (latest when undefined) the way delta-rs is asked to. */
export async function readWithOurs(store: ObjectStore, version?: number): Promise<OurVersion> {
  let table: DeltaTable
  let snap
  try {
    table = await DeltaTable.open(store)
    snap = await table.snapshot(version === undefined ? {} : { version })
  } catch (e) {
    return { ok: false, version: version ?? -1, ...errorOf(e) }
  }
  const fields = snap.schema.fields.map((f) => f.name)
  const partitionFields = snap.schema.fields.filter((f) => snap.partitionColumns.includes(f.name))
  const files = snap.files().map((a) => {
    const partition: Record<string, Canonical> = {}
    for (const f of partitionFields)
      partition[f.name] = canonicalValue(typedPartitionValue(f, a.partitionValues[f.name]))
    return { path: a.path, partition }
  })
  const base = {
    ok: true as const,
    version: snap.version,
    fields,
    partitionColumns: [...snap.partitionColumns],
    files,
  }
  try {
    return { ...base, rows: canonicalRows(await readRows(store, snap), fields) }
  } catch (e) {
    return { ...base, rows: null, rowsError: errorOf(e) }
  }
}

const byPath = (files: readonly DeltaRsFile[]) =>
  [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))

/** Both engines see the same thing at this version (or both refuse it). */
export function assertSameView(ours: OurVersion, theirs: DeltaRsVersion, label: string): void {
  if (!theirs.ok) {
    assert.equal(ours.ok, false, `${label}: delta-rs refuses this version (${theirs.error}) but we read it`)
    if (!ours.ok)
      assert.ok(!ours.code.startsWith('not a'), `${label}: refused with an untyped error: ${ours.message}`)
    return
  }
  assert.ok(
    ours.ok,
    `${label}: delta-rs reads this version but we fail: ${ours.ok ? '' : `${ours.code} ${ours.message}`}`,
  )
  assert.equal(ours.version, theirs.version, `${label}: version`)
  assert.deepEqual(ours.fields, theirs.fields, `${label}: schema field names`)
  assert.deepEqual(ours.partitionColumns, theirs.partitionColumns, `${label}: partition columns`)
  assert.deepEqual(byPath(ours.files), byPath(theirs.files), `${label}: live files and partition values`)
  if (theirs.rows === null) {
    assert.match(
      theirs.rowsError ?? '',
      /NotFound/,
      `${label}: delta-rs failed reading rows: ${theirs.rowsError}`,
    )
    assert.equal(ours.rows, null, `${label}: delta-rs finds a data file missing but we read rows`)
    assert.equal(ours.rowsError?.code, 'STORAGE_NOT_FOUND', `${label}: ${ours.rowsError?.message}`)
    return
  }
  assert.ok(
    ours.rows !== null,
    `${label}: we fail reading rows: ${ours.rowsError?.code} ${ours.rowsError?.message}`,
  )
  assert.deepEqual(ours.rows, sortCanonical(theirs.rows), `${label}: rows`)
}

/** Versions our history lists, ascending. */
export async function ourHistory(store: ObjectStore): Promise<number[]> {
  const table = await DeltaTable.open(store)
  return (await table.history()).map((h) => h.version).sort((a, b) => a - b)
}
