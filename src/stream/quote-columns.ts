/**
 * Quote chunks (`src/model/quote-chunk.ts`, what the processor holds from arrival to commit)
 * joined into one lake column batch (`ColumnBatch`): the rows `quoteToRow` would make, with the
 * date partition columns (held equal by test/stream/quote-columns.test.ts).
 */
import type { BatchColumn, ColumnBatch } from '../lake/index.ts'
import {
  DATE_COLUMNS,
  NUMBER_FIELDS,
  packQuotes,
  STRING_FIELDS,
  type QuoteChunk,
} from '../model/quote-chunk.ts'
import type { Quote } from '../model/quote.ts'

/** The chunks' rows, in order, as one column batch of the `quotes` table. */
export function chunksToColumns(chunks: readonly QuoteChunk[]): ColumnBatch {
  const n = chunks.reduce((sum, c) => sum + c.rows, 0)
  const columns: Record<string, BatchColumn> = {}
  NUMBER_FIELDS.forEach((f, k) => {
    const values = new Float64Array(n)
    const nulls = chunks.some((c) => c.numbers[k]!.nulls) ? new Uint8Array(n) : undefined
    let at = 0
    for (const c of chunks) {
      const col = c.numbers[k]!
      values.set(col.values, at)
      if (nulls && col.nulls) nulls.set(col.nulls, at)
      at += c.rows
    }
    columns[f] = { type: 'number', values, nulls }
  })
  ;[...STRING_FIELDS, ...DATE_COLUMNS].forEach((f, k) => {
    const ids = new Uint32Array(n)
    const nulls = chunks.some((c) => c.strings[k]!.nulls) ? new Uint8Array(n) : undefined
    const dictionary: string[] = []
    const idOf = new Map<string, number>()
    let at = 0
    for (const c of chunks) {
      const col = c.strings[k]!
      // This chunk's ids → the batch's ids.
      const remap = Uint32Array.from(col.dictionary, (v) => {
        let id = idOf.get(v)
        if (id === undefined) idOf.set(v, (id = dictionary.push(v) - 1))
        return id
      })
      for (let i = 0; i < c.rows; i++) ids[at + i] = remap[col.ids[i]!] ?? 0
      if (nulls && col.nulls) nulls.set(col.nulls, at)
      at += c.rows
    }
    columns[f] = { type: 'string', ids, dictionary, nulls }
  })
  return { numRows: n, columns }
}

/** The quotes as the rows of the `quotes` table, column-wise. */
export const quotesToColumns = (quotes: readonly Quote[]): ColumnBatch =>
  chunksToColumns([packQuotes(quotes)])

/** One chunk as a column batch without copying: the batch's columns are views of the chunk's. */
export function chunkToColumns(chunk: QuoteChunk): ColumnBatch {
  const columns: Record<string, BatchColumn> = {}
  NUMBER_FIELDS.forEach((f, k) => {
    const { values, nulls } = chunk.numbers[k]!
    columns[f] = { type: 'number', values, nulls }
  })
  ;[...STRING_FIELDS, ...DATE_COLUMNS].forEach((f, k) => {
    const { ids, dictionary, nulls } = chunk.strings[k]!
    columns[f] = { type: 'string', ids, dictionary, nulls }
  })
  return { numRows: chunk.rows, columns }
}
