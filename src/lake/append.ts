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
import type { Action, AddFile, Metadata } from './actions.ts'
import { dataFileDefaults, prepareDataFiles, type Compression, type Row } from './data-files.ts'
import type { CheckpointOutcome, DeltaTable } from './delta-table.ts'
import { mapLimit } from './log-replay.ts'
import type { StructType } from './schema.ts'
import { schemaToString } from './schema-json.ts'
import { inferIncomingSchema, mergeSchemas } from './schema-evolution.ts'

export interface AppendOptions {
  txn?: { appId: string; version: number } // exactly-once marker committed with the files
  sortBy?: string[] // rows sorted within each file, e.g. ['crypto', 'ts']
  compression?: Compression // default snappy
  rowGroupRows?: number // rows per Parquet row group; default 131072
  maxRowsPerFile?: number // a partition with more rows is split into several files; default 1048576
  mergeSchema?: boolean // allow new nullable columns (from `schema`, or inferred from the rows)
  schema?: StructType // the rows' schema, for mergeSchema; inferred when omitted
  operation?: string // commitInfo.operation; default 'WRITE'
  engineInfo?: string
  maxRetries?: number // attempts at later versions after losing a race; default 50
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
  table: DeltaTable,
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
    compression: o.compression ?? dataFileDefaults.compression,
    rowGroupRows: o.rowGroupRows ?? dataFileDefaults.rowGroupRows,
    maxRowsPerFile: o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile,
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
