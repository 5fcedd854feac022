/**
 * Quotes column-wise: packed on arrival into chunks (`QuoteChunk`), which the processor holds
 * until their commit, then joined into one lake column batch (`ColumnBatch`). One pass over the
 * quotes fills a Float64Array per numeric column and dictionary ids per string column; the date
 * partition columns come from `ts` as `quoteToRow` derives them, so a batch holds exactly the
 * rows `quoteToRow` would make, and unpacking gives the quotes back (both held equal by
 * test/stream/quote-columns.test.ts).
 *
 * Why: building 50k row objects and reading them back column by column was a large part of a
 * processor's main-thread time, and a batch of typed arrays can be handed to the encoder thread
 * without copying.
 */
import type { BatchColumn, ColumnBatch } from '../lake/index.ts'
import {
  datePartsOf,
  PARTITION_COLUMNS,
  QUOTE_COLUMNS,
  QUOTE_FIELDS,
  type DateParts,
  type Quote,
} from '../model/quote.ts'

const STRING_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type === 'string')
const NUMBER_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type !== 'string')
/** The partition columns derived from `ts` (the ones that are not quote fields). */
const DATE_COLUMNS = PARTITION_COLUMNS.filter(
  (c): c is keyof DateParts => !(QUOTE_FIELDS as readonly string[]).includes(c),
)

/** Dictionary ids of one string column, assigned in first-seen order. */
class Interned {
  readonly ids: Uint32Array
  readonly dictionary: string[] = []
  nulls: Uint8Array | undefined
  private readonly idOf = new Map<string, number>()
  constructor(n: number) {
    this.ids = new Uint32Array(n)
  }
  set(i: number, v: string | null): void {
    if (v === null) {
      this.nulls ??= new Uint8Array(this.ids.length)
      this.nulls[i] = 1
      return
    }
    let id = this.idOf.get(v)
    if (id === undefined) {
      id = this.dictionary.push(v) - 1
      this.idOf.set(v, id)
    }
    this.ids[i] = id
  }
}

interface NumberColumn {
  values: Float64Array
  nulls: Uint8Array | undefined
}

interface StringColumn {
  ids: Uint32Array
  dictionary: readonly string[]
  nulls: Uint8Array | undefined
}

/**
 * Quotes held column-wise: what the processor buffers between arrival and commit instead of the
 * quote objects (which then die young instead of being promoted by the garbage collector, and
 * take about a third of the memory). `numbers` follow NUMBER_FIELDS, `strings` STRING_FIELDS
 * then the date partition columns, each with its own dictionary.
 */
export interface QuoteChunk {
  rows: number
  numbers: NumberColumn[]
  strings: StringColumn[]
}

type Fill = (quotes: readonly Quote[], numbers: NumberColumn[], strings: Interned[]) => void

/**
 * The loop over the quotes, generated once with each field read by a constant key (one hidden
 * class, monomorphic reads, as `column-builder.ts` does for rows); field names come from the
 * model's column list, embedded as JSON string literals.
 */
const fill: Fill = new Function(
  'quotes',
  'numbers',
  'strings',
  [
    'const n = quotes.length;',
    ...NUMBER_FIELDS.map((_, c) => `const v${c} = numbers[${c}];`),
    ...STRING_FIELDS.map((_, c) => `const s${c} = strings[${c}];`),
    'let v;',
    'for (let i = 0; i < n; i++) {',
    'const q = quotes[i];',
    ...NUMBER_FIELDS.map(
      (f, c) =>
        `v = q[${JSON.stringify(f)}]; if (v === null) (v${c}.nulls ??= new Uint8Array(n))[i] = 1; else v${c}.values[i] = v;`,
    ),
    ...STRING_FIELDS.map((f, c) => `s${c}.set(i, q[${JSON.stringify(f)}]);`),
    '}',
  ].join('\n'),
) as Fill

/** The quotes as a chunk (with their date partition values). */
export function packQuotes(quotes: readonly Quote[]): QuoteChunk {
  const n = quotes.length
  const numbers: NumberColumn[] = NUMBER_FIELDS.map(() => ({ values: new Float64Array(n), nulls: undefined }))
  const strings = STRING_FIELDS.map(() => new Interned(n))
  fill(quotes, numbers, strings)
  const dates = DATE_COLUMNS.map(() => new Interned(n))
  for (let i = 0; i < n; i++) {
    const p = datePartsOf(quotes[i]!.ts)
    for (let d = 0; d < DATE_COLUMNS.length; d++) dates[d]!.set(i, p[DATE_COLUMNS[d]!])
  }
  const held = (s: Interned): StringColumn => ({ ids: s.ids, dictionary: s.dictionary, nulls: s.nulls })
  return { rows: n, numbers, strings: [...strings, ...dates].map(held) }
}

/** The chunk's rows from `from` on (views of the same buffers). */
export function sliceChunk(chunk: QuoteChunk, from: number): QuoteChunk {
  const start = Math.min(from, chunk.rows)
  return {
    rows: chunk.rows - start,
    numbers: chunk.numbers.map((c) => ({
      values: c.values.subarray(start),
      nulls: c.nulls?.subarray(start),
    })),
    strings: chunk.strings.map((c) => ({
      ids: c.ids.subarray(start),
      dictionary: c.dictionary,
      nulls: c.nulls?.subarray(start),
    })),
  }
}

/** The chunk's quotes as objects again (the hot tail of queries, the spool). */
export function unpackQuotes(chunk: QuoteChunk): Quote[] {
  const out: Quote[] = []
  for (let i = 0; i < chunk.rows; i++) {
    const q: Record<string, string | number | null> = {}
    let n = 0
    let s = 0
    for (const f of QUOTE_FIELDS) {
      if (QUOTE_COLUMNS[f].type === 'string') {
        const c = chunk.strings[s++]!
        q[f] = c.nulls?.[i] ? null : c.dictionary[c.ids[i]!]!
      } else {
        const c = chunk.numbers[n++]!
        q[f] = c.nulls?.[i] ? null : c.values[i]!
      }
    }
    out.push(q as Quote)
  }
  return out
}

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
