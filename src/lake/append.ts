/**
 * `append`: rows (or a column batch, `appendColumns`) → Parquet data files → one commit of `add` actions (plus the `txn` marker and,
 * with `mergeSchema`, the evolved `metaData`).
 *
 * Invariants:
 * - Exactly-once: with `txn` (or `txns`, one per input stream, e.g. one per Kafka partition), the
 *   append is skipped when the table already recorded every appId at its version or later, checked
 *   both before writing and against every winning commit. When only some are recorded, or a txn's
 *   recorded version falls inside its batch (after `startsAfter`, before `version`), the append
 *   throws DELTA_COMMIT_CONFLICT (`details.reason: 'txn-partially-committed'`): the caller must drop
 *   what is already in the table and retry, a lake cannot split a batch it did not cut.
 * - Rows are validated before any file is written; data files are written before the commit;
 *   files of an append that did not commit are deleted (best effort, vacuum covers the rest).
 */
import { CryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, AddFile, Metadata } from './actions.ts'
import type { ColumnBatch } from './column-batch.ts'
import {
  prepareDataFiles,
  type Compression,
  type DataFileOptions,
  type PreparedFile,
  type Row,
} from './data-files.ts'
import { inThreadEncoder, type FileEncoder } from './encoder-worker.ts'
import { mapLimit } from './log-replay.ts'
import type { StructType } from './schema.ts'
import { schemaToString } from './schema-json.ts'
import { inferIncomingSchema, mergeSchemas } from './schema-evolution.ts'
import type { Snapshot } from './snapshot.ts'
import type { CheckpointOutcome, CommitOptions, CommitResult } from './transaction.ts'

/** An exactly-once marker: `appId` has committed everything up to `version`. */
export interface AppendTxn {
  appId: string
  version: number
  /**
   * The version this batch continues from (what the writer believes the table holds for
   * `appId`). A table that recorded a version past it but before `version` holds part of this
   * batch already: the append is refused as partially committed rather than duplicating it.
   */
  startsAfter?: number
}

export interface AppendOptions {
  /** Exactly-once marker committed with the files. */
  txn?: AppendTxn
  /** Several markers in the one commit (distinct appIds); not with `txn`. */
  txns?: readonly AppendTxn[]
  /** Rows sorted within each file, e.g. ['crypto', 'ts']. */
  sortBy?: string[]
  /** Default snappy (`dataFileDefaults`). */
  compression?: Compression
  /** Rows per Parquet row group; default 131072 (`dataFileDefaults`). */
  rowGroupRows?: number
  /** A partition with more rows is split into several files; default 1048576 (`dataFileDefaults`). */
  maxRowsPerFile?: number
  /** Allow new nullable columns (from `schema`, or inferred from the rows). */
  mergeSchema?: boolean
  /** The rows' schema, for mergeSchema; inferred when omitted. */
  schema?: StructType
  /** `commitInfo.operation`; default 'WRITE'. */
  operation?: string
  /** `commitInfo.engineInfo`; default this engine's. */
  engineInfo?: string
  /** Attempts at later versions after losing a race; default 50 (`commitDefaults`). */
  maxRetries?: number
}

/** What an append needs of its table (a `DeltaTable`), so this module does not import it. */
export interface AppendTarget {
  readonly store: ObjectStore
  readonly now: () => number
  snapshot(): Promise<Snapshot>
  commitAt(base: Snapshot, actions: readonly Action[], o: CommitOptions): Promise<CommitResult>
}

export type AppendResult =
  | {
      status: 'committed'
      version: number
      files: AddFile[]
      rows: number
      bytes: number
      attempts: number
      checkpoint?: CheckpointOutcome
    }
  | {
      status: 'skipped'
      reason: 'txn-already-committed'
      /** The recorded version of the (first) txn's appId. */
      txnVersion: number
      /** appId → recorded version, for every txn of the append. */
      txnVersions: Record<string, number>
    }
  | { status: 'skipped'; reason: 'no-rows' }

/** The outcomes of an append that wrote nothing. */
export type AppendSkipped = Extract<AppendResult, { status: 'skipped' }>

/** Data files written at once. */
const WRITE_CONCURRENCY = 8

export async function appendRows(
  table: AppendTarget,
  rows: readonly Row[],
  o: AppendOptions,
): Promise<AppendResult> {
  const txns = appendTxns(o)
  const snapshot = await table.snapshot()
  const recorded = alreadyRecorded(txns, (appId) => snapshot.txnVersion(appId))
  if (recorded) return recorded
  if (rows.length === 0 && txns.length === 0) return { status: 'skipped', reason: 'no-rows' }

  let schema = snapshot.schema
  let newMetadata: Metadata | undefined
  if (o.mergeSchema) {
    const merged = mergeSchemas(schema, o.schema ?? inferIncomingSchema(rows, schema))
    if (merged !== schema) {
      schema = merged
      newMetadata = { ...snapshot.metadata, schemaString: schemaToString(merged) }
    }
  } else if (o.schema) {
    throw new CryptoVizError('INVALID_ARGUMENT', 'append: `schema` is only used with mergeSchema', {
      kind: 'user',
    })
  }

  const files = prepareDataFiles(rows, dataFileOptions(table, snapshot, schema, o))
  return commitFiles(table, snapshot, { txns, files, rows: rows.length, newMetadata }, o)
}

/**
 * `appendRows` for a column batch (same files, stats, txns and exactly-once rules), encoded by
 * `encoder` (default: on this thread). The batch's buffers may be transferred: do not reuse it.
 * The schema does not evolve here (`mergeSchema` is refused).
 *
 * Several batches (e.g. a writer's share for each of two threads) are encoded at once, batch i by
 * encoder i mod their count (list a worker's batches first: an in-thread encoder runs to its end
 * when called), and committed together in one commit; a partition present in several batches
 * gets a file from each.
 */
export async function appendColumns(
  table: AppendTarget,
  batch: ColumnBatch | readonly ColumnBatch[],
  o: AppendOptions & { encoder?: FileEncoder | readonly FileEncoder[] },
): Promise<AppendResult> {
  const encoded = await encodeColumns(table, batch, o)
  return 'status' in encoded ? encoded : commitEncoded(table, encoded, o)
}

/**
 * A column append's files, encoded against `snapshot` but neither written nor committed: the
 * first half of `appendColumns`, so that a writer can encode its next batch while this one's
 * files are written and committed (`commitEncoded`). Holds the files' bytes until then.
 */
export interface EncodedAppend {
  /** The table state the files were encoded for; the commit checks conflicts from it. */
  readonly snapshot: Snapshot
  readonly txns: readonly AppendTxn[]
  readonly files: readonly PreparedFile[]
  readonly rows: number
}

/** The first half of `appendColumns`: checks the txns, encodes; or the skip it settles on. */
export async function encodeColumns(
  table: AppendTarget,
  batch: ColumnBatch | readonly ColumnBatch[],
  o: AppendOptions & { encoder?: FileEncoder | readonly FileEncoder[] },
): Promise<EncodedAppend | AppendSkipped> {
  const txns = appendTxns(o)
  if (o.mergeSchema || o.schema)
    throw new CryptoVizError('INVALID_ARGUMENT', 'append of columns: the schema does not evolve here', {
      kind: 'user',
    })
  const batches = isBatchList(batch) ? batch : [batch]
  const encoders =
    o.encoder === undefined ? [inThreadEncoder] : isEncoderList(o.encoder) ? o.encoder : [o.encoder]
  if (encoders.length === 0)
    throw new CryptoVizError('INVALID_ARGUMENT', 'append of columns: no encoder given', { kind: 'user' })
  const snapshot = await table.snapshot()
  const recorded = alreadyRecorded(txns, (appId) => snapshot.txnVersion(appId))
  if (recorded) return recorded
  const rows = batches.reduce((n, b) => n + b.numRows, 0)
  if (rows === 0 && txns.length === 0) return { status: 'skipped', reason: 'no-rows' }
  const options = dataFileOptions(table, snapshot, snapshot.schema, o)
  const encoded = await Promise.all(
    batches.map((b, i) => (b.numRows === 0 ? [] : encoders[i % encoders.length]!.encode(b, options))),
  )
  return { snapshot, txns, files: encoded.flat(), rows }
}

/**
 * The second half of `appendColumns`: writes the encoded files and commits them with their txns.
 * A commit made since their snapshot is checked as a concurrent one (blind appends pass).
 */
export function commitEncoded(
  table: AppendTarget,
  encoded: EncodedAppend,
  o: AppendOptions,
): Promise<AppendResult> {
  return commitFiles(table, encoded.snapshot, encoded, o)
}

const isBatchList = (b: ColumnBatch | readonly ColumnBatch[]): b is readonly ColumnBatch[] => Array.isArray(b)
const isEncoderList = (e: FileEncoder | readonly FileEncoder[]): e is readonly FileEncoder[] =>
  Array.isArray(e)

function dataFileOptions(
  table: AppendTarget,
  snapshot: Snapshot,
  schema: StructType,
  o: AppendOptions,
): DataFileOptions {
  return {
    schema,
    partitionColumns: snapshot.partitionColumns,
    sortBy: o.sortBy ?? [],
    compression: o.compression,
    rowGroupRows: o.rowGroupRows,
    maxRowsPerFile: o.maxRowsPerFile,
    modificationTime: table.now(),
  }
}

/** Writes the files, commits them with the txns; deletes them when that certainly failed. */
async function commitFiles(
  table: AppendTarget,
  snapshot: Snapshot,
  append: {
    txns: readonly AppendTxn[]
    files: readonly PreparedFile[]
    rows: number
    newMetadata?: Metadata | undefined
  },
  o: AppendOptions,
): Promise<AppendResult> {
  const { txns, files, newMetadata } = append
  // Fresh uuid names that no reader looks at before the commit: no atomic replace needed.
  const store = table.store
  const write = store.putNew?.bind(store) ?? store.put.bind(store)
  await mapLimit(files, WRITE_CONCURRENCY, (f) => write(f.storePath, f.bytes))

  const actions: Action[] = []
  if (newMetadata) actions.push({ metaData: newMetadata })
  for (const t of txns)
    actions.push({ txn: { appId: t.appId, version: t.version, lastUpdated: table.now() } })
  for (const f of files) actions.push({ add: f.add })
  const bytes = files.reduce((s, f) => s + f.bytes.length, 0)
  const result = await table.commitAt(snapshot, actions, {
    operation: o.operation ?? 'WRITE',
    operationParameters: { mode: 'Append', partitionBy: JSON.stringify(snapshot.partitionColumns) },
    operationMetrics: {
      numFiles: String(files.length),
      numOutputRows: String(append.rows),
      numOutputBytes: String(bytes),
    },
    maxRetries: o.maxRetries,
    engineInfo: o.engineInfo,
  })
  if (result.status === 'committed') {
    return {
      status: 'committed',
      version: result.version,
      files: files.map((f) => f.add),
      rows: append.rows,
      bytes,
      attempts: result.attempts,
      ...(result.checkpoint ? { checkpoint: result.checkpoint } : {}),
    }
  }
  // Not committed, for certain: the files are unreferenced and can go.
  await mapLimit(files, WRITE_CONCURRENCY, (f) => table.store.delete(f.storePath).catch(() => undefined))
  if (result.reason === 'txn') {
    // A winner recorded one of our appIds: skipped when that settles every txn, else partial.
    const latest = await table.snapshot()
    const settled = alreadyRecorded(txns, (appId) => latest.txnVersion(appId))
    if (settled) return settled
  }
  throw new CryptoVizError('DELTA_COMMIT_CONFLICT', `append could not commit: ${result.message}`, {
    kind: 'external',
    canRetry: true,
    details: { reason: result.reason, winningVersion: result.winningVersion, attempts: result.attempts },
  })
}

function appendTxns(o: AppendOptions): readonly AppendTxn[] {
  if (o.txn && o.txns) {
    throw new CryptoVizError('INVALID_ARGUMENT', 'append: give `txn` or `txns`, not both', { kind: 'user' })
  }
  const txns = o.txns ?? (o.txn ? [o.txn] : [])
  if (new Set(txns.map((t) => t.appId)).size !== txns.length) {
    throw new CryptoVizError('INVALID_ARGUMENT', 'append: txns repeat an appId', { kind: 'user' })
  }
  return txns
}

/**
 * The skip result when the table recorded every txn at its version or later; undefined when none
 * is recorded; DELTA_COMMIT_CONFLICT when only some are (the batch overlaps committed data).
 */
function alreadyRecorded(
  txns: readonly AppendTxn[],
  recordedVersion: (appId: string) => number | undefined,
): AppendSkipped | undefined {
  if (txns.length === 0) return undefined
  const txnVersions: Record<string, number> = {}
  let overlapping = false
  for (const t of txns) {
    const v = recordedVersion(t.appId)
    if (v !== undefined && v >= t.version) txnVersions[t.appId] = v
    else if (v !== undefined && t.startsAfter !== undefined && v > t.startsAfter) {
      txnVersions[t.appId] = v
      overlapping = true
    }
  }
  const done = Object.keys(txnVersions).length
  if (done === 0) return undefined
  if (done === txns.length && !overlapping) {
    return {
      status: 'skipped',
      reason: 'txn-already-committed',
      txnVersion: txnVersions[txns[0]!.appId]!,
      txnVersions,
    }
  }
  throw new CryptoVizError(
    'DELTA_COMMIT_CONFLICT',
    `append: the table already holds part of this batch (${Object.entries(txnVersions)
      .map(([appId, v]) => `${appId}@${v}`)
      .join(', ')})`,
    { kind: 'external', canRetry: true, details: { reason: 'txn-partially-committed', txnVersions } },
  )
}
