/**
 * Post-commit hooks (the last step of a commit, after `transaction.ts` prepared it and `commit.ts`
 * wrote it): work that follows from a new version but is not part of it.
 *
 * Invariants:
 * - Hooks run on the exact state of the committed version (no re-read of the log).
 * - A hook's failure never fails the commit: it is reported in the result.
 * - Order: checkpoint first; log cleanup (removing commits and checkpoints older than the log
 *   retention, which needs a checkpoint to start from) is the next hook, to be added here.
 */
import type { ObjectStore } from '../storage/object-store.ts'
import { writeCheckpoint, type CheckpointState } from './checkpoint.ts'
import { tableProperties } from './table-properties.ts'
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
  // Log cleanup hook goes here (after the checkpoint it would start from).
  return checkpoint ? { checkpoint } : {}
}

async function maybeCheckpoint(
  store: ObjectStore,
  state: TableState,
  now: () => number,
): Promise<CheckpointOutcome | undefined> {
  const { checkpointInterval, deletedFileRetentionMs } = tableProperties(state.metadata)
  if (state.version === 0 || state.version % checkpointInterval !== 0) return undefined
  try {
    await writeCheckpoint(store, checkpointState(state, now() - deletedFileRetentionMs))
    return { status: 'written', version: state.version }
  } catch (error) {
    return { status: 'failed', version: state.version, error }
  }
}

/** The checkpoint content of a state: live files, tombstones deleted after `expiredBefore`, txns. */
export function checkpointState(state: TableState, expiredBefore: number): CheckpointState {
  return {
    version: state.version,
    protocol: state.protocol,
    metadata: state.metadata,
    adds: [...state.adds.values()],
    removes: [...state.removes.values()].filter((r) => (r.deletionTimestamp ?? 0) > expiredBefore),
    txns: [...state.txns.values()],
  }
}
