/**
 * `readRange`: one asset's quotes over a time range, ordered by (ts, source), with a column
 * projection (only the requested columns are read from the files) and an optional limit.
 *
 * A read of one file (an asset-day: the dashboard's common case) asks DuckDB for the rows in file
 * order, which our writer already sorts by ts, and checks the order itself: a sort in DuckDB
 * costs more than the read of such a file. Rows found out of order are read again with ORDER BY,
 * so the result is always what the ordered statement returns.
 */
import { QUOTE_FIELDS, quoteFieldsOfType, type Quote, type QuoteField } from '../model/quote.ts'
import { distinctFiles } from './quote-relation.ts'
import { assetSlice, type ReadContext } from './read-context.ts'
import { sqlIdent } from './duckdb.ts'
import { checkLimit, checkRange, invalid, type ReadOptions, type ScanInfo } from './types.ts'

export interface RangeQuery<F extends QuoteField = QuoteField> extends ReadOptions {
  crypto: string
  sources?: readonly string[]
  /** Microseconds, inclusive. */
  start?: number
  /** Microseconds, inclusive. */
  end?: number
  /** Columns to return (default: all quote fields); only these are read from the files. */
  columns?: readonly F[]
  limit?: number
  /** By (ts, source); default 'asc' (oldest first). */
  order?: 'asc' | 'desc'
}

export interface RangeResult<F extends QuoteField = QuoteField> extends ScanInfo {
  rows: Pick<Quote, F>[]
  /** More rows matched than `limit` allowed. */
  truncated: boolean
}

const NUMERIC_64 = new Set<QuoteField>(quoteFieldsOfType('timestamp'))

export async function readRange<F extends QuoteField>(
  ctx: ReadContext,
  q: RangeQuery<F>,
): Promise<RangeResult<F>> {
  checkRange(q.start, q.end)
  checkLimit(q.limit)
  const columns = projection(q.columns)
  const { files, hot, dedupFiles } = assetSlice(ctx, q)
  const needed = [...new Set<QuoteField>([...columns, 'ts', 'source'])]
  const dir = q.order === 'desc' ? 'DESC' : 'ASC'
  const limit = q.limit === undefined ? '' : `LIMIT ${q.limit + 1}`
  const input = { files, columns: needed, start: q.start, end: q.end, hot, dedupFiles }
  const read = (ordered: boolean) =>
    ctx.selectColumns(
      input,
      // Times as DOUBLE: exact for µs (< 2^53) and already JS numbers, no bigint to convert.
      (relation) =>
        `SELECT ${columns.map((c) => (NUMERIC_64.has(c) ? `${sqlIdent(c)}::DOUBLE AS ${sqlIdent(c)}` : sqlIdent(c))).join(', ')}, hot
         FROM (${relation})${ordered ? ` ORDER BY ts ${dir}, source ${dir} ${limit}` : ''}`,
    )
  const tsAt = columns.indexOf('ts' as F)
  const sourceAt = columns.indexOf('source' as F)
  const fileOrder =
    files.length === 1 && hot.length === 0 && q.limit === undefined && tsAt >= 0 && sourceAt >= 0
  let result = await read(!fileOrder)
  if (fileOrder && result && !inOrder(result.columns[tsAt]!, result.columns[sourceAt]!, dir === 'DESC')) {
    result = await read(true)
  }
  const rowCount = result?.rowCount ?? 0
  const truncated = q.limit !== undefined && rowCount > q.limit
  const n = truncated ? q.limit! : rowCount
  const hotColumn = result?.columns[columns.length] ?? []
  let pendingRows = 0
  for (let i = 0; i < n; i++) if (hotColumn[i] === true) pendingRows++
  const out = new Array<Pick<Quote, F>>(n)
  for (let i = 0; i < n; i++) {
    const quote: Record<string, unknown> = {}
    for (let j = 0; j < columns.length; j++) quote[columns[j]!] = result!.columns[j]![i]
    out[i] = quote as Pick<Quote, F>
  }
  return { ...ctx.info(distinctFiles(files, dedupFiles), pendingRows), rows: out, truncated }
}

/**
 * Whether rows already follow `ORDER BY ts, source` (ascending, or descending with `desc`): ts
 * numbers, sources non-null strings compared as DuckDB does when every character is below the
 * surrogate range (else the rows count as out of order). Equal (ts, source) keys may come in any
 * order, as they may from the ordered statement.
 */
export function inOrder(ts: readonly unknown[], source: readonly unknown[], desc: boolean): boolean {
  for (let i = 1; i < ts.length; i++) {
    const a = ts[i - 1]
    const b = ts[i]
    if (typeof a !== 'number' || typeof b !== 'number') return false
    if (a === b) {
      const sa = source[i - 1]
      const sb = source[i]
      if (typeof sa !== 'string' || typeof sb !== 'string' || SURROGATE.test(sa) || SURROGATE.test(sb))
        return false
      if (desc ? sa < sb : sa > sb) return false
    } else if (desc ? a < b : a > b) return false
  }
  return true
}

/** JS compares UTF-16 code units, DuckDB UTF-8 bytes: they agree below the surrogates. */
const SURROGATE = /[\uD800-\uDFFF]/

function projection<F extends QuoteField>(columns: readonly F[] | undefined): readonly F[] {
  if (columns === undefined) return QUOTE_FIELDS as unknown as readonly F[]
  if (columns.length === 0) throw invalid('columns must name at least one quote field')
  for (const c of columns) {
    if (!(QUOTE_FIELDS as readonly string[]).includes(c)) {
      throw invalid(`unknown column "${c}"; quote fields are ${QUOTE_FIELDS.join(', ')}`)
    }
  }
  return [...new Set(columns)]
}
