/**
 * The query engine's public API: everything the HTTP layer, the CLI and tests use is named here.
 */
export { DuckDb, sqlIdent, sqlString, type DuckDbOptions } from './duckdb.ts'
export { QueryEngine, type QueryEngineOptions } from './engine.ts'
export type { RangeQuery, RangeResult } from './range-read.ts'
export type { Candle, CandlesQuery, CandlesResult } from './candles.ts'
export type { ComparePoint, CompareQuery, CompareResult } from './compare.ts'
export {
  LATEST_SORTS,
  type LatestQuery,
  type LatestResult,
  type LatestSort,
  type MarketRow,
} from './market-overview.ts'
export type {
  CatalogColumn,
  CatalogResult,
  FileEntry,
  FilesQuery,
  FilesResult,
  PartitionNode,
  PartitionStats,
  TableCatalog,
} from './catalog.ts'
export type { SqlConsoleOptions, SqlOptions, SqlResult } from './sql-console.ts'
export {
  CANDLE_INTERVALS,
  INTERVAL_MICROS,
  type AsOf,
  type CandleInterval,
  type ReadOptions,
  type ScanInfo,
  type TableName,
} from './types.ts'
