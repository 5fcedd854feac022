/**
 * Names of the files directly in `_delta_log/` (never in its subfolders): commits `%020d.json`, classic checkpoints
 * `%020d.checkpoint.parquet`, multi-part checkpoints `%020d.checkpoint.%010d.%010d.parquet` and the
 * `_last_checkpoint` hint. Any other name (CRC files, v2 checkpoint manifests, log compactions,
 * temp files) is not part of the log as this lake reads it and parses to `undefined`.
 */
import type { ObjectMeta } from '../storage/object-store.ts'

export const LOG_DIR = '_delta_log'
export const LAST_CHECKPOINT_PATH = `${LOG_DIR}/_last_checkpoint`

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

export const commitPath = (version: number): string => `${LOG_DIR}/${pad(version, 20)}.json`

/** The common start of every log file of `version` (sorts before all of them). */
export const logFilePrefix = (version: number): string => `${LOG_DIR}/${pad(version, 20)}`

export const checkpointPath = (version: number): string => `${LOG_DIR}/${pad(version, 20)}.checkpoint.parquet`

export const checkpointPartPath = (version: number, part: number, parts: number): string =>
  `${LOG_DIR}/${pad(version, 20)}.checkpoint.${pad(part, 10)}.${pad(parts, 10)}.parquet`

export type LogFile =
  | { kind: 'commit'; version: number; path: string; size: number; modified: number }
  | {
      kind: 'checkpoint'
      version: number
      path: string
      size: number
      modified: number
      /** 1-based part number and part count; both 1 for a classic single-file checkpoint. */
      part: number
      parts: number
    }

const COMMIT_RE = /^(\d{20})\.json$/
const CHECKPOINT_RE = /^(\d{20})\.checkpoint\.parquet$/
const MULTIPART_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/

/** Classifies one listed object of the log folder. */
export function parseLogFile(meta: ObjectMeta): LogFile | undefined {
  const slash = meta.path.lastIndexOf('/')
  // Only files directly in the log folder count: Spark stages commits in `_delta_log/.tmp/`.
  if (meta.path.slice(0, slash) !== LOG_DIR) return undefined
  const name = meta.path.slice(slash + 1)
  const base = { path: meta.path, size: meta.size, modified: meta.modified }
  let m = COMMIT_RE.exec(name)
  if (m) return { kind: 'commit', version: Number(m[1]), ...base }
  m = CHECKPOINT_RE.exec(name)
  if (m) return { kind: 'checkpoint', version: Number(m[1]), part: 1, parts: 1, ...base }
  m = MULTIPART_RE.exec(name)
  if (m) {
    const part = Number(m[2])
    const parts = Number(m[3])
    if (part < 1 || part > parts) return undefined
    return { kind: 'checkpoint', version: Number(m[1]), part, parts, ...base }
  }
  return undefined
}
