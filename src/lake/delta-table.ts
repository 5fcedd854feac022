/**
 * A Delta table in an `ObjectStore` rooted at the table folder: create/open, snapshots (latest,
 * by version, by timestamp), appends, general commits (removes + adds, for compaction) and
 * history.
 *
 * Invariants:
 * - The lake does no I/O of its own beyond the store it is handed; it knows nothing of the bus,
 *   HTTP or UI.
 * - `snapshot()` is cheap when nothing changed: the latest state is kept and only newer commits
 *   are read. A cached snapshot is only ever replaced by a newer one.
 * - Writers refuse protocols they do not implement (writer version > 2, invariants), honour
 *   `delta.appendOnly` and never overwrite a commit.
 * - A failed checkpoint never fails the commit that triggered it; it is reported in the result.
 */
import { randomUUID } from 'node:crypto'
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, AddFile, CommitInfo, Metadata, Protocol, RemoveFile } from './actions.ts'
import { appendRows, type AppendOptions, type AppendResult } from './append.ts'
import { writeCheckpoint, type CheckpointState } from './checkpoint.ts'
import { encodeCommit } from './commit-file.ts'
import { commitWithRetries, ENGINE_INFO } from './commit.ts'
import type { ConflictReason, TransactionFootprint } from './conflicts.ts'
import type { Row } from './data-files.ts'
import { readHistory, type HistoryEntry } from './history.ts'
import { cleanupExpiredLog, unexpiredTxns } from './log-cleanup.ts'
import { commitPath } from './log-paths.ts'
import { loadState, mapLimit, readCommit, updateState } from './log-replay.ts'
import { adjustedCommitTimes, listLog } from './log-segment.ts'
import { dataFilePath } from './partition-path.ts'
import type { StructType } from './schema.ts'
import { parseSchemaString, schemaToString, typeName } from './schema-json.ts'
import { Snapshot } from './snapshot.ts'
import { assertWritable, READER_VERSION, WRITER_VERSION } from './table-features.ts'
import { tableProperties } from './table-properties.ts'
import { inCommitTimestamp, StateBuilder, type TableState } from './table-state.ts'

export interface CreateTableOptions {
  schema: StructType
  partitionColumns: string[]
  configuration?: Record<string, string>
  name?: string
  description?: string
}

export interface TableOptions {
  now?: () => number // clock for commit timestamps, modification and deletion times (ms); default Date.now
}

export type CheckpointOutcome =
  { status: 'written'; version: number } | { status: 'failed'; version: number; error: unknown }

export interface CommitOptions {
  operation: string // commitInfo.operation, e.g. 'OPTIMIZE'
  operationParameters?: Record<string, unknown>
  operationMetrics?: Record<string, string>
  readVersion?: number // version the actions were computed from; default the latest version
  readFiles?: readonly (AddFile | string)[] // files (or store paths) the transaction read
  readPartitions?: 'all' | Record<string, readonly (string | null)[]> // partitions whose contents it read
  maxRetries?: number // attempts at later versions after losing a race; default 50
  engineInfo?: string
}

export type CommitResult =
  | { status: 'committed'; version: number; attempts: number; checkpoint?: CheckpointOutcome }
  | {
      status: 'conflict'
      reason: ConflictReason | 'retries-exhausted'
      message: string
      winningVersion?: number
      txnVersion?: number
      attempts: number
    }

export const commitDefaults = { maxRetries: 50 } satisfies Partial<CommitOptions>

/** Column types this lake can write (and therefore create tables with). */
const WRITABLE_TYPES = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
])

export class DeltaTable {
  readonly store: ObjectStore
  readonly now: () => number
  private latest: Snapshot | undefined

  private constructor(store: ObjectStore, options: TableOptions) {
    this.store = store
    this.now = options.now ?? Date.now
  }

  /** Creates the table: version 0 holds protocol (reader 1, writer 2), metaData and commitInfo. */
  static async create(
    store: ObjectStore,
    o: CreateTableOptions,
    options: TableOptions = {},
  ): Promise<DeltaTable> {
    const table = new DeltaTable(store, options)
    const r = await table.tryCreate(o)
    if (r === 'exists') {
      throw new CryptoVizError('DELTA_COMMIT_CONFLICT', `a Delta table already exists at ${store.url}`, {
        kind: 'user',
        details: { reason: 'table-exists' },
      })
    }
    return table
  }

  /** Opens an existing table; DELTA_TABLE_NOT_FOUND when there is no log. */
  static async open(store: ObjectStore, options: TableOptions = {}): Promise<DeltaTable> {
    const table = new DeltaTable(store, options)
    await table.snapshot()
    return table
  }

  /** Opens the table, creating it first if it has no log; of racing creators one wins version 0. */
  static async openOrCreate(
    store: ObjectStore,
    o: CreateTableOptions,
    options: TableOptions = {},
  ): Promise<DeltaTable> {
    try {
      return await DeltaTable.open(store, options)
    } catch (e) {
      if (!isCryptoVizError(e, 'DELTA_TABLE_NOT_FOUND')) throw e
    }
    const table = new DeltaTable(store, options)
    if ((await table.tryCreate(o)) === 'exists') await table.snapshot()
    return table
  }

  private async tryCreate(o: CreateTableOptions): Promise<'created' | 'exists'> {
    validateCreate(o)
    const now = this.now()
    const protocol: Protocol = { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION }
    const metadata: Metadata = {
      id: randomUUID(),
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.description === undefined ? {} : { description: o.description }),
      format: { provider: 'parquet', options: {} },
      schemaString: schemaToString(o.schema),
      partitionColumns: [...o.partitionColumns],
      configuration: { ...o.configuration },
      createdTime: now,
    }
    const commitInfo: CommitInfo = {
      timestamp: now,
      operation: 'CREATE TABLE',
      operationParameters: {
        partitionBy: JSON.stringify(o.partitionColumns),
        description: o.description ?? null,
        isManaged: 'false',
        properties: JSON.stringify(o.configuration ?? {}),
      },
      isolationLevel: 'Serializable',
      isBlindAppend: true,
      engineInfo: ENGINE_INFO,
      txnId: randomUUID(),
    }
    const actions: Action[] = [{ commitInfo }, { protocol }, { metaData: metadata }]
    const path = commitPath(0)
    if ((await this.store.putIfAbsent(path, encodeCommit(actions))) === 'exists') return 'exists'
    const meta = await this.store.head(path)
    const b = StateBuilder.empty()
    b.applyCommit(actions, 0, meta?.modified ?? now)
    this.remember(new Snapshot(b.finish(), o.schema))
    return 'created'
  }

  /**
   * The table at a version (`{version}`), as of a time (`{timestamp}` in ms: the latest commit
   * at or before it), or the latest version when called without arguments.
   */
  async snapshot(at: { version?: number; timestamp?: number } = {}): Promise<Snapshot> {
    if (at.version !== undefined && at.timestamp !== undefined) {
      throw new CryptoVizError('INVALID_ARGUMENT', 'give a version or a timestamp, not both', {
        kind: 'user',
      })
    }
    if (at.version !== undefined) {
      if (this.latest?.version === at.version) return this.latest
      const listing = await listLog(this.store)
      return new Snapshot(await loadState(this.store, listing, at.version))
    }
    if (at.timestamp !== undefined) return this.snapshotAsOf(at.timestamp)
    return this.refresh()
  }

  private async refresh(): Promise<Snapshot> {
    const prev = this.latest
    const state = prev
      ? await updateState(this.store, prev.state)
      : await loadState(this.store, await listLog(this.store))
    if (prev && state === prev.state) return prev
    const schema = prev && prev.metadata === state.metadata ? prev.schema : undefined
    return this.remember(new Snapshot(state, schema))
  }

  private remember(s: Snapshot): Snapshot {
    if (!this.latest || s.version > this.latest.version) this.latest = s
    return this.latest.version === s.version ? this.latest : s
  }

  private async snapshotAsOf(timestamp: number): Promise<Snapshot> {
    const listing = await listLog(this.store)
    const latest = await this.refresh()
    let raw = new Map<number, number>()
    if (latest.properties.inCommitTimestamps) {
      const versions = [...listing.commits.keys()]
      const times = await mapLimit(versions, 16, async (v) =>
        inCommitTimestamp(await readCommit(this.store, v)),
      )
      raw = new Map(versions.flatMap((v, i) => (times[i] === undefined ? [] : [[v, times[i]]])))
    }
    const times = adjustedCommitTimes(listing, (c) => raw.get(c.version) ?? c.modified)
    let pick: number | undefined
    for (const t of times) if (t.timestamp <= timestamp) pick = t.version
    if (pick === undefined) {
      const first = times[0]
      throw new CryptoVizError(
        'DELTA_VERSION_NOT_FOUND',
        first
          ? `no commit at or before ${new Date(timestamp).toISOString()}: the earliest available commit ` +
              `(version ${first.version}) is at ${new Date(first.timestamp).toISOString()}`
          : 'the log has no commits to time travel to',
        { kind: 'user', details: { timestamp } },
      )
    }
    if (pick === latest.version) return latest
    return new Snapshot(await loadState(this.store, listing, pick))
  }

  /** Appends rows as new data files in one commit (see `AppendOptions`). */
  append(rows: readonly Row[], o: AppendOptions = {}): Promise<AppendResult> {
    return appendRows(this, rows, o)
  }

  /**
   * Commits arbitrary data actions (adds, removes with tombstone fields filled in, txn, metaData)
   * with the conflict rules. A normal race ends as `{status:'conflict'}`, not as an exception;
   * refusals (appendOnly, unsupported protocol) throw.
   */
  async commit(actions: readonly Action[], o: CommitOptions): Promise<CommitResult> {
    const base =
      o.readVersion === undefined ? await this.snapshot() : await this.snapshot({ version: o.readVersion })
    return this.commitAt(base, actions, o)
  }

  /** The commit path shared by `commit` and `append`: `base` is the snapshot the actions came from. */
  async commitAt(base: Snapshot, actions: readonly Action[], o: CommitOptions): Promise<CommitResult> {
    const metaData = actions.find((a): a is { metaData: Metadata } => 'metaData' in a)?.metaData
    const schema = metaData ? parseSchemaString(metaData.schemaString) : base.schema
    assertWritable(base.protocol, schema.fields)
    const now = this.now()
    const readFiles = new Set((o.readFiles ?? []).map((f) => (typeof f === 'string' ? f : dataFilePath(f))))
    const removes = new Set<string>()
    const txns = new Map<string, number>()
    let rearrangeOnly = true
    let dataChangeRemove = false
    let onlyAdds = true
    const prepared = actions.map((a): Action => {
      if ('commitInfo' in a) {
        throw new CryptoVizError('INVALID_ARGUMENT', 'commitInfo is written by the table, not passed in', {
          kind: 'user',
        })
      }
      if ('txn' in a) txns.set(a.txn.appId, a.txn.version)
      if ('add' in a && a.add.dataChange) rearrangeOnly = false
      if ('remove' in a) {
        onlyAdds = false
        if (a.remove.dataChange) {
          rearrangeOnly = false
          dataChangeRemove = true
        }
        const path = dataFilePath(a.remove)
        removes.add(path)
        return { remove: completeRemove(a.remove, base.state.adds.get(path), now) }
      }
      // A metaData update (schema evolution) keeps an append blind, as in Spark; a protocol change does not.
      if ('protocol' in a) onlyAdds = false
      return a
    })
    if (dataChangeRemove && base.properties.appendOnly) {
      throw new CryptoVizError(
        'DELTA_APPEND_ONLY',
        'the table is append-only (delta.appendOnly): data cannot be removed',
        {
          kind: 'user',
        },
      )
    }
    for (const path of [...removes, ...readFiles]) {
      if (!base.state.adds.has(path)) {
        return {
          status: 'conflict',
          reason: 'file-removed',
          message: `${path} is not a live file at version ${base.version}`,
          attempts: 0,
        }
      }
    }
    const isBlindAppend = onlyAdds && readFiles.size === 0 && o.readPartitions === undefined
    const footprint: TransactionFootprint = {
      txns,
      readFiles,
      removes,
      isBlindAppend,
      rearrangeOnly: rearrangeOnly && removes.size > 0,
      readPartitions: o.readPartitions,
    }
    const outcome = await commitWithRetries({
      store: this.store,
      base: base.state,
      actions: prepared,
      commitInfo: {
        operation: o.operation,
        operationParameters: o.operationParameters ?? {},
        isolationLevel: footprint.rearrangeOnly ? 'SnapshotIsolation' : 'Serializable',
        isBlindAppend,
        ...(o.operationMetrics ? { operationMetrics: o.operationMetrics } : {}),
        engineInfo: o.engineInfo ?? ENGINE_INFO,
        txnId: randomUUID(),
      },
      footprint,
      maxRetries: o.maxRetries ?? commitDefaults.maxRetries,
      now: this.now,
    })
    this.remember(new Snapshot(outcome.state, metaData ? schema : sameMetadataSchema(base, outcome.state)))
    if (outcome.status === 'conflict') {
      return {
        status: 'conflict',
        reason: outcome.conflict.reason,
        message: outcome.conflict.message,
        winningVersion: outcome.winningVersion,
        ...(outcome.conflict.txnVersion === undefined ? {} : { txnVersion: outcome.conflict.txnVersion }),
        attempts: outcome.attempts,
      }
    }
    if (outcome.status === 'retries-exhausted') {
      return {
        status: 'conflict',
        reason: 'retries-exhausted',
        message: `gave up after ${outcome.attempts} attempts: other writers kept winning`,
        attempts: outcome.attempts,
      }
    }
    const checkpoint = await this.maybeCheckpoint(outcome.state)
    return {
      status: 'committed',
      version: outcome.version,
      attempts: outcome.attempts,
      ...(checkpoint ? { checkpoint } : {}),
    }
  }

  private async maybeCheckpoint(state: TableState): Promise<CheckpointOutcome | undefined> {
    const properties = tableProperties(state.metadata)
    const { checkpointInterval, deletedFileRetentionMs } = properties
    if (state.version === 0 || state.version % checkpointInterval !== 0) return undefined
    try {
      const now = this.now()
      const content = checkpointState(state, now - deletedFileRetentionMs)
      content.txns = unexpiredTxns(content.txns, now, properties.setTransactionRetentionMs)
      await writeCheckpoint(this.store, content)
      // Log cleanup (log-cleanup.ts) after the checkpoint it keeps; a failure is retried at the next one.
      await cleanupExpiredLog(this.store, { now, logRetentionMs: properties.logRetentionMs }).catch(
        () => undefined,
      )
      return { status: 'written', version: state.version }
    } catch (error) {
      return { status: 'failed', version: state.version, error }
    }
  }

  /** Every retained version, newest first (at most `limit`). */
  history(o: { limit?: number } = {}): Promise<HistoryEntry[]> {
    return readHistory(this.store, o)
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

/** Fills a remove's tombstone fields from the live file it removes. */
function completeRemove(r: RemoveFile, live: AddFile | undefined, now: number): RemoveFile {
  const out: RemoveFile = { ...r, deletionTimestamp: r.deletionTimestamp ?? now }
  if (live) {
    out.extendedFileMetadata = true
    out.partitionValues = r.partitionValues ?? live.partitionValues
    out.size = r.size ?? live.size
    if (live.stats && out.stats === undefined) out.stats = live.stats
  }
  return out
}

const sameMetadataSchema = (base: Snapshot, state: TableState): StructType | undefined =>
  state.metadata === base.metadata ? base.schema : undefined

function validateCreate(o: CreateTableOptions): void {
  const bad = (message: string): CryptoVizError =>
    new CryptoVizError('INVALID_ARGUMENT', message, { kind: 'user' })
  const names = new Set<string>()
  for (const f of o.schema.fields) {
    const lower = f.name.toLowerCase()
    if (names.has(lower)) throw bad(`duplicate column "${f.name}" (Delta column names are case-insensitive)`)
    names.add(lower)
    if (typeof f.type !== 'string' || !WRITABLE_TYPES.has(f.type)) {
      throw bad(`column "${f.name}" has type ${typeName(f.type)}, which CryptoViz cannot write`)
    }
    if (f.metadata && 'delta.invariants' in f.metadata)
      throw bad(`column "${f.name}" carries delta.invariants`)
  }
  for (const c of o.partitionColumns) {
    if (!o.schema.fields.some((f) => f.name === c)) throw bad(`partition column "${c}" is not in the schema`)
  }
  if (new Set(o.partitionColumns).size !== o.partitionColumns.length) throw bad('partition columns repeat')
  if (o.partitionColumns.length >= o.schema.fields.length && o.schema.fields.length > 0) {
    throw bad('at least one column must not be a partition column')
  }
}
