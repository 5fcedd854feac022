/**
 * Quotes as a lake column batch (`ColumnBatch`): the processor's path to Parquet. One pass over
 * the quotes fills a Float64Array per numeric column and dictionary ids per string column; the
 * date partition columns come from `ts` as `quoteToRow` derives them, so the batch holds exactly
 * the rows `quoteToRow` would make (test/stream/quote-columns.test.ts holds them equal).
 *
 * Why: building 50k row objects and reading them back column by column was a large part of a
 * processor's main-thread time, and a batch of typed arrays can be handed to the encoder thread
 * without copying.
 */
import type { BatchColumn, ColumnBatch } from '../lake/index.ts'
import { datePartsOf, QUOTE_COLUMNS, QUOTE_FIELDS, type Quote } from '../model/quote.ts'

const STRING_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type === 'string')
const NUMBER_FIELDS = QUOTE_FIELDS.filter((f) => QUOTE_COLUMNS[f].type !== 'string')
const DATE_COLUMNS = ['year', 'month', 'day'] as const

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
  column(): BatchColumn {
    return { type: 'string', ids: this.ids, dictionary: this.dictionary, nulls: this.nulls }
  }
}

type Fill = (quotes: readonly Quote[], numbers: NumberColumn[], strings: Interned[]) => void

interface NumberColumn {
  values: Float64Array
  nulls: Uint8Array | undefined
}

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

/** The quotes as the rows of the `quotes` table, column-wise. */
export function quotesToColumns(quotes: readonly Quote[]): ColumnBatch {
  const n = quotes.length
  const numbers: NumberColumn[] = NUMBER_FIELDS.map(() => ({ values: new Float64Array(n), nulls: undefined }))
  const strings = STRING_FIELDS.map(() => new Interned(n))
  fill(quotes, numbers, strings)
  const dates = DATE_COLUMNS.map(() => new Interned(n))
  const [year, month, day] = dates as [Interned, Interned, Interned]
  for (let i = 0; i < n; i++) {
    const p = datePartsOf(quotes[i]!.ts)
    year.set(i, p.year)
    month.set(i, p.month)
    day.set(i, p.day)
  }
  const columns: Record<string, BatchColumn> = {}
  NUMBER_FIELDS.forEach((f, c) => (columns[f] = { type: 'number', ...numbers[c]! }))
  STRING_FIELDS.forEach((f, c) => (columns[f] = strings[c]!.column()))
  DATE_COLUMNS.forEach((f, c) => (columns[f] = dates[c]!.column()))
  return { numRows: n, columns }
}
