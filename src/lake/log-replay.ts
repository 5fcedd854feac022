/**
 * Loading table state from the store: a full load (list the log, newest usable checkpoint, then
 * JSON commits) and an incremental update (only commits newer than a known state).
 *
 * Invariants:
 * - An unreadable checkpoint is not fatal: loading falls back to the next older checkpoint, or
 *   to version 0, as long as the JSON commits needed are still there.
 * - The reader protocol is checked on the resulting state, so a table that turned on e.g.
 *   deletion vectors is refused even when reached incrementally.
 */
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action } from './actions.ts'
import { readCheckpointBatches, readLastCheckpoint } from './checkpoint.ts'
import { decodeCommit } from './commit-file.ts'
import { commitPath } from './log-paths.ts'
import { adjustedCommitTimes, listLog, segmentFor, type CommitFile, type LogListing } from './log-segment.ts'
import { assertReadable } from './table-features.ts'
import { commitTimestamp, StateBuilder, type TableState } from './table-state.ts'

/** Reads at once when fetching many commit files. */
const READ_CONCURRENCY = 16

export async function readCommit(store: ObjectStore, version: number): Promise<Action[]> {
  return decodeCommit(await store.get(commitPath(version)), version)
}

/** Maps over items with at most `limit` promises in flight, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** How a fresh load holds the live files' stats. */
export interface LoadOptions {
  /** Pack the stats in the background after the load (`StateBuilder.empty`); default false. */
  packStatsLater?: boolean
}

/** The state at `target` (latest when undefined), from a listing of the whole log. */
export async function loadState(
  store: ObjectStore,
  listing: LogListing,
  target?: number,
  o: LoadOptions = {},
): Promise<TableState> {
  let maxCheckpoint = Infinity
  for (;;) {
    const segment = segmentFor(listing, target, maxCheckpoint)
    const builder = StateBuilder.empty(o.packStatsLater)
    if (segment.checkpoint) {
      try {
        // One row group at a time, straight into the state: the decoded checkpoint is never whole.
        for await (const batch of readCheckpointBatches(store, segment.checkpoint)) builder.applyRows(batch)
      } catch (e) {
        if (isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE')) throw e
        // Fall back to an older checkpoint (or none); segmentFor reports if that is impossible.
        maxCheckpoint = segment.checkpoint.version - 1
        continue
      }
      const times = adjustedCommitTimes(listing)
      const seed = times.find((t) => t.version === segment.checkpoint!.version)?.timestamp
      builder.setCheckpointVersion(segment.checkpoint.version, seed ?? segment.checkpoint.modified)
    }
    await applyCommits(store, builder, segment.commits)
    const state = builder.finish()
    assertReadable(state.protocol)
    return state
  }
}

async function applyCommits(
  store: ObjectStore,
  builder: StateBuilder,
  commits: readonly CommitFile[],
): Promise<void> {
  for (let i = 0; i < commits.length; i += READ_CONCURRENCY) {
    const batch = commits.slice(i, i + READ_CONCURRENCY)
    const decoded = await mapLimit(batch, READ_CONCURRENCY, async (c) => ({
      file: c,
      actions: await readCommitFile(store, c),
    }))
    for (const { file, actions } of decoded) {
      builder.applyCommit(actions, file.version, commitTimestamp(actions) ?? file.modified)
    }
  }
}

async function readCommitFile(store: ObjectStore, c: CommitFile): Promise<Action[]> {
  try {
    return decodeCommit(await store.get(c.path), c.version)
  } catch (e) {
    if (isCryptoVizError(e, 'STORAGE_NOT_FOUND')) {
      throw new CryptoVizError('DELTA_LOG_CORRUPT', `commit ${c.version} disappeared while reading the log`, {
        cause: e,
        canRetry: true,
      })
    }
    throw e
  }
}

/**
 * The latest state, reusing `prev` when the commits after it are still in the log: only the
 * newer commits are read. Returns `prev` itself when nothing changed.
 */
export async function updateState(store: ObjectStore, prev: TableState): Promise<TableState> {
  const listing = await listLog(store, { from: prev.version + 1 })
  const commits: CommitFile[] = []
  for (let v = prev.version + 1; v <= listing.latest; v++) {
    const c = listing.commits.get(v)
    // A hole after `prev`: let a full load decide between a cleaned-up log and a damaged one.
    if (!c) return loadState(store, await listLog(store))
    commits.push(c)
  }
  if (commits.length === 0) return prev
  const builder = StateBuilder.from(prev)
  await applyCommits(store, builder, commits)
  const state = builder.finish()
  assertReadable(state.protocol)
  return state
}

/**
 * The latest state, listing the log only from the checkpoint `_last_checkpoint` names (one
 * ranged listing instead of the whole log). The hint is only trusted as far as the listing
 * confirms it: a missing, stale or unreadable checkpoint falls back to listing the whole log.
 */
export async function loadLatestState(store: ObjectStore, o: LoadOptions = {}): Promise<TableState> {
  const hint = await readLastCheckpoint(store)
  if (hint !== undefined && hint.version > 0) {
    const listing = await listLog(store, { from: hint.version })
    if (listing.checkpoints.some((c) => c.version === hint.version)) {
      try {
        return await loadState(store, listing, undefined, o)
      } catch (e) {
        if (isCryptoVizError(e, 'DELTA_UNSUPPORTED_FEATURE')) throw e
        // An unreadable checkpoint needs older log files: fall through to the full listing.
      }
    }
  }
  return loadState(store, await listLog(store), undefined, o)
}
