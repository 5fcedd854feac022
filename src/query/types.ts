/**
 * Types shared by every query-engine read, and the validation of the few inputs the engine checks
 * itself (HTTP shapes are validated at the edge; these are the semantic checks every caller needs).
 *
 * Times are integer microseconds since the epoch (UTC) unless a name ends in `_ms`.
 */
import { CryptoVizError } from '../errors.ts'

/** Lake time travel: a table version, or the latest commit at or before a time (ms). */
export type AsOf = { version: number } | { timestamp: number }

export type TableName = 'quotes' | 'dead_letters'

export interface ReadOptions {
  asOf?: AsOf
  /** Merge the processor's uncommitted quotes (default true); never with `asOf`. */
  includePending?: boolean
}

export interface ScanInfo {
  /** Table version read. */
  version: number
  /** Files DuckDB was handed after pruning. */
  files_scanned: number
  /** Live files in that version. */
  files_total: number
  /** Rows (or, for aggregates, quotes) in the result that came from the hot tail. */
  pending_rows: number
}

export const CANDLE_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'] as const
export type CandleInterval = (typeof CANDLE_INTERVALS)[number]

const MINUTE = 60_000_000
export const INTERVAL_MICROS: Readonly<Record<CandleInterval, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '4h': 240 * MINUTE,
  '1d': 1440 * MINUTE,
}

export const invalid = (message: string, details?: Record<string, unknown>): CryptoVizError =>
  new CryptoVizError('QUERY_INVALID', message, { kind: 'user', ...(details && { details }) })

export function checkAsOf(asOf: AsOf | undefined): void {
  if (asOf === undefined) return
  if ('version' in asOf) {
    if (!Number.isSafeInteger(asOf.version) || asOf.version < 0) {
      throw invalid(`asOf.version must be a non-negative integer, got ${asOf.version}`)
    }
  } else if (!Number.isFinite(asOf.timestamp)) {
    throw invalid(`asOf.timestamp must be finite milliseconds, got ${asOf.timestamp}`)
  }
}

export function checkInterval(interval: string): CandleInterval {
  if (!(CANDLE_INTERVALS as readonly string[]).includes(interval)) {
    throw invalid(`interval must be one of ${CANDLE_INTERVALS.join(', ')}, got "${interval}"`)
  }
  return interval as CandleInterval
}

export function checkRange(start: number | undefined, end: number | undefined): void {
  for (const [name, v] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (v !== undefined && !Number.isSafeInteger(v)) throw invalid(`${name} must be integer microseconds`)
  }
  if (start !== undefined && end !== undefined && start > end) throw invalid('start must not be after end')
}

export function checkLimit(limit: number | undefined, name = 'limit'): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw invalid(`${name} must be a non-negative integer, got ${limit}`)
  }
}
