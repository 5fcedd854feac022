/**
 * Partition values and data file paths.
 *
 * - A partition value in the log is a string (null as JSON null; an empty string also means null,
 *   per PROTOCOL.md): dates `2024-01-05`, timestamps ISO-8601 UTC with microseconds, booleans
 *   `true`/`false`, numbers in their shortest decimal form.
 * - Folders are `col=value` in partition-column order, Hive-escaped exactly as Spark does
 *   (`ExternalCatalogUtils.escapePathName`), null as `__HIVE_DEFAULT_PARTITION__`.
 * - `add.path` is the store path URI-encoded once; `dataFilePath` decodes it exactly once, so a
 *   value containing `/` is the folder `%2F` and the log path `%252F`.
 */
import { CryptoVizError } from '../errors.ts'
import { isoFromMicros } from '../micros.ts'
import type { AddFile, RemoveFile } from './actions.ts'
import type { DataType } from './schema.ts'

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__'

/** Characters Spark escapes in partition folder names (control characters are added below). */
const ESCAPED = new Set(['"', '#', '%', "'", '*', '/', ':', '=', '?', '\\', '\u007f', '{', '[', ']', '^'])

const needsEscape = (ch: string): boolean => ESCAPED.has(ch) || ch.charCodeAt(0) < 0x20

export function hiveEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    out += needsEscape(ch) ? `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : ch
  }
  return out
}

export function hiveUnescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

const MS_PER_DAY = 86_400_000

/** The log's string form of a partition value of the given type (null for null or ''). */
export function partitionValueString(type: DataType, value: unknown): string | null {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'string':
      return value === '' ? null : String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'date':
      return new Date(Number(value) * MS_PER_DAY).toISOString().slice(0, 10)
    case 'timestamp':
      return isoFromMicros(Number(value))
    default:
      return String(value)
  }
}

/** `year=2024/month=01/…` for one partition (no trailing slash; '' when unpartitioned). */
export function partitionFolder(columns: readonly string[], values: Record<string, string | null>): string {
  return columns
    .map((c) => {
      const v = values[c]
      return `${hiveEscape(c)}=${v === null || v === undefined ? HIVE_DEFAULT_PARTITION : hiveEscape(v)}`
    })
    .join('/')
}

/** URI-encodes a store path for `add.path`, segment by segment; `=` stays readable. */
export function encodeLogPath(storePath: string): string {
  return storePath
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%3D/g, '='))
    .join('/')
}

/** The store path of a data file: `add.path` (or `remove.path`) URI-decoded exactly once. */
export function dataFilePath(action: Pick<AddFile | RemoveFile, 'path'>): string {
  try {
    return decodeURIComponent(action.path)
  } catch (e) {
    throw new CryptoVizError('DELTA_LOG_CORRUPT', `file path is not valid URI encoding: ${action.path}`, {
      cause: e,
    })
  }
}
