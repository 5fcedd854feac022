/** Writes query rows to a stream as a JSON array (one row per line) or RFC 4180 CSV. */
import { once } from 'node:events'
import { QUOTE_FIELDS, quoteFieldsOfType, type Quote } from '../model/quote.ts'
import { isoFromMicros } from '../micros.ts'

export type OutputFormat = 'json' | 'csv'

const TIME_FIELDS = new Set<string>(quoteFieldsOfType('timestamp'))

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return ''
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function formatRow(q: Quote): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of QUOTE_FIELDS) out[f] = TIME_FIELDS.has(f) ? isoFromMicros(q[f] as number) : q[f]
  return out
}

export async function writeRows(
  out: NodeJS.WritableStream,
  rows: readonly Quote[],
  format: OutputFormat,
): Promise<void> {
  const write = async (chunk: string): Promise<void> => {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  if (format === 'csv') {
    await write(`${QUOTE_FIELDS.join(',')}\n`)
    for (const r of rows) {
      const f = formatRow(r)
      await write(`${QUOTE_FIELDS.map((k) => csvCell(f[k])).join(',')}\n`)
    }
    return
  }
  await write('[')
  for (let i = 0; i < rows.length; i++)
    await write(`${i === 0 ? '\n' : ',\n'}${JSON.stringify(formatRow(rows[i] as Quote))}`)
  await write(rows.length === 0 ? ']\n' : '\n]\n')
}
