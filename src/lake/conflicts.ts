/**
 * Optimistic-concurrency conflict rules: after losing the race for a version, decide from the
 * winning commit whether our transaction is still valid at the next version.
 *
 * Rules (PROTOCOL.md, Spark's ConflictChecker, simplified to what this lake commits):
 * - A winner that changed `protocol` or `metaData` conflicts with everyone.
 * - A winner that recorded a `txn` for an appId we also record conflicts; the caller turns it
 *   into "already committed" when the winner's version is at least ours.
 * - A winner that removed a file we read or also remove conflicts (concurrent delete).
 * - A winner that added data files in partitions we read conflicts, unless we are a blind
 *   append or only rearrange data (every action `dataChange: false`, as compaction does).
 * - Blind appends never conflict with each other.
 */
import type { Action, AddFile } from './actions.ts'
import { dataFilePath } from './partition-path.ts'

export type ConflictReason = 'protocol-changed' | 'metadata-changed' | 'txn' | 'file-removed' | 'files-added'

export interface Conflict {
  reason: ConflictReason
  message: string
  /** For `txn`: the version the winner recorded for our appId. */
  txnVersion?: number
  appId?: string
}

export interface TransactionFootprint {
  /** appId → version of the txn markers we write. */
  txns: ReadonlyMap<string, number>
  /** Store paths we read (and depend on still being live). */
  readFiles: ReadonlySet<string>
  /** Store paths we remove. */
  removes: ReadonlySet<string>
  isBlindAppend: boolean
  /** Every add/remove of ours has dataChange false. */
  rearrangeOnly: boolean
  /** Partitions whose contents we read: 'all', or values per partition column. */
  readPartitions: 'all' | Record<string, readonly (string | null)[]> | undefined
}

export function findConflict(
  ours: TransactionFootprint,
  winner: readonly Action[],
  winnerVersion: number,
): Conflict | undefined {
  for (const a of winner) {
    if ('protocol' in a) {
      return { reason: 'protocol-changed', message: `version ${winnerVersion} changed the table protocol` }
    }
    if ('metaData' in a) {
      return { reason: 'metadata-changed', message: `version ${winnerVersion} changed the table metadata` }
    }
    if ('txn' in a && ours.txns.has(a.txn.appId)) {
      return {
        reason: 'txn',
        message: `version ${winnerVersion} recorded txn ${a.txn.appId}@${a.txn.version}`,
        txnVersion: a.txn.version,
        appId: a.txn.appId,
      }
    }
    if ('remove' in a) {
      const path = dataFilePath(a.remove)
      if (ours.readFiles.has(path) || ours.removes.has(path)) {
        return {
          reason: 'file-removed',
          message: `version ${winnerVersion} removed ${path}, which this commit read`,
        }
      }
    }
    if ('add' in a && a.add.dataChange && !ours.isBlindAppend && !ours.rearrangeOnly) {
      if (inReadPartitions(a.add, ours.readPartitions)) {
        return {
          reason: 'files-added',
          message: `version ${winnerVersion} added ${dataFilePath(a.add)} in a partition this commit read`,
        }
      }
    }
  }
  return undefined
}

function inReadPartitions(add: AddFile, read: TransactionFootprint['readPartitions']): boolean {
  if (read === undefined) return false
  if (read === 'all') return true
  for (const [col, values] of Object.entries(read)) {
    const v = add.partitionValues[col]
    const norm = v === undefined || v === '' ? null : v
    if (!values.some((x) => (x === '' ? null : x) === norm)) return false
  }
  return true
}
