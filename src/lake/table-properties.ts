/**
 * The `metaData.configuration` keys this lake acts on, parsed with Delta's defaults. Unknown keys
 * are kept in the metadata untouched; malformed values fall back to the default rather than
 * making a table unreadable (Spark does the same for hints such as the checkpoint interval).
 */
import type { Metadata } from './actions.ts'

export interface TableProperties {
  /** Write a checkpoint after every version that is a multiple of this. */
  checkpointInterval: number
  /** Only appends allowed: no `remove` with `dataChange: true`. */
  appendOnly: boolean
  /** How long removed files stay as tombstones (and before VACUUM may delete them), ms. */
  deletedFileRetentionMs: number
  /** How long log entries are kept at checkpoint time, ms. */
  logRetentionMs: number
  /** `txn` markers not updated for this long are dropped at checkpoint time, ms; undefined: never. */
  setTransactionRetentionMs: number | undefined
  /** Commit times come from `commitInfo.inCommitTimestamp` instead of file modification times. */
  inCommitTimestamps: boolean
}

const DAY = 86_400_000

export const defaultTableProperties = {
  checkpointInterval: 10,
  appendOnly: false,
  /** One week. */
  deletedFileRetentionMs: 7 * DAY,
  /** Thirty days. */
  logRetentionMs: 30 * DAY,
  inCommitTimestamps: false,
  setTransactionRetentionMs: undefined,
} satisfies TableProperties

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: DAY,
  week: 7 * DAY,
}

/** Parses Spark's `interval 7 days` (also `7 days`, `1 week`, `12 hours`) to milliseconds. */
export function parseInterval(text: string): number | undefined {
  const m = /^\s*(?:interval\s+)?(\d+)\s+([a-z]+?)s?\s*$/i.exec(text)
  if (!m) return undefined
  const unit = UNIT_MS[m[2]!.toLowerCase()]
  return unit === undefined ? undefined : Number(m[1]) * unit
}

export function tableProperties(metadata: Metadata): TableProperties {
  const c = metadata.configuration ?? {}
  const interval = Number(c['delta.checkpointInterval'])
  return {
    checkpointInterval:
      Number.isInteger(interval) && interval > 0 ? interval : defaultTableProperties.checkpointInterval,
    appendOnly: c['delta.appendOnly']?.toLowerCase() === 'true',
    deletedFileRetentionMs:
      parseInterval(c['delta.deletedFileRetentionDuration'] ?? '') ??
      defaultTableProperties.deletedFileRetentionMs,
    logRetentionMs:
      parseInterval(c['delta.logRetentionDuration'] ?? '') ?? defaultTableProperties.logRetentionMs,
    inCommitTimestamps: c['delta.enableInCommitTimestamps']?.toLowerCase() === 'true',
    setTransactionRetentionMs: parseInterval(c['delta.setTransactionRetentionDuration'] ?? ''),
  }
}
