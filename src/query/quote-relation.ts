/**
 * The one relation every quote query reads: the pruned committed files, plus the hot tail (the
 * processor's uncommitted quotes), as a DuckDB SELECT with a `hot` flag per row.
 *
 * Hot-tail semantics (invariants):
 * - Pending quotes are filtered like the files (crypto, source, time range) by the caller, then
 *   de-duplicated by (source, crypto, ts): the last received copy wins inside the tail, and a
 *   committed row with the same key wins over the tail (anti join against the committed files
 *   that may hold those keys), so nothing is counted twice while a batch is being committed.
 * - Times in the relation are BIGINT microseconds (`epoch_us` of the file's TIMESTAMPTZ), filters
 *   on the files are written on the raw column so DuckDB can skip row groups by statistics.
 * - Pending rows travel as bound list parameters (never spliced into the SQL text).
 */
import { DOUBLE, LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api'
import { dataFilePath, type AddFile } from '../lake/index.ts'
import { quoteFieldsOfType, type Quote, type QuoteField } from '../model/quote.ts'
import { sqlIdent } from './duckdb.ts'
import { scanSql, timestampLiteral, type ScanColumn } from './file-scan.ts'

const PARTITION_FIELDS = new Set<QuoteField>(['source', 'crypto'])
const TIME_FIELDS = new Set<QuoteField>(quoteFieldsOfType('timestamp'))
const STRING_FIELDS = new Set<QuoteField>(quoteFieldsOfType('string'))

export interface QuoteRelationInput {
  /** Pruned committed files. */
  files: readonly AddFile[]
  /** Columns the query needs. */
  columns: readonly QuoteField[]
  /** Inclusive bounds on ts, applied to the files (the caller filters the hot tail). */
  start?: number | undefined
  end?: number | undefined
  /** Pending quotes already filtered to the query and de-duplicated among themselves. */
  hot: readonly Quote[]
  /** Committed files that may hold keys of `hot` (for the anti join). */
  dedupFiles: readonly AddFile[]
  localPath: (f: AddFile) => string
  unionByName: boolean
  /** Number of the first `$n` parameter this relation may use (default 1). */
  firstParam?: number
}

export interface QuoteRelation {
  /** SELECT producing `columns` plus `hot BOOLEAN`. */
  sql: string
  values: DuckDBValue[]
  types: DuckDBType[]
}

/** Undefined when there is nothing to read (no files and no hot rows). */
export function quoteRelation(o: QuoteRelationInput): QuoteRelation | undefined {
  const parts: string[] = []
  const values: DuckDBValue[] = []
  const types: DuckDBType[] = []
  const cols = o.columns.map(sqlIdent).join(', ')
  if (o.files.length > 0) {
    const where = [
      o.start !== undefined ? `q.ts >= ${timestampLiteral(o.start)}` : undefined,
      o.end !== undefined ? `q.ts <= ${timestampLiteral(o.end)}` : undefined,
    ].filter((w) => w !== undefined)
    const scan = scanSql({
      files: o.files.map((f) => ({
        path: o.localPath(f),
        relativePath: dataFilePath(f),
        partitionValues: f.partitionValues,
      })),
      columns: o.columns.map(quoteScanColumn),
      where,
      unionByName: o.unionByName,
    })
    parts.push(`SELECT ${cols}, false AS hot FROM (${scan})`)
  }
  if (o.hot.length > 0) {
    const keys: QuoteField[] = ['ts', 'source', 'crypto']
    const hotColumns = [...new Set<QuoteField>([...o.columns, ...keys])]
    const unnest = hotColumns.map((c) => {
      values.push(listValue(o.hot.map((q) => q[c])))
      types.push(LIST(STRING_FIELDS.has(c) ? VARCHAR : DOUBLE))
      const ref = `unnest($${(o.firstParam ?? 1) - 1 + values.length}::${STRING_FIELDS.has(c) ? 'VARCHAR' : 'DOUBLE'}[])`
      return `${TIME_FIELDS.has(c) ? `${ref}::BIGINT` : c === 'rank' ? `${ref}::INTEGER` : ref} AS ${sqlIdent(c)}`
    })
    let hot = `SELECT ${o.columns.map((c) => `h.${sqlIdent(c)}`).join(', ')}, true AS hot FROM (SELECT ${unnest.join(', ')}) h`
    if (o.dedupFiles.length > 0) {
      let min = Infinity
      let max = -Infinity
      for (const q of o.hot) {
        if (q.ts < min) min = q.ts
        if (q.ts > max) max = q.ts
      }
      const committed = scanSql({
        files: o.dedupFiles.map((f) => ({
          path: o.localPath(f),
          relativePath: dataFilePath(f),
          partitionValues: f.partitionValues,
        })),
        columns: keys.map(quoteScanColumn),
        where: [`q.ts >= ${timestampLiteral(min)}`, `q.ts <= ${timestampLiteral(max)}`],
        unionByName: o.unionByName,
      })
      hot += ` ANTI JOIN (${committed}) c ON h.ts = c.ts AND h.source = c.source AND h.crypto = c.crypto`
    }
    parts.push(hot)
  }
  if (parts.length === 0) return undefined
  return { sql: parts.join(' UNION ALL '), values, types }
}

function quoteScanColumn(c: QuoteField): ScanColumn {
  if (PARTITION_FIELDS.has(c)) return { name: c, from: 'partition', sqlType: 'VARCHAR' }
  if (TIME_FIELDS.has(c)) return { name: c, from: 'data', expr: (ref) => `epoch_us(${ref})` }
  return { name: c, from: 'data' }
}

/** Pending quotes matching a query, one per (source, crypto, ts): the last received wins. */
export function selectPending(
  pending: readonly Quote[],
  f: { cryptos?: ReadonlySet<string>; sources?: ReadonlySet<string>; start?: number; end?: number },
): Quote[] {
  const byKey = new Map<string, Quote>()
  for (const q of pending) {
    if (f.cryptos && !f.cryptos.has(q.crypto)) continue
    if (f.sources && !f.sources.has(q.source)) continue
    if (f.start !== undefined && q.ts < f.start) continue
    if (f.end !== undefined && q.ts > f.end) continue
    const key = `${q.source}\u0000${q.crypto}\u0000${q.ts}`
    byKey.delete(key)
    byKey.set(key, q)
  }
  return [...byKey.values()]
}

/** Number of distinct files in the lists (a file in both the scan and the dedup list counts once). */
export const distinctFiles = (...lists: (readonly AddFile[])[]): number =>
  new Set(lists.flatMap((l) => l.map((f) => f.path))).size
