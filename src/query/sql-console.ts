/**
 * The read-only SQL console: one user statement over views of the tables, on a DuckDB instance
 * of its own that cannot touch anything else.
 *
 * Lockdown, in the order it is applied to each console instance (one per set of table versions):
 * 1. Created with `autoload_known_extensions=false`, `autoinstall_known_extensions=false`,
 *    `allow_community_extensions=false`, a `memory_limit`, few threads and no temp directory
 *    (no spilling to disk).
 * 2. Views `quotes` / `dead_letters` are created over the snapshot's explicit file list, with the
 *    partition columns joined in from the add actions.
 * 3. `allowed_paths` is set to exactly those files, then `enable_external_access=false`, then
 *    `lock_configuration=true`. DuckDB 1.5 checks file access when a view is *queried*, so
 *    without the allow-list the views themselves fail with a Permission Error; with it, any other
 *    path (`/etc/passwd`, a glob, a tombstoned file of the same table) stays refused, and no
 *    later `SET` can undo any of this.
 *
 * Every statement is also checked before it runs, with DuckDB's own parser: exactly one
 * statement (`extractStatements`); its prepared type must be SELECT or EXPLAIN; a SELECT must
 * serialize as a SELECT at the parser level (`json_serialize_sql`, which refuses PRAGMA and the
 * like that DuckDB rewrites into SELECTs); EXPLAIN's inner statement must pass the same checks
 * (EXPLAIN ANALYZE runs it); and table functions that read files or run SQL text are refused
 * by name, so the error says why. The engine settings above are the real guarantee; the checks
 * give clear `SQL_FORBIDDEN` messages.
 *
 * Partition pruning (`prunedFiles`): a plain SELECT whose WHERE pins partition columns to text
 * values runs against a TEMP view over just the matching files, created on its own connection
 * before the statement is prepared; see `prunedFiles` for when it applies.
 *
 * Limits: a timeout interrupts the connection (`SQL_TIMEOUT`), and so does the caller's abort
 * signal (the HTTP client went away: nobody waits for the answer, so the statement stops holding
 * DuckDB's thread); results are streamed and cut at `maxRows` (the result says it was truncated).
 */
import {
  DuckDBInstance,
  StatementType,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
} from '@duckdb/node-api'
import { CryptoVizError } from '../errors.ts'
import type { StructType } from '../lake/index.ts'
import { sqlIdent, sqlString } from './duckdb.ts'
import { duckType, scanSql, type ScanColumn, type ScanFile } from './file-scan.ts'
import { checkAsOf, invalid, type AsOf } from './types.ts'

export interface SqlConsoleOptions {
  /** Per console instance; default '256MB'. */
  memoryLimit?: string
  /** Default 1. */
  threads?: number
  /** Default 5_000. */
  defaultTimeoutMs?: number
  /** Larger timeoutMs are clamped; default 30_000. */
  maxTimeoutMs?: number
  /** Default 1_000. */
  defaultMaxRows?: number
  /** Larger maxRows are clamped; default 10_000. */
  maxMaxRows?: number
}

const defaults = {
  memoryLimit: '256MB',
  threads: 1,
  /** Five seconds. */
  defaultTimeoutMs: 5_000,
  maxTimeoutMs: 30_000,
  defaultMaxRows: 1_000,
  maxMaxRows: 10_000,
} satisfies Required<SqlConsoleOptions>

export interface SqlOptions {
  asOf?: AsOf
  timeoutMs?: number
  maxRows?: number
  /** Aborted when nobody waits for the answer any more: the statement is interrupted. */
  signal?: AbortSignal
}

export interface SqlResult {
  /** Quotes table version the views show. */
  version: number
  /** DESCRIBE, SHOW, SUMMARIZE and WITH report as SELECT. */
  statement_type: 'SELECT' | 'EXPLAIN'
  columns: { name: string; type: string }[]
  /** JSON-safe values: integers as numbers when exact (else strings), timestamps/decimals as strings. */
  rows: Record<string, unknown>[]
  row_count: number
  /** More rows existed than maxRows. */
  truncated: boolean
  elapsed_ms: number
}

/** A table as the console shows it. */
export interface SqlView {
  name: string
  /** Identifies the table version (instances are cached by the keys of their views). */
  key: string
  schema: StructType
  partitionColumns: readonly string[]
  files: readonly ScanFile[]
  unionByName: boolean
}

const MAX_SQL_LENGTH = 100_000
const INSTANCES_KEPT = 2

/** Table functions refused by name: they read files or run SQL text. */
const FORBIDDEN_TABLE_FUNCTION =
  /^(read_.*|.*_scan|parquet_.*|sniff_csv|glob|query|query_table|json_execute_serialized_sql|checkpoint|force_checkpoint|iceberg_.*|delta_.*|sqlite_.*|postgres_.*|mysql_.*|duckdb_secrets|which_secret)$/
const FORBIDDEN_FUNCTION = /^(getenv|read_.*)$/
/** A table name that DuckDB would resolve as a file path (replacement scan): `FROM '/etc/passwd'`. */
const FILE_LIKE = /[/\\:*?]|\.[A-Za-z0-9]+$/

interface LockedInstance {
  instance: DuckDBInstance
  refs: number
  evicted: boolean
}

export class SqlConsole {
  private readonly o: Required<SqlConsoleOptions>
  private readonly instances = new Map<string, Promise<LockedInstance>>()
  private closed = false

  constructor(options: SqlConsoleOptions) {
    this.o = { ...defaults, ...options }
  }

  async run(text: string, views: readonly SqlView[], o: SqlOptions): Promise<Omit<SqlResult, 'version'>> {
    checkAsOf(o.asOf)
    if (typeof text !== 'string' || text.trim() === '') throw invalid('the SQL text is empty')
    if (text.length > MAX_SQL_LENGTH)
      throw invalid(`the SQL text is longer than ${MAX_SQL_LENGTH} characters`)
    const timeoutMs = clamp(o.timeoutMs ?? this.o.defaultTimeoutMs, 1, this.o.maxTimeoutMs, 'timeoutMs')
    const maxRows = clamp(o.maxRows ?? this.o.defaultMaxRows, 1, this.o.maxMaxRows, 'maxRows')
    const started = performance.now()
    if (o.signal?.aborted) throw cancelledError()
    const locked = await this.acquire(views)
    let connection: DuckDBConnection | undefined
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      connection?.interrupt()
    }, timeoutMs)
    const onAbort = (): void => connection?.interrupt()
    o.signal?.addEventListener('abort', onAbort, { once: true })
    const checkTime = (): void => {
      if (timedOut) throw timeoutError(timeoutMs)
      if (o.signal?.aborted) throw cancelledError()
    }
    try {
      connection = await locked.instance.connect()
      checkTime()
      const c = connection
      const { prepared, type } = await checkStatement(c, text, checkTime, async (statement) => {
        for (const v of views) {
          const files = prunedFiles(statement, v)
          if (files !== undefined) await c.run(viewSql({ ...v, files }, 'TEMP'))
        }
      })
      checkTime()
      const reader = await prepared.streamAndReadUntil(maxRows + 1)
      checkTime()
      const names = reader.columnNames()
      const types = reader.columnTypes().map((t) => t.toString())
      const all = reader.getRowObjectsJson()
      const rows = all.slice(0, maxRows).map((r) => jsonRow(r, names, types))
      return {
        statement_type: type,
        columns: names.map((name, i) => ({ name, type: types[i]! })),
        rows,
        row_count: rows.length,
        truncated: all.length > maxRows,
        elapsed_ms: Math.round(performance.now() - started),
      }
    } catch (e) {
      if (timedOut) throw timeoutError(timeoutMs)
      if (o.signal?.aborted) throw cancelledError()
      throw sqlError(e)
    } finally {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      connection?.closeSync()
      this.release(locked)
    }
  }

  close(): void {
    this.closed = true
    for (const [key, pending] of this.instances) {
      this.instances.delete(key)
      void pending.then((l) => this.evict(l)).catch(() => undefined)
    }
  }

  private async acquire(views: readonly SqlView[]): Promise<LockedInstance> {
    if (this.closed)
      throw new CryptoVizError('SHUTTING_DOWN', 'the SQL console is closed', { kind: 'external' })
    const key = views.map((v) => v.key).join('|')
    let pending = this.instances.get(key)
    if (pending) {
      this.instances.delete(key) // re-inserted below: most recently used last
    } else {
      pending = this.build(views)
      pending.catch(() => this.instances.delete(key))
    }
    this.instances.set(key, pending)
    while (this.instances.size > INSTANCES_KEPT) {
      const [oldKey, old] = this.instances.entries().next().value!
      this.instances.delete(oldKey)
      void old.then((l) => this.evict(l)).catch(() => undefined)
    }
    const locked = await pending
    locked.refs++
    return locked
  }

  private release(locked: LockedInstance): void {
    locked.refs--
    if (locked.evicted && locked.refs === 0) locked.instance.closeSync()
  }

  private evict(locked: LockedInstance): void {
    locked.evicted = true
    if (locked.refs === 0) locked.instance.closeSync()
  }

  private async build(views: readonly SqlView[]): Promise<LockedInstance> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(this.o.threads),
      memory_limit: this.o.memoryLimit,
      autoload_known_extensions: 'false',
      autoinstall_known_extensions: 'false',
      allow_community_extensions: 'false',
      temp_directory: '',
    })
    try {
      const c = await instance.connect()
      try {
        await c.run('LOAD parquet; SET GLOBAL parquet_metadata_cache = true')
        for (const v of views) await c.run(viewSql(v))
        const paths = views.flatMap((v) => v.files.map((f) => f.path))
        await c.run(`SET GLOBAL allowed_paths = [${paths.map(sqlString).join(', ')}]`)
        await c.run('SET GLOBAL enable_external_access = false')
        await c.run('SET GLOBAL lock_configuration = true')
      } finally {
        c.closeSync()
      }
    } catch (e) {
      instance.closeSync()
      throw e
    }
    return { instance, refs: 0, evicted: false }
  }
}

function viewSql(v: SqlView, kind: 'TEMP' | '' = ''): string {
  const columns: ScanColumn[] = v.schema.fields.map((f) =>
    v.partitionColumns.includes(f.name)
      ? { name: f.name, from: 'partition', sqlType: duckType(typeof f.type === 'string' ? f.type : '') }
      : { name: f.name, from: 'data' },
  )
  const body =
    v.files.length > 0
      ? scanSql({ files: v.files, columns, unionByName: v.unionByName })
      : // No files yet: an empty relation with the table's columns.
        `SELECT ${v.schema.fields
          .map(
            (f) =>
              `CAST(NULL AS ${duckType(typeof f.type === 'string' ? f.type : '')}) AS ${sqlIdent(f.name)}`,
          )
          .join(', ')} WHERE false`
  return `CREATE ${kind === 'TEMP' ? 'TEMP ' : ''}VIEW ${sqlIdent(v.name)} AS ${body}`
}

const LEADING_COMMENTS = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/
const EXPLAIN_PREFIX = /^EXPLAIN(?:\s+ANALY[SZ]E)?\b/i

/**
 * Validates one statement with DuckDB's parser and returns it prepared. The parse tree is checked
 * before the statement is prepared (binding would already touch files), so a refused function
 * gets its own message rather than DuckDB's permission error.
 */
async function checkStatement(
  c: DuckDBConnection,
  text: string,
  checkTime: () => void,
  beforePrepare: (select: SqlNode) => Promise<void>,
): Promise<{ prepared: DuckDBPreparedStatement; type: 'SELECT' | 'EXPLAIN' }> {
  const extracted = await c.extractStatements(text)
  if (extracted.count === 0) throw invalid('the SQL text holds no statement')
  if (extracted.count > 1) {
    throw forbidden(`send exactly one statement; this text holds ${extracted.count}`)
  }
  const body = text.replace(LEADING_COMMENTS, '')
  const select = await checkSelectTree(c, body)
  const isSelect = select !== undefined
  checkTime()
  const explainInner = body.replace(EXPLAIN_PREFIX, '')
  const isExplain =
    !isSelect && explainInner !== body && (await checkSelectTree(c, explainInner)) !== undefined
  checkTime()
  if (!isSelect && !isExplain) {
    // Not a read-only statement whatever DuckDB calls it; preparing it only names the kind, and
    // may itself fail (COPY binds its target file, INSERT its table).
    const kind = await extracted
      .prepare(0)
      .then((p) => StatementType[p.statementType])
      .catch(() => /^[A-Za-z]+/.exec(body)?.[0]?.toUpperCase())
    throw forbidden(
      `${READ_ONLY}, not ${kind === 'SELECT' ? 'PRAGMA and the like' : (kind ?? 'this statement')}`,
    )
  }
  if (select !== undefined) await beforePrepare(select)
  const prepared = await extracted.prepare(0)
  const type = prepared.statementType
  if ((type === StatementType.SELECT && !isSelect) || (type === StatementType.EXPLAIN && !isExplain)) {
    throw forbidden(`${READ_ONLY}, not ${StatementType[type] ?? type} in this form`)
  }
  if (type !== StatementType.SELECT && type !== StatementType.EXPLAIN) {
    throw forbidden(`${READ_ONLY}, not ${StatementType[type] ?? type}`)
  }
  if (prepared.parameterCount > 0) throw invalid('parameters ($1, ?) are not supported in the SQL console')
  return { prepared, type: type === StatementType.EXPLAIN ? 'EXPLAIN' : 'SELECT' }
}

const READ_ONLY = 'only read-only queries are allowed (SELECT, WITH, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE)'

/** A node of DuckDB's parse tree as `json_serialize_sql` writes it. */
type SqlNode = Record<string, unknown>

/**
 * The statement's parse tree when it parses as a single SELECT (else undefined); throws
 * SQL_FORBIDDEN when it calls a function that reads files or runs SQL text.
 */
async function checkSelectTree(c: DuckDBConnection, text: string): Promise<SqlNode | undefined> {
  const reader = await c.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [text])
  const tree = JSON.parse(String(reader.getRowObjectsJS()[0]?.['tree'])) as {
    error?: boolean
    statements?: unknown[]
  }
  if (tree.error || !tree.statements || tree.statements.length !== 1) return undefined
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (typeof node !== 'object' || node === null) return
    const n = node as Record<string, unknown>
    if (n['type'] === 'TABLE_FUNCTION') {
      const fn = (n['function'] as Record<string, unknown> | undefined)?.['function_name']
      if (typeof fn === 'string' && FORBIDDEN_TABLE_FUNCTION.test(fn.toLowerCase())) {
        throw forbidden(`${fn}() is not allowed: the console reads only the views quotes and dead_letters`)
      }
    }
    if (
      n['type'] === 'BASE_TABLE' &&
      typeof n['table_name'] === 'string' &&
      FILE_LIKE.test(n['table_name'])
    ) {
      throw forbidden(
        `reading files by name is not allowed (${n['table_name']}); query the views quotes and dead_letters`,
      )
    }
    if (n['class'] === 'FUNCTION' && typeof n['function_name'] === 'string') {
      const fn = n['function_name'].toLowerCase()
      if (FORBIDDEN_FUNCTION.test(fn)) throw forbidden(`${fn}() is not allowed in the SQL console`)
    }
    for (const v of Object.values(n)) visit(v)
  }
  visit(tree.statements)
  return tree.statements[0] as SqlNode
}

/**
 * Partition pruning for the plain case, so `WHERE crypto = 'bitcoin' AND day = '01' … LIMIT 20`
 * does not make DuckDB bind and open a view over every file of the table: the files of `view`
 * that can hold rows of `select`, or undefined when the view is kept whole.
 *
 * Pruned only when it is provably the same answer: the statement is one SELECT (no CTE, no set
 * operation) whose FROM is the view itself (no join, no sample, no time travel clause), the view
 * is named nowhere else in the statement, and the WHERE clause's top-level AND holds
 * `<partition column> = '<text>'` terms on string partition columns. Each such term must hold
 * for every row, so a file whose partition value differs holds none of the answer; all other
 * terms stay in the query as they are. The narrower view is a TEMP view on the statement's own
 * connection (it shadows the full one there and goes with the connection), over a subset of the
 * files `allowed_paths` already lists: the sandbox is unchanged.
 */
export function prunedFiles(select: SqlNode, view: SqlView): ScanFile[] | undefined {
  const node = select['node'] as SqlNode | undefined
  if (node?.['type'] !== 'SELECT_NODE' || node['sample']) return undefined
  const ctes = (node['cte_map'] as { map?: unknown[] } | undefined)?.map
  if (ctes && ctes.length > 0) return undefined
  const from = node['from_table'] as SqlNode | undefined
  if (
    from?.['type'] !== 'BASE_TABLE' ||
    String(from['table_name']).toLowerCase() !== view.name ||
    from['schema_name'] ||
    from['catalog_name'] ||
    from['at_clause'] ||
    from['sample'] ||
    // `FROM quotes q(a, b, crypto)` renames columns by position: names no longer mean the view's.
    (Array.isArray(from['column_name_alias']) && from['column_name_alias'].length > 0) ||
    countTableRefs(select, view.name) !== 1
  ) {
    return undefined
  }
  const alias = String(from['alias'] || view.name).toLowerCase()
  const stringPartitions = new Set(
    view.partitionColumns.filter((name) =>
      view.schema.fields.some((f) => f.name === name && f.type === 'string'),
    ),
  )
  const where = node['where_clause'] as SqlNode | null | undefined
  const terms =
    where?.['type'] === 'CONJUNCTION_AND' ? (where['children'] as SqlNode[]) : where ? [where] : []
  const required: [string, string][] = []
  for (const term of terms) {
    if (term['type'] !== 'COMPARE_EQUAL') continue
    const sides = [term['left'], term['right']] as SqlNode[]
    const column = sides.find((x) => x?.['type'] === 'COLUMN_REF')
    const constant = sides.find((x) => x?.['type'] === 'VALUE_CONSTANT')
    if (!column || !constant) continue
    const names = (column['column_names'] as string[]).map((n) => n.toLowerCase())
    const name =
      names.length === 1 ? names[0]! : names.length === 2 && names[0] === alias ? names[1]! : undefined
    const value = constant['value'] as { type?: { id?: string }; is_null?: boolean; value?: unknown }
    if (name === undefined || !stringPartitions.has(name)) continue
    if (value.type?.id !== 'VARCHAR' || value.is_null || typeof value.value !== 'string') continue
    required.push([name, value.value])
  }
  if (required.length === 0) return undefined
  return view.files.filter((f) => required.every(([name, value]) => f.partitionValues[name] === value))
}

/** How often the tree names `table` as a table (FROM, JOIN, subqueries), whatever its schema. */
function countTableRefs(tree: unknown, table: string): number {
  if (Array.isArray(tree)) return tree.reduce((n: number, x) => n + countTableRefs(x, table), 0)
  if (typeof tree !== 'object' || tree === null) return 0
  const n = tree as SqlNode
  const self = n['type'] === 'BASE_TABLE' && String(n['table_name']).toLowerCase() === table ? 1 : 0
  return self + Object.values(n).reduce((sum: number, v) => sum + countTableRefs(v, table), 0)
}

const INTEGER_TYPES = new Set(['BIGINT', 'HUGEINT', 'UBIGINT', 'UHUGEINT'])

/** DuckDB's JSON rows with exact integers as numbers (they come as strings). */
function jsonRow(row: Record<string, unknown>, names: string[], types: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  names.forEach((name, i) => {
    const v = row[name]
    if (typeof v === 'string' && INTEGER_TYPES.has(types[i]!)) {
      const n = Number(v)
      out[name] = Number.isSafeInteger(n) ? n : v
    } else out[name] = v
  })
  return out
}

function clamp(v: number, min: number, max: number, name: string): number {
  if (!Number.isFinite(v)) throw invalid(`${name} must be a number`)
  return Math.min(max, Math.max(min, Math.trunc(v)))
}

const forbidden = (message: string): CryptoVizError =>
  new CryptoVizError('SQL_FORBIDDEN', message, { kind: 'user' })

const timeoutError = (ms: number): CryptoVizError =>
  new CryptoVizError('SQL_TIMEOUT', `the statement ran longer than ${ms} ms and was interrupted`, {
    kind: 'user',
    details: { timeoutMs: ms },
  })

const cancelledError = (): CryptoVizError =>
  new CryptoVizError('SQL_TIMEOUT', 'the statement was interrupted: its request was abandoned', {
    kind: 'user',
  })

/** DuckDB's refusals as SQL_FORBIDDEN, everything else DuckDB reports as a bad query. */
function sqlError(e: unknown): unknown {
  if (e instanceof CryptoVizError || !(e instanceof Error)) return e
  if (/Permission Error|disabled by configuration|configuration has been locked/i.test(e.message)) {
    return forbidden(
      `not allowed: ${e.message.split('\n')[0]} (the console reads only the views quotes and dead_letters)`,
    )
  }
  if (/INTERRUPT/i.test(e.message)) {
    return new CryptoVizError('SQL_TIMEOUT', 'the statement was interrupted', { kind: 'user', cause: e })
  }
  return new CryptoVizError('QUERY_INVALID', e.message, { kind: 'user', cause: e })
}
