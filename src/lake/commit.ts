/**
 * The commit protocol: write `_delta_log/%020d.json` with put-if-absent; on losing the race read
 * the winning commits, apply the conflict rules and try the next version, a bounded number of
 * times.
 *
 * Invariants:
 * - A commit file is created whole or not at all (the store's put-if-absent contract) and is
 *   never overwritten: the table's history only grows.
 * - Data files are written before the commit that references them, so a reader never sees an
 *   `add` whose file is not there yet; a crash in between leaves orphans, not a broken table.
 * - The returned state is exactly the state at the committed version (winners applied, then our
 *   actions), so the caller can checkpoint it without re-reading the log.
 */
import { isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, CommitInfo } from './actions.ts'
import { encodeCommit } from './commit-file.ts'
import { findConflict, type Conflict, type TransactionFootprint } from './conflicts.ts'
import { commitPath } from './log-paths.ts'
import { readCommit } from './log-replay.ts'
import { commitTimestamp, StateBuilder, type TableState } from './table-state.ts'

export interface CommitRequest {
  store: ObjectStore
  /** State the actions were computed against (the read version). */
  base: TableState
  /** Actions without `commitInfo`. */
  actions: readonly Action[]
  /** commitInfo fields; `timestamp` and `readVersion` are filled in per attempt. */
  commitInfo: CommitInfo
  footprint: TransactionFootprint
  maxRetries: number
  now: () => number
}

export type CommitOutcome =
  | { status: 'committed'; version: number; attempts: number; state: TableState }
  | { status: 'conflict'; conflict: Conflict; winningVersion: number; attempts: number; state: TableState }
  | { status: 'retries-exhausted'; attempts: number; state: TableState }

/** Orders a commit's actions the way Spark writes them: commitInfo, protocol, metaData, txn, removes, adds. */
function ordered(commitInfo: CommitInfo, actions: readonly Action[]): Action[] {
  const rank = (a: Action): number =>
    'protocol' in a ? 1 : 'metaData' in a ? 2 : 'txn' in a ? 3 : 'remove' in a ? 4 : 'add' in a ? 5 : 6
  return [{ commitInfo }, ...[...actions].sort((a, b) => rank(a) - rank(b))]
}

export async function commitWithRetries(req: CommitRequest): Promise<CommitOutcome> {
  const { store, footprint } = req
  let state = req.base
  let version = state.version + 1
  for (let attempt = 1; ; attempt++) {
    const commitInfo: CommitInfo = { timestamp: req.now(), ...req.commitInfo, readVersion: req.base.version }
    const actions = ordered(commitInfo, req.actions)
    const path = commitPath(version)
    if ((await store.putIfAbsent(path, encodeCommit(actions))) === 'created') {
      const b = StateBuilder.from(state)
      b.applyCommit(actions, version, commitTimestamp(actions) ?? commitInfo.timestamp!)
      return { status: 'committed', version, attempts: attempt, state: b.finish() }
    }
    // Lost the race: bring the state up to date with every winner, checking each for conflicts.
    const b = StateBuilder.from(state)
    for (;;) {
      let winner: Action[]
      try {
        winner = await readCommit(store, version)
      } catch (e) {
        if (isCryptoVizError(e, 'STORAGE_NOT_FOUND')) break
        throw e
      }
      const conflict = findConflict(footprint, winner, version)
      b.applyCommit(winner, version, commitTimestamp(winner) ?? req.now())
      if (conflict)
        return { status: 'conflict', conflict, winningVersion: version, attempts: attempt, state: b.finish() }
      version++
    }
    state = b.finish()
    if (attempt > req.maxRetries) return { status: 'retries-exhausted', attempts: attempt, state }
  }
}
