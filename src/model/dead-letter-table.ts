/**
 * The `dead_letters` Delta table: every provider item CryptoViz could not use, with its raw
 * payload and the reason, so that nothing received is ever lost silently.
 */
import { field, struct, type StructType } from '../lake/schema.ts'
import type { DeadLetter } from './dead-letter.ts'

export const DEAD_LETTERS_TABLE = 'dead_letters'

export const DEAD_LETTERS_SCHEMA: StructType = struct([
  field('received_at', 'timestamp', false),
  field('source', 'string', false),
  field('reason', 'string', false),
  field('detail', 'string'),
  field('raw', 'string'),
])

export const DEAD_LETTERS_PARTITION_COLUMNS = ['source']

export function deadLetterToRow(d: DeadLetter): Record<string, string | number | null> {
  let raw: string
  try {
    raw = typeof d.raw === 'string' ? d.raw : (JSON.stringify(d.raw) ?? 'undefined')
  } catch {
    raw = String(d.raw)
  }
  return { received_at: d.received_at, source: d.source, reason: d.reason, detail: d.detail, raw }
}
