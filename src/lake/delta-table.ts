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
import { ENGINE_INFO } from '../engine-info.ts'
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, CommitInfo, Metadata, Protocol } from './actions.ts'
import {
  appendColumns,
  appendRows,
  commitEncoded,
  encodeColumns,
  type AppendOptions,
  type AppendResult,
  type AppendSkipped,
  type EncodedAppend,
} from './append.ts'
import type { ColumnBatch } from './column-batch.ts'
import type { FileEncoder } from './encoder-worker.ts'
import { encodeCommit } from './commit-file.ts'
import { commitWithRetries, type CommitOutcome } from './commit.ts'
import type { Row } from './data-files.ts'
import { readHistory, type HistoryEntry } from './history.ts'
import { commitPath } from './log-paths.ts'
import {
  loadLatestState,
  loadState,
  mapLimit,
  readCommit,
  updateState,
  type LoadOptions,
} from './log-replay.ts'
import { adjustedCommitTimes, listLog } from './log-segment.ts'
import { runPostCommitHooks } from './post-commit.ts'
import type { StructType } from './schema.ts'
import { schemaToString, typeName } from './schema-json.ts'
import { Snapshot } from './snapshot.ts'
import { READER_VERSION, WRITER_VERSION } from './table-features.ts'
import { commitTimestamp, StateBuilder, type TableState } from './table-state.ts'
import {
  commitDefaults,
  prepareCommit,
  type CheckpointOutcome,
  type CommitOptions,
  type CommitResult,
} from './transaction.ts'

export { checkpointState } from './post-commit.ts'
export { commitDefaults, type CheckpointOutcome, type CommitOptions, type CommitResult }

export interface CreateTableOptions {
  schema: StructType
  partitionColumns: string[]
  configuration?: Record<string, string>
  name?: string
  description?: string
}

export interface TableOptions {
  /** Clock for commit timestamps, modification and deletion times (ms); default `Date.now`. */
  now?: () => number
  /**
   * 'background': a full load packs the live files' stats after it returns (a chunk per
   * event-loop turn), so an open's first read waits for none of it (a server); 'eager' (the
   * default): while it loads, holding no stats text longer than its batch (batch commands).
   */
  statsPacking?: 'eager' | 'background'
}

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
  private readonly load: LoadOptions

  private constructor(store: ObjectStore, options: TableOptions) {
    this.store = store
    this.now = options.now ?? Date.now
    this.load = { packStatsLater: options.statsPacking === 'background' }
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
    const b = StateBuilder.empty()
    b.applyCommit(actions, 0, now)
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
      return new Snapshot(await loadState(this.store, listing, at.version, this.load))
    }
    if (at.timestamp !== undefined) return this.snapshotAsOf(at.timestamp)
    return this.refresh()
  }

  private async refresh(): Promise<Snapshot> {
    const prev = this.latest
    const state = prev
      ? await updateState(this.store, prev.state)
      : await loadLatestState(this.store, this.load)
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
    // Commit times come from the commits themselves (see commitTimestamp), as replay uses them.
    const versions = [...listing.commits.keys()]
    const recorded = await mapLimit(versions, 16, async (v) =>
      commitTimestamp(await readCommit(this.store, v)),
    )
    const raw = new Map(versions.flatMap((v, i) => (recorded[i] === undefined ? [] : [[v, recorded[i]]])))
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
    return new Snapshot(await loadState(this.store, listing, pick, this.load))
  }

  /** Appends rows as new data files in one commit (see `AppendOptions`). */
  append(rows: readonly Row[], o: AppendOptions = {}): Promise<AppendResult> {
    return appendRows(this, rows, o)
  }

  /** `append` for a column batch (or several), encoded by `o.encoder` (e.g. on a worker thread); see `appendColumns`. */
  appendColumns(
    batch: ColumnBatch | readonly ColumnBatch[],
    o: AppendOptions & { encoder?: FileEncoder | readonly FileEncoder[] } = {},
  ): Promise<AppendResult> {
    return appendColumns(this, batch, o)
  }

  /** `appendColumns` in two steps: encode now (or settle on a skip), write and commit later (`commitEncoded`). */
  encodeColumns(
    batch: ColumnBatch | readonly ColumnBatch[],
    o: AppendOptions & { encoder?: FileEncoder | readonly FileEncoder[] } = {},
  ): Promise<EncodedAppend | AppendSkipped> {
    return encodeColumns(this, batch, o)
  }

  /** Writes and commits what `encodeColumns` encoded; see `commitEncoded`. */
  commitEncoded(encoded: EncodedAppend, o: AppendOptions = {}): Promise<AppendResult> {
    return commitEncoded(this, encoded, o)
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

  /**
   * The commit path shared by `commit` and `append`, in three steps as in delta-rs: prepare
   * (checks, footprint) → commit (put-if-absent, conflict checks against winners, retries) →
   * post-commit hooks (checkpoint; log cleanup later). `base` is the snapshot the actions came from.
   */
  async commitAt(base: Snapshot, actions: readonly Action[], o: CommitOptions): Promise<CommitResult> {
    const prepared = prepareCommit(base, actions, o, this.now())
    if ('conflict' in prepared) return prepared.conflict
    const outcome = await commitWithRetries({
      store: this.store,
      base: base.state,
      actions: prepared.actions,
      commitInfo: prepared.commitInfo,
      footprint: prepared.footprint,
      maxRetries: o.maxRetries ?? commitDefaults.maxRetries,
      now: this.now,
    })
    const schema = prepared.changesMetadata ? prepared.schema : sameMetadataSchema(base, outcome.state)
    this.remember(new Snapshot(outcome.state, schema))
    if (outcome.status !== 'committed') return conflictResult(outcome)
    const hooks = await runPostCommitHooks(this.store, outcome.state, this.now)
    return { status: 'committed', version: outcome.version, attempts: outcome.attempts, ...hooks }
  }

  /** Every retained version, newest first (at most `limit`). */
  history(o: { limit?: number } = {}): Promise<HistoryEntry[]> {
    return readHistory(this.store, o)
  }
}

/** A commit that lost: to a conflicting winner, or to too many winners in a row. */
function conflictResult(outcome: Exclude<CommitOutcome, { status: 'committed' }>): CommitResult {
  if (outcome.status === 'retries-exhausted') {
    return {
      status: 'conflict',
      reason: 'retries-exhausted',
      message: `gave up after ${outcome.attempts} attempts: other writers kept winning`,
      attempts: outcome.attempts,
    }
  }
  return {
    status: 'conflict',
    reason: outcome.conflict.reason,
    message: outcome.conflict.message,
    winningVersion: outcome.winningVersion,
    ...(outcome.conflict.txnVersion === undefined ? {} : { txnVersion: outcome.conflict.txnVersion }),
    attempts: outcome.attempts,
  }
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
