/**
 * Log replay: the table state at one version, built by applying a checkpoint's actions and then
 * each later commit in version order.
 *
 * Invariants:
 * - A `TableState` is never mutated once built; `StateBuilder.from` copies before applying more.
 * - Files are keyed by their store path (`add.path` decoded once), so two spellings of one path
 *   are one file. An `add` revives a removed path; a `remove` drops a live one and keeps a
 *   tombstone (its expiry is decided when a checkpoint is written).
 * - Replay only applies versions in strictly increasing, contiguous order.
 */
import { CryptoVizError } from '../errors.ts'
import type { Action, AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.ts'
import { dataFilePath } from './partition-path.ts'

export interface TableState {
  readonly version: number
  readonly protocol: Protocol
  readonly metadata: Metadata
  /** Live files by store path. */
  readonly adds: ReadonlyMap<string, AddFile>
  /** Tombstones by store path. */
  readonly removes: ReadonlyMap<string, RemoveFile>
  readonly txns: ReadonlyMap<string, Txn>
  /** Commit time of `version` in ms, made strictly greater than the previous commit's. */
  readonly timestamp: number
}

export class StateBuilder {
  version = -1
  protocol: Protocol | undefined
  metadata: Metadata | undefined
  readonly adds: Map<string, AddFile>
  readonly removes: Map<string, RemoveFile>
  readonly txns: Map<string, Txn>
  timestamp = -Infinity

  private constructor(adds: Map<string, AddFile>, removes: Map<string, RemoveFile>, txns: Map<string, Txn>) {
    this.adds = adds
    this.removes = removes
    this.txns = txns
  }

  static empty(): StateBuilder {
    return new StateBuilder(new Map(), new Map(), new Map())
  }

  static from(state: TableState): StateBuilder {
    const b = new StateBuilder(new Map(state.adds), new Map(state.removes), new Map(state.txns))
    b.version = state.version
    b.protocol = state.protocol
    b.metadata = state.metadata
    b.timestamp = state.timestamp
    return b
  }

  /** Applies a checkpoint's actions: the state as of `version`, in any action order. */
  applyCheckpoint(actions: readonly Action[], version: number, modified: number): void {
    this.applyActions(actions)
    this.version = version
    this.timestamp = modified
  }

  /**
   * Applies one commit. `rawTime` is the commit's time before monotonic adjustment (its
   * inCommitTimestamp if it has one, else the file modification time).
   */
  applyCommit(actions: readonly Action[], version: number, rawTime: number): void {
    if (version !== this.version + 1) {
      throw new CryptoVizError(
        'DELTA_LOG_CORRUPT',
        `log replay expected version ${this.version + 1}, got ${version}`,
      )
    }
    this.applyActions(actions)
    this.version = version
    this.timestamp = rawTime > this.timestamp ? rawTime : this.timestamp + 1
  }

  private applyActions(actions: readonly Action[]): void {
    for (const a of actions) {
      if ('add' in a) {
        const add = compactAdd(a.add)
        const key = storeKey(add)
        this.adds.set(key, add)
        this.removes.delete(key)
      } else if ('remove' in a) {
        const key = storeKey(a.remove)
        this.adds.delete(key)
        this.removes.set(key, a.remove)
      } else if ('txn' in a) {
        this.txns.set(a.txn.appId, a.txn)
      } else if ('metaData' in a) {
        this.metadata = a.metaData
      } else if ('protocol' in a) {
        this.protocol = a.protocol
      }
    }
  }

  finish(): TableState {
    if (!this.protocol || !this.metadata) {
      throw new CryptoVizError(
        'DELTA_LOG_CORRUPT',
        `the log up to version ${this.version} has no ${this.protocol ? 'metaData' : 'protocol'} action`,
      )
    }
    return {
      version: this.version,
      protocol: this.protocol,
      metadata: this.metadata,
      adds: this.adds,
      removes: this.removes,
      txns: this.txns,
      timestamp: this.timestamp,
    }
  }
}

/**
 * The commit's time as the writer recorded it: `inCommitTimestamp` when present, else
 * `commitInfo.timestamp`. Undefined when the commit carries neither (some writers omit
 * commitInfo); callers then fall back to the file's listed modification time. Reading it from the
 * commit costs nothing extra (the commit is read anyway) where a HEAD per commit would cost a
 * request, and S3's LastModified has only one-second precision.
 */
export function commitTimestamp(actions: readonly Action[]): number | undefined {
  for (const a of actions) {
    if (!('commitInfo' in a)) continue
    const { inCommitTimestamp, timestamp } = a.commitInfo
    if (typeof inCommitTimestamp === 'number') return inCommitTimestamp
    if (typeof timestamp === 'number') return timestamp
  }
  return undefined
}

/**
 * Live-file memory: a table of 100k streaming files repeats the same few partition-value maps
 * over and over, and most paths need no URI decoding. Equal partition-value maps are shared (one
 * frozen object per distinct partition, interned for the life of the process, bounded by the
 * number of partitions), and a store key equal to `add.path` reuses that string.
 */
const partitionValuesPool = new Map<string, Readonly<Record<string, string | null>>>()
const POOL_LIMIT = 1_000_000

function compactAdd(add: AddFile): AddFile {
  const values = add.partitionValues
  const id = JSON.stringify(values)
  let shared = partitionValuesPool.get(id)
  if (!shared) {
    if (partitionValuesPool.size >= POOL_LIMIT) return add
    shared = Object.freeze({ ...values })
    partitionValuesPool.set(id, shared)
  }
  if (shared === values) return add
  return { ...add, partitionValues: shared as Record<string, string | null> }
}

/** The store path of an action, reusing `path` itself when it needs no decoding. */
const storeKey = (action: Pick<AddFile | RemoveFile, 'path'>): string =>
  action.path.includes('%') ? dataFilePath(action) : action.path

/** The commit's inCommitTimestamp, if it carries one. */
export function inCommitTimestamp(actions: readonly Action[]): number | undefined {
  for (const a of actions) {
    if ('commitInfo' in a && typeof a.commitInfo.inCommitTimestamp === 'number')
      return a.commitInfo.inCommitTimestamp
  }
  return undefined
}
