/**
 * The `dead_letters` Delta table: every provider item CryptoViz could not use, with its raw
 * payload and the reason, so that nothing received is ever lost silently.
 */
import type { DeadLetter } from './dead-letter.ts'
import { column, type TableSchema } from './table-schema.ts'

export const DEAD_LETTERS_TABLE = 'dead_letters'

export const DEAD_LETTERS_SCHEMA: TableSchema = {
  type: 'struct',
  fields: [
    column('received_at', 'timestamp', false),
    column('source', 'string', false),
    column('reason', 'string', false),
    column('detail', 'string'),
    column('raw', 'string'),
  ],
}

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
