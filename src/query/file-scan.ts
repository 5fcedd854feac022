/**
 * SQL for reading an explicit list of Delta data files with DuckDB, with the partition columns
 * joined back in (Delta keeps them out of the Parquet files; their values live in
 * `add.partitionValues`).
 *
 * Invariants:
 * - DuckDB is only ever handed the listed files: `read_parquet([...explicit paths])`, no globs.
 * - Only the data columns the caller names appear in the SQL, so DuckDB reads only those columns.
 * - A partition column whose value is the same in every file becomes a literal. Columns that
 *   differ between files are read from the hive-style directory names (`crypto=bitcoin/`) when every
 *   file's path provably spells exactly its `add.partitionValues` (DuckDB then also skips files by
 *   those values); otherwise they come from a join on `filename` with the add actions' values.
 * - Predicates are written against the raw file columns (`q.<col>`), so DuckDB can push them into
 *   the Parquet reader and skip row groups by their statistics.
 */
import { sqlIdent, sqlString } from './duckdb.ts'

export interface ScanFile {
  /** Local path DuckDB opens. */
  path: string
  /** Path inside the table folder (`year=2024/…/part-….parquet`), as the add action names it. */
  relativePath: string
  partitionValues: Record<string, string | null>
}

export type ScanColumn =
  /** A column read from the Parquet file; `expr` maps the raw column reference (e.g. to epoch_us). */
  | { name: string; from: 'data'; expr?: (ref: string) => string }
  /** A partition column, from the files' partition values, cast to `sqlType`. */
  | { name: string; from: 'partition'; sqlType: string }

export interface ScanOptions {
  files: readonly ScanFile[]
  columns: readonly ScanColumn[]
  /** Predicates over `q.<column>` (raw file columns), ANDed. */
  where?: readonly string[]
  /** Needed when files differ in their columns (schema evolution); costs a footer read per file. */
  unionByName: boolean
}

/** `SELECT <columns> FROM read_parquet([...]) q [JOIN (VALUES …) p ON …] [WHERE …]`. */
export function scanSql(o: ScanOptions): string {
  if (o.files.length === 0) throw new Error('scanSql needs at least one file')
  const partitionNames = o.columns.filter((c) => c.from === 'partition').map((c) => c.name)
  const varying = partitionNames.filter((name) => {
    const first = o.files[0]!.partitionValues[name] ?? null
    return o.files.some((f) => (f.partitionValues[name] ?? null) !== first)
  })
  const hive = varying.length > 0 && hivePathsMatch(o.files, varying)
  const join = varying.length > 0 && !hive
  const select = o.columns.map((c) => {
    if (c.from === 'data') {
      const ref = `q.${sqlIdent(c.name)}`
      return `${c.expr ? c.expr(ref) : ref} AS ${sqlIdent(c.name)}`
    }
    const value = !varying.includes(c.name)
      ? nullableString(o.files[0]!.partitionValues[c.name] ?? null)
      : `${hive ? 'q' : 'p'}.${sqlIdent(c.name)}`
    return `CAST(${value} AS ${c.sqlType}) AS ${sqlIdent(c.name)}`
  })
  const list = o.files.map((f) => sqlString(f.path)).join(', ')
  const options = [
    join && 'filename = true',
    hive && 'hive_partitioning = true, hive_types_autocast = false',
    o.unionByName && 'union_by_name = true',
  ]
    .filter((x) => x !== false)
    .map((x) => `, ${x}`)
    .join('')
  let sql = `SELECT ${select.join(', ')} FROM read_parquet([${list}]${options}) q`
  if (join) {
    const rows = o.files.map(
      (f) =>
        `(${[sqlString(f.path), ...varying.map((n) => nullableString(f.partitionValues[n] ?? null))].join(', ')})`,
    )
    sql += ` JOIN (VALUES ${rows.join(', ')}) p(${['file', ...varying].map(sqlIdent).join(', ')}) ON q.filename = p.file`
  }
  if (o.where && o.where.length > 0) sql += ` WHERE ${o.where.join(' AND ')}`
  return sql
}

const nullableString = (v: string | null): string => (v === null ? 'NULL' : sqlString(v))

/** Partition values DuckDB reads back from a path unchanged (no escaping, no null marker). */
const PLAIN_VALUE = /^[A-Za-z0-9._-]+$/

/**
 * Whether DuckDB's hive partitioning would read exactly `add.partitionValues` for `columns` from
 * every file's path: each directory of the relative path is `key=value`, the keys are the same
 * for every file, the values are plain and equal to the add action's, and the folders above the
 * table hold no `key=` directory that DuckDB would also pick up.
 */
export function hivePathsMatch(files: readonly ScanFile[], columns: readonly string[]): boolean {
  let keys: string | undefined
  const roots = new Set<string>()
  for (const f of files) {
    if (!f.path.endsWith(f.relativePath)) return false
    roots.add(f.path.slice(0, f.path.length - f.relativePath.length))
    const dirs = f.relativePath.split('/').slice(0, -1)
    const pairs = dirs.map((d) => d.split('='))
    if (pairs.some((p) => p.length !== 2)) return false
    const fileKeys = pairs.map((p) => p[0]).join('/')
    if (keys !== undefined && fileKeys !== keys) return false
    keys = fileKeys
    for (const c of columns) {
      const value = pairs.find((p) => p[0] === c)?.[1]
      if (value === undefined || !PLAIN_VALUE.test(value) || value !== f.partitionValues[c]) return false
    }
  }
  return [...roots].every((root) => !root.split(/[/\\]/).some((d) => d.includes('=')))
}

/** DuckDB errors that mean "the files do not all have the same columns": retry with union_by_name. */
export const isSchemaMismatch = (e: unknown): boolean =>
  e instanceof Error &&
  /schema mismatch|union_by_name|not found in FROM clause|does not have a column named/i.test(e.message)

/** A TIMESTAMPTZ literal for microseconds since the epoch (exact, no float seconds). */
export function timestampLiteral(micros: number): string {
  const ms = Math.floor(micros / 1000)
  const rest = micros - ms * 1000
  const iso = new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
  return `TIMESTAMPTZ '${iso}${String(rest).padStart(3, '0')}+00'`
}

/** DuckDB type for a Delta primitive type name (partition values are cast to it). */
export function duckType(deltaType: string): string {
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(deltaType)
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`
  const map: Record<string, string> = {
    string: 'VARCHAR',
    long: 'BIGINT',
    integer: 'INTEGER',
    short: 'SMALLINT',
    byte: 'TINYINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    binary: 'BLOB',
    date: 'DATE',
    timestamp: 'TIMESTAMPTZ',
    timestamp_ntz: 'TIMESTAMP',
  }
  return map[deltaType] ?? 'VARCHAR'
}
