/**
 * Preparing a commit (the first of its three steps, as in delta-rs: prepare → commit with
 * conflict checks and retries (`commit.ts`) → post-commit hooks (`post-commit.ts`)).
 *
 * Preparing checks the actions against the snapshot they were computed from and derives what the
 * conflict rules need, without touching the store:
 * - refusals throw (a `commitInfo` passed in, a protocol or column this writer cannot write, a
 *   data-changing remove on an append-only table);
 * - a remove or read of a file that is not live at the read version is a conflict already;
 * - removes get their tombstone fields from the live file they remove;
 * - the footprint (txns, files read and removed, blind append, rearrange-only) and the
 *   `commitInfo` fields follow from the actions, so a caller cannot state them inconsistently.
 */
import { randomUUID } from 'node:crypto'
import { CryptoVizError } from '../errors.ts'
import type { Action, AddFile, CommitInfo, Metadata, RemoveFile } from './actions.ts'
import type { ConflictReason, TransactionFootprint } from './conflicts.ts'
import { ENGINE_INFO } from '../engine-info.ts'
import { dataFilePath } from './partition-path.ts'
import type { StructType } from './schema.ts'
import { parseSchemaString } from './schema-json.ts'
import type { Snapshot } from './snapshot.ts'
import { assertWritable } from './table-features.ts'

export interface CommitOptions {
  /** `commitInfo.operation`, e.g. 'OPTIMIZE'. */
  operation: string
  operationParameters?: Record<string, unknown>
  operationMetrics?: Record<string, string>
  /** Version the actions were computed from; default the latest version. */
  readVersion?: number
  /** Files (or their store paths) the transaction read. */
  readFiles?: readonly (AddFile | string)[]
  /** Partitions whose contents the transaction read. */
  readPartitions?: 'all' | Record<string, readonly (string | null)[]>
  /** Attempts at later versions after losing a race; default `commitDefaults.maxRetries`. */
  maxRetries?: number
  /** `commitInfo.engineInfo`; default this engine's. */
  engineInfo?: string
}

export type CheckpointOutcome =
  { status: 'written'; version: number } | { status: 'failed'; version: number; error: unknown }

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

/** A commit ready for the commit protocol. */
export interface PreparedCommit {
  /** The actions to write (removes completed), without `commitInfo`. */
  actions: Action[]
  /** commitInfo fields; the protocol adds `timestamp` and `readVersion` per attempt. */
  commitInfo: CommitInfo
  footprint: TransactionFootprint
  /** The table schema after the commit (a `metaData` action's, else the base's). */
  schema: StructType
  /** Whether the commit changes the table's metadata. */
  changesMetadata: boolean
}

/** Checks and completes `actions` computed from `base`; a conflict already visible at `base` is returned. */
export function prepareCommit(
  base: Snapshot,
  actions: readonly Action[],
  o: CommitOptions,
  now: number,
): PreparedCommit | { conflict: CommitResult } {
  const metaData = actions.find((a): a is { metaData: Metadata } => 'metaData' in a)?.metaData
  const schema = metaData ? parseSchemaString(metaData.schemaString) : base.schema
  assertWritable(base.protocol, schema.fields)
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
      { kind: 'user' },
    )
  }
  for (const path of [...removes, ...readFiles]) {
    if (!base.state.adds.has(path)) {
      return {
        conflict: {
          status: 'conflict',
          reason: 'file-removed',
          message: `${path} is not a live file at version ${base.version}`,
          attempts: 0,
        },
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
  const commitInfo: CommitInfo = {
    operation: o.operation,
    operationParameters: o.operationParameters ?? {},
    isolationLevel: footprint.rearrangeOnly ? 'SnapshotIsolation' : 'Serializable',
    isBlindAppend,
    ...(o.operationMetrics ? { operationMetrics: o.operationMetrics } : {}),
    engineInfo: o.engineInfo ?? ENGINE_INFO,
    txnId: randomUUID(),
  }
  return { actions: prepared, commitInfo, footprint, schema, changesMetadata: metaData !== undefined }
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
