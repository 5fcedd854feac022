/**
 * Table history: one entry per retained commit, newest first, built from the commit files
 * themselves (commitInfo plus counts of the add/remove actions). Versions whose JSON was cleaned
 * up are not listed.
 */
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action } from './actions.ts'
import { fileStats, parseStats } from './file-stats.ts'
import { decodeCommit } from './commit-file.ts'
import { adjustedCommitTimes, listLog } from './log-segment.ts'
import { mapLimit } from './log-replay.ts'
import { commitTimestamp } from './table-state.ts'

export interface HistoryEntry {
  version: number
  /** Commit time, ms (strictly increasing across versions). */
  timestamp: number
  operation: string | undefined
  operationParameters: Record<string, unknown>
  readVersion: number | undefined
  isBlindAppend: boolean | undefined
  engineInfo: string | undefined
  filesAdded: number
  filesRemoved: number
  /** Rows in added files (from their stats; files without stats count 0). */
  rowsAdded: number
  /** Rows in removed files, when the removes carry stats. */
  rowsRemoved: number
}

export async function readHistory(store: ObjectStore, o: { limit?: number } = {}): Promise<HistoryEntry[]> {
  const listing = await listLog(store)
  const versions = [...listing.commits.keys()].sort((a, b) => b - a)
  const wanted = o.limit === undefined ? versions : versions.slice(0, Math.max(0, o.limit))
  const decoded = new Map<number, Action[]>()
  await mapLimit(wanted, 16, async (v) => {
    decoded.set(v, decodeCommit(await store.get(listing.commits.get(v)!.path), v))
  })
  // Monotonic adjustment needs every older time too; unread commits use their file time.
  const times = new Map(
    adjustedCommitTimes(listing, (c) => {
      const actions = decoded.get(c.version)
      return (actions && commitTimestamp(actions)) ?? c.modified
    }).map((t) => [t.version, t.timestamp]),
  )
  return wanted.map((version) => entry(version, times.get(version)!, decoded.get(version)!))
}

function entry(version: number, timestamp: number, actions: readonly Action[]): HistoryEntry {
  const e: HistoryEntry = {
    version,
    timestamp,
    operation: undefined,
    operationParameters: {},
    readVersion: undefined,
    isBlindAppend: undefined,
    engineInfo: undefined,
    filesAdded: 0,
    filesRemoved: 0,
    rowsAdded: 0,
    rowsRemoved: 0,
  }
  for (const a of actions) {
    if ('commitInfo' in a) {
      const c = a.commitInfo
      e.operation = typeof c.operation === 'string' ? c.operation : undefined
      e.operationParameters = c.operationParameters ?? {}
      e.readVersion = typeof c.readVersion === 'number' ? c.readVersion : undefined
      e.isBlindAppend = typeof c.isBlindAppend === 'boolean' ? c.isBlindAppend : undefined
      e.engineInfo = typeof c.engineInfo === 'string' ? c.engineInfo : undefined
    } else if ('add' in a) {
      e.filesAdded++
      e.rowsAdded += fileStats(a.add)?.numRecords ?? 0
    } else if ('remove' in a) {
      e.filesRemoved++
      e.rowsRemoved += parseStats(a.remove.stats)?.numRecords ?? 0
    }
  }
  return e
}
