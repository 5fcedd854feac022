/**
 * Log replay: the table state at one version, built by applying a checkpoint's actions and then
 * each later commit in version order.
 *
 * Invariants:
 * - A `TableState` is never mutated once built. Its maps are persistent (immutable.js hash array
 *   mapped tries): `StateBuilder.from` shares the previous state's structure and applies a
 *   commit's actions in O(actions × log files), never copying the file map, so a snapshot an
 *   older reader holds stays exactly what it was (time travel included).
 * - Live files are a `LayeredMap`: a native `Map` base, filled while a builder loads a table
 *   (checkpoint and commits, nothing else can see it yet) and never written once the state is
 *   built, under a persistent overlay of the changes made since (a file added or replaced, or a
 *   base file removed). A fresh load costs a native `Map.set` per file instead of a trie
 *   update; later commits touch only the overlay. When the overlay outgrows half the base the
 *   builder folds both into a new base, so removed files are not held by an old base for long.
 * - Files are keyed by their store path (`add.path` decoded once), so two spellings of one path
 *   are one file. An `add` revives a removed path; a `remove` drops a live one and keeps a
 *   tombstone (its expiry is decided when a checkpoint is written).
 * - Replay only applies versions in strictly increasing, contiguous order.
 */
import { Map as PMap } from 'immutable'
import { CryptoVizError } from '../errors.ts'
import type { Action, AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.ts'
import { heldAdd } from './packed-add.ts'
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

/**
 * A read-only `Map` view over a persistent map: what `TableState` exposes, so callers keep the
 * familiar `get`/`has`/`values()` while states share structure.
 */
export class PersistentMap<V> implements ReadonlyMap<string, V> {
  /** The persistent map itself (never mutated: it was made immutable before being wrapped). */
  readonly inner: PMap<string, V>

  constructor(inner: PMap<string, V>) {
    this.inner = inner
  }

  get size(): number {
    return this.inner.size
  }

  get(key: string): V | undefined {
    return this.inner.get(key)
  }

  has(key: string): boolean {
    return this.inner.has(key)
  }

  keys(): MapIterator<string> {
    return this.inner.keys() as MapIterator<string>
  }

  values(): MapIterator<V> {
    return this.inner.values() as MapIterator<V>
  }

  entries(): MapIterator<[string, V]> {
    return this.inner.entries() as MapIterator<[string, V]>
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.inner.entries()) fn(v, k, this)
  }
}

const persistent = <V>(m: ReadonlyMap<string, V>): PMap<string, V> =>
  m instanceof PersistentMap ? (m.inner as PMap<string, V>) : PMap<string, V>(m)

/** Overlay entry of a base key the state no longer has. */
const REMOVED = Symbol('removed')
type Layer<V> = PMap<string, V | typeof REMOVED>

/**
 * A read-only `Map` of a native base map under a persistent overlay (`REMOVED` hides a base
 * key). Neither is mutated once wrapped. Iteration: base entries the overlay does not touch,
 * then the overlay's.
 */
export class LayeredMap<V> implements ReadonlyMap<string, V> {
  /** The base (a native Map never written again). */
  readonly base: ReadonlyMap<string, V>
  /** Changes over the base (made immutable before being wrapped). */
  readonly overlay: Layer<V>
  readonly size: number

  constructor(base: ReadonlyMap<string, V>, overlay: Layer<V>, size: number) {
    this.base = base
    this.overlay = overlay
    this.size = size
  }

  get(key: string): V | undefined {
    const o = this.overlay.get(key)
    return o === undefined ? this.base.get(key) : o === REMOVED ? undefined : o
  }

  has(key: string): boolean {
    const o = this.overlay.get(key)
    return o === undefined ? this.base.has(key) : o !== REMOVED
  }

  // Without an overlay the base's own iterators (a generator per element would cost more).
  entries(): MapIterator<[string, V]> {
    return this.overlay.size === 0 ? this.base.entries() : this.merged()
  }

  keys(): MapIterator<string> {
    return this.overlay.size === 0 ? this.base.keys() : this.mergedKeys()
  }

  values(): MapIterator<V> {
    return this.overlay.size === 0 ? this.base.values() : this.mergedValues()
  }

  /** Base entries the overlay does not touch, then the overlay's live ones. */
  private *merged(): MapIterator<[string, V]> {
    for (const entry of this.base.entries()) if (!this.overlay.has(entry[0])) yield entry
    for (const [k, v] of this.overlay.entries()) if (v !== REMOVED) yield [k, v]
  }

  private *mergedKeys(): MapIterator<string> {
    for (const [k] of this.merged()) yield k
  }

  private *mergedValues(): MapIterator<V> {
    for (const [, v] of this.merged()) yield v
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this)
  }
}

export class StateBuilder {
  version = -1
  protocol: Protocol | undefined
  metadata: Metadata | undefined
  /** Live files: written straight into `base` while it is this builder's own (until `finish`). */
  private base: Map<string, AddFile>
  private baseOwned: boolean
  /** Mutable (transient) until `finish`: edits touch only the trie paths they change. */
  private overlay: Layer<AddFile>
  /** Live files; while the base is owned (and the overlay empty) that is the base's size. */
  private addCount: number
  private removes: PMap<string, RemoveFile>
  private txns: PMap<string, Txn>
  timestamp = -Infinity
  /** Whether adds are held with their stats packed later (see `empty`). */
  private packStatsLater = false

  private constructor(
    adds: LayeredMap<AddFile>,
    baseOwned: boolean,
    removes: PMap<string, RemoveFile>,
    txns: PMap<string, Txn>,
  ) {
    // The base is only ever written while owned (a fresh builder's own Map).
    this.base = adds.base as Map<string, AddFile>
    this.baseOwned = baseOwned
    this.overlay = adds.overlay.asMutable()
    this.addCount = adds.size
    this.removes = removes.asMutable()
    this.txns = txns.asMutable()
  }

  /**
   * A builder for a fresh load. `packStatsLater`: its adds' stats are packed in the background
   * after the load (packed-add.ts) instead of while it runs: a faster open for a server's first
   * read, at the price of the texts held meanwhile (a batch command keeps the default).
   */
  static empty(packStatsLater = false): StateBuilder {
    const b = new StateBuilder(new LayeredMap(new Map(), PMap(), 0), true, PMap(), PMap())
    b.packStatsLater = packStatsLater
    return b
  }

  /** A builder continuing from `state`; `state` itself is left untouched (structure is shared). */
  static from(state: TableState): StateBuilder {
    const adds =
      state.adds instanceof LayeredMap
        ? (state.adds as LayeredMap<AddFile>)
        : new LayeredMap<AddFile>(new Map(state.adds), PMap(), state.adds.size)
    const b = new StateBuilder(adds, false, persistent(state.removes), persistent(state.txns))
    b.version = state.version
    b.protocol = state.protocol
    b.metadata = state.metadata
    b.timestamp = state.timestamp
    return b
  }

  private hasAdd(key: string): boolean {
    const o = this.overlay.get(key)
    return o === undefined ? this.base.has(key) : o !== REMOVED
  }

  private setAdd(key: string, add: AddFile): void {
    if (this.baseOwned) {
      this.base.set(key, add)
      return
    }
    const o = this.overlay.get(key)
    if (o === undefined ? !this.base.has(key) : o === REMOVED) this.addCount++
    this.overlay = this.overlay.set(key, add)
  }

  private deleteAdd(key: string): void {
    if (this.baseOwned) {
      this.base.delete(key)
      return
    }
    if (!this.hasAdd(key)) return
    this.addCount--
    this.overlay = this.base.has(key) ? this.overlay.set(key, REMOVED) : this.overlay.remove(key)
  }

  /** The live files as a map; folds the overlay into a new base when it outgrows half the base. */
  private finishAdds(): LayeredMap<AddFile> {
    if (!this.baseOwned && this.overlay.size > 0 && this.overlay.size * 2 > this.base.size) {
      const folded = new Map<string, AddFile>()
      for (const [k, v] of new LayeredMap(this.base, this.overlay, this.addCount)) folded.set(k, v)
      this.base = folded
      this.overlay = PMap<string, AddFile | typeof REMOVED>().asMutable()
    }
    // From here on the base is shared with the state: later edits go to the overlay.
    if (this.baseOwned) this.addCount = this.base.size
    this.baseOwned = false
    return new LayeredMap(this.base, this.overlay.asImmutable(), this.addCount)
  }

  /**
   * Applies some of a checkpoint's actions (any order, any split): a checkpoint can be applied
   * row group by row group, then `setCheckpointVersion` marks the result.
   */
  applyRows(actions: readonly Action[]): void {
    this.applyActions(actions)
  }

  /** Marks the state as that of checkpoint `version`, after its rows were applied. */
  setCheckpointVersion(version: number, modified: number): void {
    this.version = version
    this.timestamp = modified
  }

  /** Applies a checkpoint's actions: the state as of `version`, in any action order. */
  applyCheckpoint(actions: readonly Action[], version: number, modified: number): void {
    this.applyActions(actions)
    this.setCheckpointVersion(version, modified)
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
        const add = compactAdd(a.add, this.packStatsLater)
        const key = storeKey(add)
        this.setAdd(key, add)
        if (this.removes.size > 0) this.removes = this.removes.remove(key)
      } else if ('remove' in a) {
        const key = storeKey(a.remove)
        this.deleteAdd(key)
        this.removes = this.removes.set(key, compactRemove(a.remove))
      } else if ('txn' in a) {
        this.txns = this.txns.set(a.txn.appId, a.txn)
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
      adds: this.finishAdds(),
      removes: new PersistentMap(this.removes.asImmutable()),
      txns: new PersistentMap(this.txns.asImmutable()),
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
 * number of partitions), a store key equal to `add.path` reuses that string, and the stats
 * text is packed into numbers (`packed-stats.ts`; regenerated exactly when read).
 *
 * The pool is a trie keyed by each entry's key then value in the map's own order (what
 * `JSON.stringify` of the map would distinguish), so finding a map's shared copy costs a few
 * lookups of strings the checkpoint decoder already holds, not a serialisation per file.
 */
interface PoolNode {
  /** Entries after this one: key → value → node. */
  next: Map<string, Map<string | null, PoolNode>> | undefined
  shared: Readonly<Record<string, string | null>> | undefined
}
const partitionValuesPool: PoolNode = { next: undefined, shared: undefined }
let pooled = 0
const POOL_LIMIT = 1_000_000

/** The map's node in the pool; undefined when absent and `create` is false. */
function poolNode(values: Record<string, string | null>, create: boolean): PoolNode | undefined {
  let node = partitionValuesPool
  for (const key in values) {
    let byValue = node.next?.get(key)
    if (byValue === undefined) {
      if (!create) return undefined
      node.next ??= new Map()
      node.next.set(key, (byValue = new Map()))
    }
    const value = values[key]!
    let child = byValue.get(value)
    if (child === undefined) {
      if (!create) return undefined
      byValue.set(value, (child = { next: undefined, shared: undefined }))
    }
    node = child
  }
  return node
}

function sharedPartitionValues(values: Record<string, string | null>): Record<string, string | null> {
  const found = poolNode(values, false)?.shared
  if (found !== undefined) return found as Record<string, string | null>
  if (pooled >= POOL_LIMIT) return values
  const node = poolNode(values, true)!
  node.shared = Object.freeze({ ...values })
  pooled++
  return node.shared as Record<string, string | null>
}

function compactAdd(add: AddFile, packLater: boolean): AddFile {
  const shared = sharedPartitionValues(add.partitionValues)
  if (packable(add)) return heldAdd(add, shared, add.stats, packLater)
  return shared === add.partitionValues ? add : { ...add, partitionValues: shared }
}

/** The fields an add holds in the state; one with any other (deletion vector, newer fields) is kept whole. */
const ADD_FIELDS = new Set([
  'path',
  'partitionValues',
  'size',
  'modificationTime',
  'dataChange',
  'stats',
  'tags',
])

function packable(add: AddFile): add is AddFile & { stats: string } {
  if (typeof add.stats !== 'string') return false
  for (const k in add) if (!ADD_FIELDS.has(k)) return false
  return true
}

/**
 * A tombstone as the state keeps it: partition values shared like a live file's, and no stats
 * (nothing reads a tombstone's stats and checkpoints leave them out, so after an OPTIMIZE of
 * 100k files they would be the bulk of the state until the retention expires).
 */
function compactRemove(remove: RemoveFile): RemoveFile {
  const values = remove.partitionValues
  const shared = values === undefined || values === null ? values : sharedPartitionValues(values)
  if (shared === values && remove.stats === undefined) return remove
  const { stats: _, ...rest } = remove
  return shared === undefined ? rest : { ...rest, partitionValues: shared }
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
