/**
 * Quotes held column-wise (`QuoteChunk`): a Float64Array per numeric column and dictionary ids
 * per string column, with the date partition columns derived from `ts` as `quoteToRow` derives
 * them. A chunk is made from quote objects (`packQuotes`) or row by row as a bus decodes its
 * messages (`QuoteChunkBuilder`, no object per quote); both give the same chunk for the same
 * quotes, and unpacking gives the quotes back (test/stream/quote-columns.test.ts,
 * test/bus/quote-message.test.ts).
 *
 * Why: building 50k row objects and reading them back column by column was a large part of a
 * processor's main-thread time, and a batch of typed arrays can be handed to the encoder thread
 * without copying.
 */
import {
  datePartsOf,
  PARTITION_COLUMNS,
  QUOTE_COLUMNS,
  QUOTE_FIELDS,
  type DateParts,
  type Quote,
} from './quote.ts'

/** The quote's string columns, in field order (a chunk's `strings` start with these). */
export const STRING_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type === 'string')
/** The quote's numeric columns, in field order (a chunk's `numbers`). */
export const NUMBER_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type !== 'string')
/** The partition columns derived from `ts` (the ones that are not quote fields). */
export const DATE_COLUMNS = PARTITION_COLUMNS.filter(
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

/** Whether `items` is a chunk (rather than quote objects). */
export const isQuoteChunk = (items: readonly Quote[] | QuoteChunk): items is QuoteChunk =>
  !Array.isArray(items)

/** The quote objects of `items` (unpacked when a chunk). */
export const quotesOf = (items: readonly Quote[] | QuoteChunk): readonly Quote[] =>
  isQuoteChunk(items) ? unpackQuotes(items) : items

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

const held = (s: Interned): StringColumn => ({ ids: s.ids, dictionary: s.dictionary, nulls: s.nulls })

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
  return { rows: n, numbers, strings: [...strings, ...dates].map(held) }
}

const TS = NUMBER_FIELDS.indexOf('ts')

/**
 * A chunk built one row at a time, up to `capacity` rows, from a row's values (numbers in
 * NUMBER_FIELDS order with NaN for null, strings in STRING_FIELDS order): how a bus packs the
 * quotes it decodes without making an object per quote. NaN can stand for null because no quote
 * holds one (every number of a quote is finite). Rows are written in place; the chunk made by
 * `finish` is the one `packQuotes` makes of the same quotes.
 */
export class QuoteChunkBuilder {
  /** Rows appended so far. */
  rows = 0
  private readonly capacity: number
  private readonly numbers: NumberColumn[]
  private readonly strings: Interned[]
  private readonly dates: Interned[]
  /** `appendQuote`'s row, reused. */
  private readonly rowNumbers = new Float64Array(NUMBER_FIELDS.length)
  private readonly rowStrings: string[] = STRING_FIELDS.map(() => '')

  constructor(capacity: number) {
    this.capacity = capacity
    this.numbers = NUMBER_FIELDS.map(() => ({ values: new Float64Array(capacity), nulls: undefined }))
    this.strings = STRING_FIELDS.map(() => new Interned(capacity))
    this.dates = DATE_COLUMNS.map(() => new Interned(capacity))
  }

  /** Appends one row; `numbers` and `strings` are read, not kept. */
  appendRow(numbers: Float64Array, strings: readonly string[]): void {
    const i = this.rows
    if (i >= this.capacity) throw new RangeError(`quote chunk full (${this.capacity} rows)`)
    for (let c = 0; c < this.numbers.length; c++) {
      const v = numbers[c]!
      const col = this.numbers[c]!
      if (v !== v) (col.nulls ??= new Uint8Array(this.capacity))[i] = 1
      else col.values[i] = v
    }
    for (let c = 0; c < this.strings.length; c++) this.strings[c]!.set(i, strings[c]!)
    const p = datePartsOf(numbers[TS]!)
    for (let d = 0; d < DATE_COLUMNS.length; d++) this.dates[d]!.set(i, p[DATE_COLUMNS[d]!])
    this.rows = i + 1
  }

  /** Appends a quote object (messages a bus decoded the general way). */
  appendQuote(q: Quote): void {
    for (let c = 0; c < NUMBER_FIELDS.length; c++)
      this.rowNumbers[c] = (q[NUMBER_FIELDS[c]!] as number | null) ?? Number.NaN
    for (let c = 0; c < STRING_FIELDS.length; c++) this.rowStrings[c] = q[STRING_FIELDS[c]!] as string
    this.appendRow(this.rowNumbers, this.rowStrings)
  }

  /** The rows appended, as a chunk (views of the builder's arrays: append nothing after). */
  finish(): QuoteChunk {
    const chunk: QuoteChunk = {
      rows: this.capacity,
      numbers: this.numbers,
      strings: [...this.strings, ...this.dates].map(held),
    }
    return this.rows === this.capacity ? chunk : sliceChunk(chunk, 0, this.rows)
  }
}

/** The chunk's rows from `from` on, up to `to` (views of the same buffers). */
export function sliceChunk(chunk: QuoteChunk, from: number, to = chunk.rows): QuoteChunk {
  const end = Math.min(to, chunk.rows)
  const start = Math.min(from, end)
  return {
    rows: end - start,
    numbers: chunk.numbers.map((c) => ({
      values: c.values.subarray(start, end),
      nulls: c.nulls?.subarray(start, end),
    })),
    strings: chunk.strings.map((c) => ({
      ids: c.ids.subarray(start, end),
      dictionary: c.dictionary,
      nulls: c.nulls?.subarray(start, end),
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
