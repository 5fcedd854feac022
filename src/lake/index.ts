/**
 * The lake's public API: a Delta Lake table format over an `ObjectStore`. Everything a caller
 * needs is named here; modules not re-exported are internal.
 */
export type {
  Action,
  AddFile,
  CommitInfo,
  FileStats,
  Metadata,
  Protocol,
  RemoveFile,
  Txn,
} from './actions.ts'
export type {
  AppendOptions,
  AppendResult,
  AppendSkipped,
  AppendTarget,
  AppendTxn,
  EncodedAppend,
} from './append.ts'
export type { BatchColumn, ColumnBatch } from './column-batch.ts'
export { checkTable, type CheckProblem, type CheckReport } from './check.ts'
export type { ConflictReason } from './conflicts.ts'
export type { Compression, Row } from './data-files.ts'
export {
  DeltaTable,
  type CheckpointOutcome,
  type CommitOptions,
  type CommitResult,
  type CreateTableOptions,
  type TableOptions,
} from './delta-table.ts'
export { inThreadEncoder, WorkerEncoder, type FileEncoder } from './encoder-worker.ts'
export { fileStats, recordCount, statValueOf } from './file-stats.ts'
export type { HistoryEntry } from './history.ts'
export { dataFilePath, HIVE_DEFAULT_PARTITION, partitionValueString } from './partition-path.ts'
export {
  field,
  struct,
  type DataType,
  type PrimitiveType,
  type StructField,
  type StructType,
} from './schema.ts'
export { Snapshot, type FileFilter } from './snapshot.ts'
export { tableProperties, type TableProperties } from './table-properties.ts'
