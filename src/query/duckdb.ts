/**
 * One embedded DuckDB per process, used only to read Parquet files the lake snapshot selected.
 * DuckDB never discovers files itself (no globs over the warehouse): callers hand it the exact list.
 *
 * Invariants:
 * - Connections are pooled (opening one per query costs more than a small read): at most
 *   `poolSize` queries run at once, later ones wait in FIFO order.
 * - Parquet metadata is cached: data files are immutable (a Delta file is never rewritten in
 *   place), so a footer read once stays valid.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api'

export interface DuckDbOptions {
  /** DuckDB worker threads; default: DuckDB's (the core count). */
  threads?: number
  /** E.g. '1GB'; default: DuckDB's (80% of RAM). */
  memoryLimit?: string
  /** Connections kept open; default 4. */
  poolSize?: number
}

const DEFAULT_POOL_SIZE = 4

export class DuckDb {
  private readonly config: Record<string, string>
  private readonly poolSize: number
  private instance: DuckDBInstance | undefined
  private starting: Promise<DuckDBInstance> | undefined
  private readonly idle: DuckDBConnection[] = []
  private readonly waiting: ((c: DuckDBConnection) => void)[] = []
  private opened = 0
  private closed = false

  private constructor(config: Record<string, string>, poolSize: number) {
    this.config = config
    this.poolSize = poolSize
  }

  static async open(options: DuckDbOptions = {}): Promise<DuckDb> {
    const db = DuckDb.deferred(options)
    await db.start()
    return db
  }

  /**
   * A DuckDb whose instance starts on its first query: a process that may never query (a
   * `cryptoviz process` serving only its ops endpoints) does not hold DuckDB's memory for nothing.
   */
  static deferred(options: DuckDbOptions = {}): DuckDb {
    // Nothing is ever fetched from the internet at run time: Parquet support is built into the
    // binary, and remote warehouses are read through the local read cache, not httpfs.
    const config: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    }
    if (options.threads !== undefined) config['threads'] = String(options.threads)
    if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit
    return new DuckDb(config, Math.max(1, options.poolSize ?? DEFAULT_POOL_SIZE))
  }

  /** Creates the instance once; a failed start is retried by the next query. */
  private start(): Promise<DuckDBInstance> {
    this.starting ??= (async () => {
      const instance = await DuckDBInstance.create(':memory:', this.config)
      const connection = await instance.connect()
      // The setting belongs to the parquet extension, which must be loaded before it can be set.
      await connection.run('LOAD parquet; SET GLOBAL parquet_metadata_cache = true')
      if (this.closed) {
        connection.closeSync()
        instance.closeSync()
        throw new Error('DuckDb is closed')
      }
      this.instance = instance
      this.opened++
      this.idle.push(connection)
      return instance
    })().catch((e: unknown) => {
      this.starting = undefined
      throw e
    })
    return this.starting
  }

  /** Runs `fn` on a pooled connection; the connection goes back to the pool afterwards. */
  async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire()
    try {
      return await fn(connection)
    } finally {
      this.release(connection)
    }
  }

  /**
   * Rows as plain JS objects (BIGINT as bigint; convert timestamps in SQL, e.g. `epoch_us`).
   * `values` bind `$1, $2, …`; give `types` for lists, whose element type cannot be inferred.
   */
  async all(sql: string, values?: DuckDBValue[], types?: DuckDBType[]): Promise<Record<string, unknown>[]> {
    return rowObjects(await this.columns(sql, values, types))
  }

  /** The result column by column (values as in `all`): the cheapest shape for large results. */
  async columns(sql: string, values?: DuckDBValue[], types?: DuckDBType[]): Promise<ColumnResult> {
    return this.withConnection(async (c) => {
      const reader = await c.runAndReadAll(sql, values, types)
      return { names: reader.columnNames(), columns: reader.getColumnsJS(), rowCount: reader.currentRowCount }
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const c of this.idle.splice(0)) c.closeSync()
    this.instance?.closeSync()
  }

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('DuckDb is closed')
    const instance = this.instance ?? (await this.start())
    const idle = this.idle.pop()
    if (idle) return idle
    if (this.opened < this.poolSize) {
      this.opened++
      try {
        return await instance.connect()
      } catch (e) {
        this.opened--
        throw e
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private release(connection: DuckDBConnection): void {
    const next = this.waiting.shift()
    if (next) next(connection)
    else if (this.closed) connection.closeSync()
    else this.idle.push(connection)
  }
}

export interface ColumnResult {
  names: string[]
  /** One array per column, `rowCount` values each. */
  columns: unknown[][]
  rowCount: number
}

/** Rows as objects; one tight loop over the columns is faster than `getRowObjectsJS()`. */
export function rowObjects({ names, columns, rowCount }: ColumnResult): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(rowCount)
  for (let i = 0; i < rowCount; i++) {
    const row: Record<string, unknown> = {}
    for (let j = 0; j < names.length; j++) row[names[j]!] = columns[j]![i]
    rows[i] = row
  }
  return rows
}

/** A SQL string literal; DuckDB escapes a quote by doubling it. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** A quoted SQL identifier. */
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`
