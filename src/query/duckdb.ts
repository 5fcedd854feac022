/**
 * One embedded DuckDB per process, used only to read Parquet files the lake snapshot selected.
 * DuckDB never discovers files itself (no globs over the warehouse): callers hand it the exact list.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'

export class DuckDb {
  private readonly instance: DuckDBInstance

  private constructor(instance: DuckDBInstance) {
    this.instance = instance
  }

  static async open(options: { threads?: number; memoryLimit?: string } = {}): Promise<DuckDb> {
    const config: Record<string, string> = {}
    if (options.threads !== undefined) config['threads'] = String(options.threads)
    if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit
    return new DuckDb(await DuckDBInstance.create(':memory:', config))
  }

  /** Runs `fn` on a fresh connection, closed afterwards. */
  async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.instance.connect()
    try {
      return await fn(connection)
    } finally {
      connection.closeSync()
    }
  }

  async all(sql: string): Promise<Record<string, unknown>[]> {
    return this.withConnection(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS())
  }

  close(): void {
    this.instance.closeSync()
  }
}

/** A SQL string literal; DuckDB escapes a quote by doubling it. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** A quoted SQL identifier. */
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`
