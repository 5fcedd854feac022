/**
 * Delta Lake log actions, as they appear in `_delta_log/*.json` (one JSON object per line) and in
 * Parquet checkpoints (one top-level struct column per action kind).
 *
 * Invariants (PROTOCOL.md): a commit holds at most one `metaData`, one `protocol`, one `txn` per
 * appId and one `add`/`remove` per path. `add.path` is relative and URI-encoded; partition values
 * are strings (null as JSON null); `stats` is a JSON *string*. Readers ignore unknown fields.
 */

export interface Protocol {
  minReaderVersion: number
  minWriterVersion: number
  readerFeatures?: string[]
  writerFeatures?: string[]
}

export interface Format {
  provider: string
  options: Record<string, string>
}

export interface Metadata {
  id: string
  name?: string | null
  description?: string | null
  format: Format
  /** Spark struct JSON on one line. */
  schemaString: string
  partitionColumns: string[]
  configuration: Record<string, string>
  createdTime?: number | null
}

export interface AddFile {
  /** Relative to the table root and URI-encoded, exactly as written in the log. */
  path: string
  partitionValues: Record<string, string | null>
  size: number
  modificationTime: number
  dataChange: boolean
  /** JSON text: `{"numRecords":…,"minValues":{…},"maxValues":{…},"nullCount":{…}}`. */
  stats?: string | null
  tags?: Record<string, string> | null
  deletionVector?: unknown
}

export interface RemoveFile {
  path: string
  dataChange: boolean
  deletionTimestamp?: number | null
  extendedFileMetadata?: boolean
  partitionValues?: Record<string, string | null> | null
  size?: number | null
  /** Optional copy of the removed file's stats (lets history count removed rows). */
  stats?: string | null
  tags?: Record<string, string> | null
  deletionVector?: unknown
}

export interface Txn {
  appId: string
  version: number
  lastUpdated?: number | null
}

export interface CommitInfo {
  timestamp?: number
  inCommitTimestamp?: number
  operation?: string
  operationParameters?: Record<string, unknown>
  readVersion?: number
  isolationLevel?: string
  isBlindAppend?: boolean
  operationMetrics?: Record<string, string>
  engineInfo?: string
  [key: string]: unknown
}

/** One log line. Exactly one key is set; unknown action kinds are dropped when reading. */
export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: CommitInfo }

/** Parsed per-file statistics (the decoded `add.stats`). Missing stats mean "unknown". */
export interface FileStats {
  numRecords?: number
  minValues?: Record<string, unknown>
  maxValues?: Record<string, unknown>
  nullCount?: Record<string, unknown>
  tightBounds?: boolean
}
