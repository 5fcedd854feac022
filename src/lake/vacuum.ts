/**
 * VACUUM: deletes data files that no retained version references and that are older than the
 * retention period.
 *
 * Retained versions: every version from the one current at `now - retention` (the state a time
 * travel to the edge of the window sees) up to the latest. Referenced files are the live files
 * of that oldest retained version plus every file added by a later commit; that set is computed
 * by replaying the log, not guessed from tombstone timestamps.
 *
 * Invariants:
 * - Never deletes a file any retained version references, nor anything under a `_` or `.` folder
 *   (the log, change data), nor a file modified inside the retention window (it may belong to a
 *   transaction that has not committed yet).
 * - A retention shorter than the table's `delta.deletedFileRetentionDuration` is refused
 *   (INVALID_ARGUMENT, reason `retention-too-short`) unless forced: a reader or writer in flight may still need files.
 * - A dry run lists exactly what a real run would delete and deletes nothing.
 */
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { DeltaTable } from './delta-table.ts'
import { mapLimit, readCommit } from './log-replay.ts'
import { earliestReconstructable, listLog } from './log-segment.ts'
import { dataFilePath } from './partition-path.ts'
import type { Snapshot } from './snapshot.ts'

export interface VacuumOptions {
  /** Retention in ms; default the table's `delta.deletedFileRetentionDuration` (7 days). */
  retentionMs?: number
  /** List what would be deleted without deleting. */
  dryRun?: boolean
  /** Allow a retention below the table's minimum. */
  force?: boolean
}

export interface VacuumResult {
  /** The oldest version whose files are kept. */
  oldestRetainedVersion: number
  latestVersion: number
  retentionMs: number
  /** Store paths deleted (or, in a dry run, that would be). */
  files: { path: string; size: number }[]
  bytes: number
  dryRun: boolean
}

const DELETE_CONCURRENCY = 16

export async function vacuumTable(table: DeltaTable, o: VacuumOptions = {}): Promise<VacuumResult> {
  const latest = await table.snapshot()
  const minimum = latest.properties.deletedFileRetentionMs
  const retentionMs = o.retentionMs ?? minimum
  if (!(retentionMs >= 0)) {
    throw new CryptoVizError('INVALID_ARGUMENT', `invalid retention ${retentionMs} ms`, { kind: 'user' })
  }
  if (retentionMs < minimum && !o.force) {
    throw new CryptoVizError(
      'INVALID_ARGUMENT',
      `a retention of ${hours(retentionMs)} is below the table's delta.deletedFileRetentionDuration ` +
        `(${hours(minimum)}): readers and writers in flight may still need those files; use --force to override`,
      { kind: 'user', details: { reason: 'retention-too-short', retentionMs, minimumMs: minimum } },
    )
  }
  const cutoff = table.now() - retentionMs
  const oldest = await oldestRetained(table, latest, cutoff)
  const referenced = new Set<string>()
  for (const f of oldest.files()) referenced.add(dataFilePath(f))
  const later = Array.from({ length: latest.version - oldest.version }, (_, i) => oldest.version + 1 + i)
  await mapLimit(later, 16, async (v) => {
    for (const a of await readCommit(table.store, v)) if ('add' in a) referenced.add(dataFilePath(a.add))
  })
  // Files added after the listing below started are newer than the cutoff, so they are safe too.
  const files = (await table.store.list(''))
    .filter((m) => isDataPath(m.path) && !referenced.has(m.path) && m.modified < cutoff)
    .map((m) => ({ path: m.path, size: m.size }))
  if (!o.dryRun) await mapLimit(files, DELETE_CONCURRENCY, (f) => deleteQuietly(table.store, f.path))
  return {
    oldestRetainedVersion: oldest.version,
    latestVersion: latest.version,
    retentionMs,
    files,
    bytes: files.reduce((s, f) => s + f.size, 0),
    dryRun: o.dryRun === true,
  }
}

/** The version current at `cutoff`, or the earliest reconstructable one if the log starts later. */
async function oldestRetained(table: DeltaTable, latest: Snapshot, cutoff: number): Promise<Snapshot> {
  if (latest.timestamp <= cutoff) return latest
  try {
    return await table.snapshot({ timestamp: cutoff })
  } catch (e) {
    if (!isCryptoVizError(e, 'DELTA_VERSION_NOT_FOUND')) throw e
  }
  // Every listed commit is younger than the cutoff: keep everything reconstructable.
  const earliest = earliestReconstructable(await listLog(table.store))
  return earliest === undefined ? latest : table.snapshot({ version: earliest })
}

/** Data files live outside `_`/`.` folders (partition folders `k=v` count as data even if v starts with `_`). */
export function isDataPath(path: string): boolean {
  const parts = path.split('/')
  return parts.every((p, i) => {
    if (p.startsWith('.')) return false
    if (p.startsWith('_')) return i < parts.length - 1 && p.includes('=')
    return true
  })
}

async function deleteQuietly(store: ObjectStore, path: string): Promise<void> {
  try {
    await store.delete(path)
  } catch (e) {
    if (!isCryptoVizError(e, 'STORAGE_NOT_FOUND')) throw e
  }
}

const hours = (ms: number): string => `${Math.round((ms / 3_600_000) * 100) / 100}h`
