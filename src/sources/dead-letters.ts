/**
 * Building dead letters, and finding those a failed poll carries. A poll that fails after the
 * provider answered with an unusable body (HTML, truncated JSON, an unknown envelope) throws a
 * `CryptoVizError` whose `details.deadLetters` hold that body, so the collector can record it
 * instead of losing it.
 */
import { isCryptoVizError } from '../errors.ts'
import { microsFromMillis } from '../micros.ts'
import type { DeadLetter } from '../model/dead-letter.ts'

/** Most bytes of a non-JSON body kept in a dead letter; error pages can be large and say little. */
export const MAX_RAW_TEXT = 64 * 1024

export function deadLetter(
  source: string,
  reason: string,
  detail: string,
  raw: unknown,
  nowMs: number,
): DeadLetter {
  const kept = typeof raw === 'string' && raw.length > MAX_RAW_TEXT ? raw.slice(0, MAX_RAW_TEXT) : raw
  return { source, reason, detail, raw: kept, received_at: microsFromMillis(nowMs) }
}

/** Dead letters attached to an error thrown by a poll, or none. */
export function deadLettersOf(error: unknown): DeadLetter[] {
  if (!isCryptoVizError(error)) return []
  const found = error.details?.['deadLetters']
  return Array.isArray(found) ? (found as DeadLetter[]) : []
}
