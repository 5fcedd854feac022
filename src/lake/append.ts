/**
 * `append`: rows → Parquet data files → one commit of `add` actions (plus the `txn` marker and,
 * with `mergeSchema`, the evolved `metaData`).
 *
 * Invariants:
 * - Exactly-once: with `txn`, the append is skipped when the table already recorded that appId
 *   at this version or later, checked both before writing and against every winning commit.
 * - Rows are validated before any file is written; data files are written before the commit;
 *   files of an append that did not commit are deleted (best effort, vacuum covers the rest).
 */
import { CryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, AddFile, Metadata } from './actions.ts'
import { prepareDataFiles, type Compression, type Row } from './data-files.ts'
import { mapLimit } from './log-replay.ts'
import type { StructType } from './schema.ts'
import { schemaToString } from './schema-json.ts'
import { inferIncomingSchema, mergeSchemas } from './schema-evolution.ts'
import type { Snapshot } from './snapshot.ts'
import type { CheckpointOutcome, CommitOptions, CommitResult } from './transaction.ts'

export interface AppendOptions {
  /** Exactly-once marker committed with the files. */
  txn?: { appId: string; version: number }
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
  | { status: 'skipped'; reason: 'txn-already-committed'; txnVersion: number }
  | { status: 'skipped'; reason: 'no-rows' }

/** Data files written at once. */
const WRITE_CONCURRENCY = 8

export async function appendRows(
  table: AppendTarget,
  rows: readonly Row[],
  o: AppendOptions,
): Promise<AppendResult> {
  const snapshot = await table.snapshot()
  if (o.txn) {
    const recorded = snapshot.txnVersion(o.txn.appId)
    if (recorded !== undefined && recorded >= o.txn.version) {
      return { status: 'skipped', reason: 'txn-already-committed', txnVersion: recorded }
    }
  }
  if (rows.length === 0 && !o.txn) return { status: 'skipped', reason: 'no-rows' }

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

  const files = prepareDataFiles(rows, {
    schema,
    partitionColumns: snapshot.partitionColumns,
    sortBy: o.sortBy ?? [],
    compression: o.compression,
    rowGroupRows: o.rowGroupRows,
    maxRowsPerFile: o.maxRowsPerFile,
    modificationTime: table.now(),
  })
  await mapLimit(files, WRITE_CONCURRENCY, (f) => table.store.put(f.storePath, f.bytes))

  const actions: Action[] = []
  if (newMetadata) actions.push({ metaData: newMetadata })
  if (o.txn) actions.push({ txn: { appId: o.txn.appId, version: o.txn.version, lastUpdated: table.now() } })
  for (const f of files) actions.push({ add: f.add })
  const bytes = files.reduce((s, f) => s + f.bytes.length, 0)
  const result = await table.commitAt(snapshot, actions, {
    operation: o.operation ?? 'WRITE',
    operationParameters: { mode: 'Append', partitionBy: JSON.stringify(snapshot.partitionColumns) },
    operationMetrics: {
      numFiles: String(files.length),
      numOutputRows: String(rows.length),
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
      rows: rows.length,
      bytes,
      attempts: result.attempts,
      ...(result.checkpoint ? { checkpoint: result.checkpoint } : {}),
    }
  }
  // Not committed, for certain: the files are unreferenced and can go.
  await mapLimit(files, WRITE_CONCURRENCY, (f) => table.store.delete(f.storePath).catch(() => undefined))
  if (
    result.reason === 'txn' &&
    o.txn &&
    result.txnVersion !== undefined &&
    result.txnVersion >= o.txn.version
  ) {
    return { status: 'skipped', reason: 'txn-already-committed', txnVersion: result.txnVersion }
  }
  throw new CryptoVizError('DELTA_COMMIT_CONFLICT', `append could not commit: ${result.message}`, {
    kind: 'external',
    canRetry: true,
    details: { reason: result.reason, winningVersion: result.winningVersion, attempts: result.attempts },
  })
}
