/**
 * The query engine: the lake snapshot picks the files (partition values, then min/max stats) and
 * DuckDB reads only those files and only the requested columns. Partition columns are not in the
 * data files (Delta convention), so their values come from each file's `add.partitionValues`
 * through a join on the file name.
 *
 * Every result reports the table version it read and how many files it scanned, so pruning is
 * observable.
 */
import { CryptoVizError } from '../errors.ts'
import { dataFilePath, type AddFile, type DeltaTable, type Snapshot } from '../lake/index.ts'
import { QUOTE_FIELDS, type Quote } from '../model/quote.ts'
import { QUOTES_PARTITION_COLUMNS } from '../model/quote-table.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { sqlIdent, sqlString, type DuckDb } from './duckdb.ts'

export type AsOf = { version: number } | { timestamp: number }

export interface RangeQuery {
  crypto: string
  sources?: readonly string[]
  /** Microseconds, inclusive. */
  start?: number
  /** Microseconds, inclusive. */
  end?: number
  limit?: number
  asOf?: AsOf
}

export interface ScanInfo {
  version: number
  files_scanned: number
  files_total: number
}

export interface RangeResult extends ScanInfo {
  rows: Quote[]
}

const TIMESTAMP_COLUMNS = new Set(['ts', 'ingested_at'])

export interface QueryEngineOptions {
  table: DeltaTable
  store: ObjectStore
  duckdb: DuckDb
}

export class QueryEngine {
  private readonly table: DeltaTable
  private readonly store: ObjectStore
  private readonly duckdb: DuckDb

  constructor(options: QueryEngineOptions) {
    this.table = options.table
    this.store = options.store
    this.duckdb = options.duckdb
  }

  snapshot(asOf?: AsOf): Promise<Snapshot> {
    return this.table.snapshot(asOf)
  }

  /** Rows of one asset in a time range, oldest first. */
  async readRange(q: RangeQuery): Promise<RangeResult> {
    const snapshot = await this.snapshot(q.asOf)
    const files = snapshot.filesFor({
      partitions: { crypto: [q.crypto], ...(q.sources && q.sources.length > 0 ? { source: q.sources } : {}) },
      ranges: {
        ts: { ...(q.start !== undefined && { min: q.start }), ...(q.end !== undefined && { max: q.end }) },
      },
    })
    const info = {
      version: snapshot.version,
      files_scanned: files.length,
      files_total: snapshot.files().length,
    }
    if (files.length === 0) return { ...info, rows: [] }
    const where = [
      q.start !== undefined ? `q.ts >= ${timestampLiteral(q.start)}` : undefined,
      q.end !== undefined ? `q.ts <= ${timestampLiteral(q.end)}` : undefined,
    ].filter((w) => w !== undefined)
    const sql = `${this.selectQuotes(files)}
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY q.ts, p.source
      ${q.limit !== undefined ? `LIMIT ${Math.trunc(q.limit)}` : ''}`
    const rows = await this.duckdb.all(sql)
    return { ...info, rows: rows.map(toQuote) }
  }

  /** `SELECT <quote columns> FROM <files> q JOIN <partition values> p`, for the given files. */
  private selectQuotes(files: readonly AddFile[]): string {
    const partitionCols = QUOTES_PARTITION_COLUMNS.filter((c) => c === 'source' || c === 'crypto')
    const values = files
      .map(
        (f) =>
          `(${[this.localPath(f), ...partitionCols.map((c) => f.partitionValues[c] ?? '')].map(sqlString).join(', ')})`,
      )
      .join(', ')
    const columns = QUOTE_FIELDS.map((c) =>
      partitionCols.includes(c as 'source' | 'crypto')
        ? `p.${sqlIdent(c)}`
        : TIMESTAMP_COLUMNS.has(c)
          ? `epoch_us(q.${sqlIdent(c)}) AS ${sqlIdent(c)}`
          : `q.${sqlIdent(c)}`,
    )
    const list = files.map((f) => sqlString(this.localPath(f))).join(', ')
    return `SELECT ${columns.join(', ')}
      FROM read_parquet([${list}], filename = true, union_by_name = true) q
      JOIN (VALUES ${values}) p(file, ${partitionCols.map(sqlIdent).join(', ')}) ON q.filename = p.file`
  }

  private localPath(file: AddFile): string {
    const path = this.store.localPath(dataFilePath(file))
    if (path === undefined) {
      throw new CryptoVizError(
        'QUERY_INVALID',
        `the query engine reads local warehouses only (${this.store.url})`,
        {
          kind: 'user',
        },
      )
    }
    return path
  }
}

/** A TIMESTAMPTZ literal for microseconds since the epoch (exact, no float seconds). */
export function timestampLiteral(micros: number): string {
  const ms = Math.floor(micros / 1000)
  const rest = micros - ms * 1000
  const iso = new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
  return `TIMESTAMPTZ '${iso}${String(rest).padStart(3, '0')}+00'`
}

function toQuote(r: Record<string, unknown>): Quote {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : v
  return out as unknown as Quote
}
