/**
 * Per-file statistics (`add.stats`) and the data skipping built on them.
 *
 * Writing: numRecords, minValues, maxValues and nullCount for every non-partition top-level
 * column; timestamps as ISO-8601 UTC with milliseconds, truncated (so the recorded max can be up
 * to 999 µs below the true max); strings longer than 32 characters keep a truncated min and no
 * max. Booleans and binaries get only nullCount.
 *
 * Reading: missing or unparsable stats mean "unknown", never "no rows": a file is pruned only when
 * its recorded bounds prove that no row can match.
 */
import type { AddFile, FileStats } from './actions.ts'
import { packedStatsOf } from './packed-add.ts'
import { packedRecordCount, packedValue, statsObject } from './packed-stats.ts'
import type { DataType } from './schema.ts'

export const STRING_STATS_PREFIX = 32

/** The JSON form of a min/max value of a column of this type. */
export function statValue(type: DataType, v: number | string): number | string {
  if (type === 'timestamp') return new Date(Math.floor((v as number) / 1000)).toISOString()
  if (type === 'date') return new Date((v as number) * 86_400_000).toISOString().slice(0, 10)
  return v
}

const statsCache = new WeakMap<AddFile, FileStats | null>()

/**
 * Decoded `add.stats`; null when absent or unparsable. Built afresh from a state's packed stats
 * (keeping 100k decoded objects would undo the packing), else cached per action object.
 */
export function fileStats(add: AddFile): FileStats | null {
  const packed = packedStatsOf(add)
  if (packed !== undefined) return statsObject(packed) as FileStats
  const cached = statsCache.get(add)
  if (cached !== undefined) return cached
  const stats = parseStats(add.stats)
  statsCache.set(add, stats)
  return stats
}

const NUM_RECORDS = /^\{\s*"numRecords"\s*:\s*(\d+)/

/**
 * The file's `numRecords`, without caching decoded stats: a pass over every live file (planning
 * an OPTIMIZE of 100k files) must not keep 100k decoded stats objects alive.
 */
export function recordCount(add: AddFile): number | undefined {
  const packed = packedStatsOf(add)
  if (packed !== undefined) return packedRecordCount(packed)
  const cached = statsCache.get(add)
  if (cached !== undefined) return typeof cached?.numRecords === 'number' ? cached.numRecords : undefined
  const text = add.stats
  if (typeof text !== 'string') return undefined
  const m = NUM_RECORDS.exec(text)
  if (m) return Number(m[1])
  const n = parseStats(text)?.numRecords
  return typeof n === 'number' ? n : undefined
}

/** Decodes a stats JSON string; null when absent or unparsable (unknown stats). */
export function parseStats(text: string | null | undefined): FileStats | null {
  if (typeof text !== 'string' || text === '') return null
  try {
    const json: unknown = JSON.parse(text)
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as FileStats) : null
  } catch {
    return null
  }
}

export type Bound = number | string

/**
 * One column's recorded min or max as a comparable bound (see `comparable`), and its null count;
 * undefined when not recorded. Reads packed stats directly, without regenerating text.
 */
export function statBound(
  add: AddFile,
  which: 'minValues' | 'maxValues',
  column: string,
  type: DataType,
): Bound | undefined {
  const packed = packedStatsOf(add)
  if (packed === undefined) return comparable(type, fileStats(add)?.[which]?.[column])
  const v = packedValue(packed, which, column)
  if (v === undefined) return undefined
  if (!v.timestampMillis) return comparable(type, v.value)
  if (type === 'timestamp' || type === 'timestamp_ntz') return (v.value as number) * 1000
  return comparable(type, new Date(v.value as number).toISOString())
}

/**
 * One column's recorded min or max exactly as the stats JSON holds it (timestamps as their ISO
 * text); undefined when not recorded. Reads packed stats without decoding the rest.
 */
export function statValueOf(add: AddFile, which: 'minValues' | 'maxValues', column: string): unknown {
  const packed = packedStatsOf(add)
  if (packed === undefined) return fileStats(add)?.[which]?.[column]
  const v = packedValue(packed, which, column)
  if (v === undefined) return undefined
  return v.timestampMillis ? new Date(v.value as number).toISOString() : v.value
}

/** One column's recorded null count; undefined when not recorded. */
export function nullCountOf(add: AddFile, column: string): number | undefined {
  const packed = packedStatsOf(add)
  const v =
    packed === undefined
      ? fileStats(add)?.nullCount?.[column]
      : packedValue(packed, 'nullCount', column)?.value
  return typeof v === 'number' ? v : undefined
}

/**
 * A stats or partition value as a comparable number or string for a column type: timestamps in
 * microseconds, dates in days since the epoch, numbers as numbers, strings unchanged. Returns
 * undefined for values that cannot be interpreted (treated as unknown).
 */
export function comparable(type: DataType, value: unknown): Bound | undefined {
  if (value === null || value === undefined) return undefined
  switch (type) {
    case 'timestamp':
    case 'timestamp_ntz': {
      if (typeof value === 'number') return value
      if (typeof value !== 'string') return undefined
      return parseTimestampMicros(value)
    }
    case 'date': {
      if (typeof value === 'number') return value
      if (typeof value !== 'string') return undefined
      const ms = Date.parse(`${value.slice(0, 10)}T00:00:00Z`)
      return Number.isNaN(ms) ? undefined : Math.round(ms / 86_400_000)
    }
    case 'string':
      return typeof value === 'string' ? value : undefined
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'double':
    case 'float': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
      return Number.isNaN(n) ? undefined : n
    }
    default:
      return undefined
  }
}

/** ISO-8601 (or Spark's `yyyy-MM-dd HH:mm:ss[.ffffff]`, UTC) to microseconds, keeping sub-ms digits. */
export function parseTimestampMicros(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text.trim(),
  )
  if (!m) return undefined
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`)
  if (Number.isNaN(ms)) return undefined
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6)
  return ms * 1000 + Number(frac)
}

/** Compares two bounds of the same column (numbers numerically, strings by code unit). */
export const compareBounds = (a: Bound, b: Bound): number => (a < b ? -1 : a > b ? 1 : 0)
