/**
 * The query engine: the lake snapshot picks the files (partition values, then min/max stats) and
 * DuckDB reads only those files and only the requested columns. Partition columns are not in the
 * data files (Delta convention), so their values come from each file's `add.partitionValues`.
 *
 * Invariants:
 * - Every quote read reports the table version it read, how many files it scanned and how many
 *   of its rows came from the hot tail, so pruning and freshness are observable.
 * - One read sees one snapshot. With the hot tail, `pending()` is read *before* the snapshot is
 *   refreshed: a quote missing from the tail had been committed before that, so the fresh
 *   snapshot holds it (no gap), and a quote in both is de-duplicated (no double count).
 * - `asOf` reads never include the hot tail.
 * - DuckDB is never pointed at a glob: it gets the snapshot's explicit file list.
 */
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api'
import { CryptoVizError } from '../errors.ts'
import {
  dataFilePath,
  type AddFile,
  type DeltaTable,
  type HistoryEntry,
  type Snapshot,
} from '../lake/index.ts'
import type { Quote, QuoteField } from '../model/quote.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { ReadCache } from '../storage/read-cache.ts'
import { candles, type CandlesQuery, type CandlesResult } from './candles.ts'
import { catalog, files, type CatalogResult, type FilesQuery, type FilesResult } from './catalog.ts'
import { compare, type CompareQuery, type CompareResult } from './compare.ts'
import { rowObjects, type ColumnResult, type DuckDb } from './duckdb.ts'
import { isSchemaMismatch } from './file-scan.ts'
import { marketOverview, type LatestQuery, type LatestResult } from './market-overview.ts'
import { MarketState } from './market-state.ts'
import { quoteRelation } from './quote-relation.ts'
import { readRange, type RangeQuery, type RangeResult } from './range-read.ts'
import type { ReadContext, RelationQuery } from './read-context.ts'
import { SchemaHistory } from './schema-history.ts'
import { SnapshotCache } from './snapshot-cache.ts'
import {
  SqlConsole,
  type SqlConsoleOptions,
  type SqlOptions,
  type SqlResult,
  type SqlView,
} from './sql-console.ts'
import { checkLimit, invalid, type AsOf, type ReadOptions, type TableName } from './types.ts'

export type { AsOf, ScanInfo } from './types.ts'
export type { RangeQuery, RangeResult } from './range-read.ts'
export { timestampLiteral } from './file-scan.ts'

export interface QueryEngineOptions {
  /** The quotes table. */
  table: DeltaTable
  duckdb: DuckDb
  /**
   * Where files of a remote store (S3) are fetched to before DuckDB reads them; required for
   * remote stores. Local stores are read in place.
   */
  readCache?: ReadCache
  /** Enables dead_letters in catalog, history, files and the SQL console. */
  deadLetters?: DeltaTable
  /** The hot tail: quotes received but not committed yet (the processor's `pending()`). */
  pending?: () => readonly Quote[]
  /** How long the latest snapshot is reused without checking the log, ms (default 1000). */
  snapshotTtlMs?: number
  sql?: SqlConsoleOptions
  /** Answer `latest` and recent `candles` (without asOf) from maintained state instead of a scan (default true). */
  maintainedOverview?: boolean
}

const DEFAULT_SNAPSHOT_TTL_MS = 1_000

interface TableHandle {
  name: TableName
  table: DeltaTable
  snapshots: SnapshotCache
  schemaHistory: SchemaHistory
  timeColumn: string
}

export class QueryEngine {
  private readonly duckdb: DuckDb
  private readonly pending: (() => readonly Quote[]) | undefined
  private readonly quotes: TableHandle
  private readonly deadLetters: TableHandle | undefined
  private readonly console: SqlConsole
  private readonly localPaths = new WeakMap<AddFile, string>()
  private readonly readCache: ReadCache | undefined
  /** Snapshots whose files turned out to differ in columns (read with union_by_name). */
  private readonly mixedSchemas = new WeakSet<Snapshot>()
  private readonly marketState: MarketState | undefined

  constructor(options: QueryEngineOptions) {
    this.duckdb = options.duckdb
    this.readCache = options.readCache
    this.pending = options.pending
    const ttl = options.snapshotTtlMs ?? DEFAULT_SNAPSHOT_TTL_MS
    const handle = (name: TableName, table: DeltaTable, timeColumn: string): TableHandle => ({
      name,
      table,
      snapshots: new SnapshotCache(table, ttl),
      schemaHistory: new SchemaHistory(table),
      timeColumn,
    })
    this.quotes = handle('quotes', options.table, 'ts')
    this.deadLetters = options.deadLetters && handle('dead_letters', options.deadLetters, 'received_at')
    this.console = new SqlConsole(options.sql ?? {})
    this.marketState = options.maintainedOverview === false ? undefined : new MarketState()
  }

  /** The quotes snapshot (latest from the cache, or time travel). */
  snapshot(asOf?: AsOf): Promise<Snapshot> {
    return this.quotes.snapshots.get(asOf)
  }

  /** One asset's quotes in a time range, ordered by (ts, source). */
  async readRange<F extends QuoteField = QuoteField>(q: RangeQuery<F>): Promise<RangeResult<F>> {
    return readRange(await this.context(q), q)
  }

  /** OHLCV candles of one asset. */
  async candles(q: CandlesQuery): Promise<CandlesResult> {
    const ctx = await this.context(q)
    const maintained = this.marketState && q.asOf === undefined && (await this.marketState.candles(ctx, q))
    return maintained || candles(ctx, q)
  }

  /** Market overview: last quote per asset, computed changes and a 7-day sparkline. */
  async latest(q: LatestQuery = {}): Promise<LatestResult> {
    const ctx = await this.context(q)
    if (this.marketState && q.asOf === undefined) return this.marketState.latest(ctx, q)
    return marketOverview(ctx, q)
  }

  /** One asset's close price per source per bucket, and the spread between sources. */
  async compare(q: CompareQuery): Promise<CompareResult> {
    return compare(await this.context(q), q)
  }

  /** Tables, schemas (with the version each column appeared in), partition trees and totals. */
  async catalog(o: { asOf?: AsOf; depth?: number } = {}): Promise<CatalogResult> {
    checkLimit(o.depth, 'depth')
    const tables = []
    for (const h of this.tables()) {
      const snapshot = await h.snapshots.get(h.name === 'quotes' ? o.asOf : undefined)
      tables.push(
        catalog(snapshot, {
          name: h.name,
          timeColumn: h.timeColumn,
          since: await h.schemaHistory.since(snapshot),
          depth: o.depth ?? 3,
        }),
      )
    }
    return { tables }
  }

  /** Commits of a table, newest first. */
  async history(o: { table?: TableName; limit?: number } = {}): Promise<HistoryEntry[]> {
    checkLimit(o.limit)
    return this.handle(o.table ?? 'quotes').table.history(o.limit === undefined ? {} : { limit: o.limit })
  }

  /** Live data files of a table matching partition values and a time range. */
  async files(q: FilesQuery = {}): Promise<FilesResult> {
    const h = this.handle(q.table ?? 'quotes')
    return files(await h.snapshots.get(q.asOf), q, h.name, h.timeColumn)
  }

  /** A read-only SQL statement over views of the tables (see sql-console.ts for the lockdown). */
  async sql(text: string, o: SqlOptions = {}): Promise<SqlResult> {
    const quotes = await this.quotes.snapshots.get(o.asOf)
    const views = [await this.view(this.quotes, quotes)]
    if (this.deadLetters)
      views.push(await this.view(this.deadLetters, await this.deadLetters.snapshots.get()))
    const release = await this.fetchRemote(views.flatMap((v) => v.remote))
    try {
      return { version: quotes.version, ...(await this.console.run(text, views, o)) }
    } finally {
      release()
    }
  }

  /** Closes the SQL console's DuckDB instances (the shared `duckdb` belongs to the caller). */
  close(): void {
    this.console.close()
  }

  private async view(h: TableHandle, snapshot: Snapshot): Promise<SqlView & { remote: RemoteFile[] }> {
    const since = await h.schemaHistory.since(snapshot)
    // The console's SQL may read any file of the view, so a remote table's files are all fetched.
    const remote = snapshot.files().flatMap((f) => this.remoteFile(h.table, f))
    return {
      remote,
      name: h.name,
      key: `${h.name}@${snapshot.version}`,
      schema: snapshot.schema,
      partitionColumns: snapshot.partitionColumns,
      files: snapshot.files().map((f) => ({
        path: this.localPath(h.table, f),
        relativePath: dataFilePath(f),
        partitionValues: f.partitionValues,
      })),
      // Columns added after version 0 are missing from older files.
      unionByName: [...since.values()].some((v) => v > 0),
    }
  }

  private async context(q: ReadOptions): Promise<ReadContext> {
    const usePending = this.pending !== undefined && q.asOf === undefined && q.includePending !== false
    // The tail first, then a fresh snapshot: see the module invariants.
    const pending = usePending ? this.pending!() : []
    const snapshot = await this.quotes.snapshots.get(q.asOf, { fresh: usePending })
    return {
      snapshot,
      pending,
      select: async (input, wrap) => {
        const result = await this.select(snapshot, [input], ([relation]) => wrap(relation!))
        return result && rowObjects(result)
      },
      selectColumns: (input, wrap) => this.select(snapshot, [input], ([relation]) => wrap(relation!)),
      selectMany: async (inputs, wrap) => {
        const result = await this.select(snapshot, inputs, wrap)
        return result && rowObjects(result)
      },
      dedupFiles: (hot) => {
        if (hot.length === 0) return []
        let min = Infinity
        let max = -Infinity
        for (const h of hot) {
          min = Math.min(min, h.ts)
          max = Math.max(max, h.ts)
        }
        return snapshot.filesFor({
          partitions: {
            crypto: [...new Set(hot.map((h) => h.crypto))],
            source: [...new Set(hot.map((h) => h.source))],
          },
          ranges: { ts: { min, max } },
        })
      },
      info: (filesScanned, pendingRows) => ({
        version: snapshot.version,
        files_scanned: filesScanned,
        files_total: snapshot.files().length,
        pending_rows: pendingRows,
      }),
    }
  }

  private async select(
    snapshot: Snapshot,
    inputs: readonly RelationQuery[],
    wrap: (relations: string[]) => string,
  ): Promise<ColumnResult | undefined> {
    const run = async (unionByName: boolean): Promise<ColumnResult | undefined> => {
      const remote: RemoteFile[] = []
      const sqls: string[] = []
      const values: DuckDBValue[] = []
      const types: DuckDBType[] = []
      for (const input of inputs) {
        const relation = quoteRelation({
          ...input,
          localPath: (f) => {
            remote.push(...this.remoteFile(this.quotes.table, f))
            return this.localPath(this.quotes.table, f)
          },
          unionByName,
          firstParam: values.length + 1,
        })
        if (!relation) return undefined
        sqls.push(relation.sql)
        values.push(...relation.values)
        types.push(...relation.types)
      }
      // Only the files the relations selected (after pruning) are fetched, right before the read.
      const release = await this.fetchRemote(remote)
      try {
        return await this.duckdb.columns(wrap(sqls), values, types)
      } finally {
        release()
      }
    }
    const mixed = this.mixedSchemas.has(snapshot)
    try {
      return await run(mixed)
    } catch (e) {
      if (!mixed && isSchemaMismatch(e)) {
        this.mixedSchemas.add(snapshot)
        return run(true)
      }
      throw readError(e)
    }
  }

  private tables(): TableHandle[] {
    return this.deadLetters ? [this.quotes, this.deadLetters] : [this.quotes]
  }

  private handle(name: TableName): TableHandle {
    if (name === 'quotes') return this.quotes
    if (name === 'dead_letters' && this.deadLetters) return this.deadLetters
    throw invalid(
      `unknown table "${String(name)}"; tables are ${this.tables()
        .map((t) => t.name)
        .join(', ')}`,
    )
  }

  /** The local file DuckDB reads for `file`: in place, or its read-cache copy for remote stores. */
  private localPath(table: DeltaTable, file: AddFile): string {
    const cached = this.localPaths.get(file)
    if (cached !== undefined) return cached
    const storePath = dataFilePath(file)
    const path =
      table.store.localPath(storePath) ?? this.cache(table.store.url).pathFor(table.store, storePath)
    this.localPaths.set(file, path)
    return path
  }

  /** `file` as a fetch to do when its table's store is remote; nothing when it is local. */
  private remoteFile(table: DeltaTable, file: AddFile): RemoteFile[] {
    const path = dataFilePath(file)
    return table.store.localPath(path) === undefined ? [{ store: table.store, path }] : []
  }

  private cache(url: string): ReadCache {
    if (this.readCache) return this.readCache
    throw new CryptoVizError(
      'QUERY_INVALID',
      `the query engine needs a read cache to read a remote warehouse (${url})`,
      { kind: 'user' },
    )
  }

  /** Fetches remote files into the read cache, pinned until the returned release is called. */
  private async fetchRemote(files: readonly RemoteFile[]): Promise<() => void> {
    if (files.length === 0) return () => undefined
    const cache = this.cache(files[0]!.store.url)
    try {
      return await cache.fill(files)
    } catch (e) {
      throw readError(e)
    }
  }

  /** Read-cache counters, when the engine has a cache. */
  readCacheStats(): ReturnType<ReadCache['stats']> | undefined {
    return this.readCache?.stats()
  }
}

interface RemoteFile {
  store: ObjectStore
  path: string
}

/** A DuckDB failure while reading data files: missing or unreadable files are storage errors. */
function readError(e: unknown): unknown {
  if (
    e instanceof Error &&
    /IO Error|Cannot open file|No such file|Invalid Input Error: .*parquet/i.test(e.message)
  ) {
    return new CryptoVizError('STORAGE_IO', `reading data files failed: ${e.message}`, {
      kind: 'external',
      cause: e,
      canRetry: true,
    })
  }
  return e
}
