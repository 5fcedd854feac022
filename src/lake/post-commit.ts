/**
 * Post-commit hooks (the last step of a commit, after `transaction.ts` prepared it and `commit.ts`
 * wrote it): work that follows from a new version but is not part of it.
 *
 * Invariants:
 * - Hooks run on the exact state of the committed version (no re-read of the log).
 * - A hook's failure never fails the commit: it is reported in the result.
 * - Order: checkpoint first (dropping txns past `delta.setTransactionRetentionDuration`); then,
 *   only after a checkpoint was written, log cleanup (log-cleanup.ts: commits and checkpoints
 *   older than `delta.logRetentionDuration`, always keeping the checkpoint the oldest retained
 *   version starts from). A failed cleanup is simply retried at the next checkpoint.
 */
import type { ObjectStore } from '../storage/object-store.ts'
import { writeCheckpoint, type CheckpointState } from './checkpoint.ts'
import { cleanupExpiredLog, unexpiredTxns } from './log-cleanup.ts'
import { tableProperties } from './table-properties.ts'
import type { RemoveFile } from './actions.ts'
import type { TableState } from './table-state.ts'
import type { CheckpointOutcome } from './transaction.ts'

/** What the hooks did after a commit; absent fields mean the hook had nothing to do. */
export interface PostCommitReport {
  /** The checkpoint written (or attempted) at this version, every `delta.checkpointInterval` versions. */
  checkpoint?: CheckpointOutcome
}

export async function runPostCommitHooks(
  store: ObjectStore,
  state: TableState,
  now: () => number,
): Promise<PostCommitReport> {
  const checkpoint = await maybeCheckpoint(store, state, now)
  if (checkpoint?.status === 'written') {
    const { logRetentionMs } = tableProperties(state.metadata)
    await cleanupExpiredLog(store, { now: now(), logRetentionMs }).catch(() => undefined)
  }
  return checkpoint ? { checkpoint } : {}
}

async function maybeCheckpoint(
  store: ObjectStore,
  state: TableState,
  now: () => number,
): Promise<CheckpointOutcome | undefined> {
  const properties = tableProperties(state.metadata)
  const { checkpointInterval, deletedFileRetentionMs } = properties
  if (state.version === 0 || state.version % checkpointInterval !== 0) return undefined
  try {
    const at = now()
    const content = checkpointState(state, at - deletedFileRetentionMs)
    content.txns = unexpiredTxns(content.txns, at, properties.setTransactionRetentionMs)
    await writeCheckpoint(store, content)
    return { status: 'written', version: state.version }
  } catch (error) {
    return { status: 'failed', version: state.version, error }
  }
}

/**
 * The checkpoint content of a state: live files, tombstones deleted after `expiredBefore`, txns.
 * Files and tombstones are lazy views of the (immutable) state, never copied into arrays.
 */
export function checkpointState(state: TableState, expiredBefore: number): CheckpointState {
  return {
    version: state.version,
    protocol: state.protocol,
    metadata: state.metadata,
    adds: { [Symbol.iterator]: () => state.adds.values() },
    removes: { [Symbol.iterator]: () => unexpired(state.removes.values(), expiredBefore) },
    txns: [...state.txns.values()],
  }
}

function* unexpired(removes: Iterable<RemoveFile>, expiredBefore: number): Generator<RemoveFile> {
  for (const r of removes) if ((r.deletionTimestamp ?? 0) > expiredBefore) yield r
}
