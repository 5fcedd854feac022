/**
 * Log cleanup and txn expiry, run after a checkpoint is written (PROTOCOL.md "Metadata
 * Cleanup" and "Transaction Identifiers").
 *
 * Log cleanup: with `cutoff = now - delta.logRetentionDuration`, let E be the version current at
 * the cutoff (the latest commit at or before it) and C the newest checkpoint at or below E.
 * Commits and checkpoints older than C are deleted; C and everything after it stay. So every
 * version from E on — every time travel target inside the window — can still be rebuilt from C
 * plus contiguous commits, and a time travel to the window's edge still finds E.
 *
 * Invariants:
 * - Nothing is deleted unless a complete checkpoint at or below E exists.
 * - Never deletes C, anything newer than C, or `_last_checkpoint`.
 * - Oldest files are deleted first, so a crash half way still leaves a contiguous log after C.
 *
 * Txn expiry: a checkpoint leaves out `txn` markers whose `lastUpdated` is older than
 * `delta.setTransactionRetentionDuration` (no expiry when the property is unset).
 */
import type { ObjectStore } from '../storage/object-store.ts'
import type { Txn } from './actions.ts'
import { readCommit } from './log-replay.ts'
import { listLog, monotonicCommitTime } from './log-segment.ts'
import { commitTimestamp } from './table-state.ts'

export interface LogCleanupResult {
  /** The checkpoint kept as the log's new start; undefined when nothing could be cleaned. */
  keptCheckpoint: number | undefined
  deletedCommits: number
  deletedCheckpoints: number
}

export async function cleanupExpiredLog(
  store: ObjectStore,
  o: { now: number; logRetentionMs: number },
): Promise<LogCleanupResult> {
  const none: LogCleanupResult = { keptCheckpoint: undefined, deletedCommits: 0, deletedCheckpoints: 0 }
  const listing = await listLog(store)
  const cutoff = o.now - o.logRetentionMs
  const edge = await versionAt(store, listing.commits, cutoff)
  if (edge === undefined) return none
  const keep = listing.checkpoints.find((c) => c.version <= edge)
  if (!keep) return none
  const commits = [...listing.commits.keys()].filter((v) => v < keep.version).sort((a, b) => a - b)
  const checkpoints = listing.checkpoints.filter((c) => c.version < keep.version).reverse()
  // Checkpoints first would leave commits unreachable only below C, which is gone anyway; commits
  // oldest first keep the remaining log contiguous if we stop half way.
  for (const v of commits) await store.delete(listing.commits.get(v)!.path)
  for (const c of checkpoints) for (const p of c.paths) await store.delete(p)
  return {
    keptCheckpoint: keep.version,
    deletedCommits: commits.length,
    deletedCheckpoints: checkpoints.length,
  }
}

/**
 * The latest version committed at or before `cutoff`, by the same commit times time travel uses
 * (the commit's own timestamp, else the file's modification time, made strictly increasing).
 * Walks from the oldest commit and stops at the first one past the cutoff, so a run reads only
 * the commits about to expire plus one (cleanup runs at every checkpoint).
 */
async function versionAt(
  store: ObjectStore,
  commits: ReadonlyMap<number, { modified: number }>,
  cutoff: number,
): Promise<number | undefined> {
  let edge: number | undefined
  let previous = -Infinity
  for (const v of [...commits.keys()].sort((a, b) => a - b)) {
    const raw = commitTimestamp(await readCommit(store, v)) ?? commits.get(v)!.modified
    previous = monotonicCommitTime(previous, raw)
    if (previous > cutoff) break
    edge = v
  }
  return edge
}

/** The txn markers a checkpoint keeps: all, or those updated within the retention. */
export function unexpiredTxns(txns: Iterable<Txn>, now: number, retentionMs: number | undefined): Txn[] {
  const all = [...txns]
  if (retentionMs === undefined) return all
  return all.filter((t) => t.lastUpdated == null || t.lastUpdated >= now - retentionMs)
}
