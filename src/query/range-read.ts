/**
 * `readRange`: one asset's quotes over a time range, ordered by (ts, source), with a column
 * projection (only the requested columns are read from the files) and an optional limit.
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
  const result = await ctx.selectColumns(
    { files, columns: needed, start: q.start, end: q.end, hot, dedupFiles },
    // Times as DOUBLE: exact for µs (< 2^53) and already JS numbers, no bigint to convert.
    (relation) =>
      `SELECT ${columns.map((c) => (NUMERIC_64.has(c) ? `${sqlIdent(c)}::DOUBLE AS ${sqlIdent(c)}` : sqlIdent(c))).join(', ')}, hot
       FROM (${relation}) ORDER BY ts ${dir}, source ${dir} ${limit}`,
  )
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
