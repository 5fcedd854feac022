/**
 * What one quote read works with: the snapshot it reads (fixed for the whole read), the hot tail
 * taken before that snapshot, and a way to run SQL over the quote relation of some files.
 */
import type { AddFile, Snapshot } from '../lake/index.ts'
import type { Quote } from '../model/quote.ts'
import type { ColumnResult } from './duckdb.ts'
import { selectPending, type QuoteRelationInput } from './quote-relation.ts'
import type { ScanInfo } from './types.ts'

export type RelationQuery = Omit<QuoteRelationInput, 'localPath' | 'unionByName' | 'firstParam'>

export interface ReadContext {
  snapshot: Snapshot
  /** Pending quotes (all of them; [] when the hot tail is not included). */
  pending: readonly Quote[]
  /**
   * Runs `wrap(relation)` where `relation` is the quote relation of `input` (a subquery).
   * Undefined when there is nothing to read.
   */
  select(
    input: RelationQuery,
    wrap: (relation: string) => string,
  ): Promise<Record<string, unknown>[] | undefined>
  /** `select`, column by column (for large results). */
  selectColumns(input: RelationQuery, wrap: (relation: string) => string): Promise<ColumnResult | undefined>
  /** `select` over several relations in one statement; undefined when any has nothing to read. */
  selectMany(
    inputs: readonly RelationQuery[],
    wrap: (relations: string[]) => string,
  ): Promise<Record<string, unknown>[] | undefined>
  /** Committed files that may already hold some of these pending quotes. */
  dedupFiles(hot: readonly Quote[]): AddFile[]
  /** version / files_total of the snapshot, with the given scanned-file and hot-row counts. */
  info(filesScanned: number, pendingRows: number): ScanInfo
}

/** A read's source filter: `sources`, or the deprecated single `source`; undefined = every source. */
export interface SourceFilter {
  /** Only these sources; undefined or empty: every source. */
  sources?: readonly string[] | undefined
  /** @deprecated One source, the same as `sources: [source]`. */
  source?: string | undefined
}

/** The sources a filter keeps, or undefined for every source. */
export function sourcesOf(f: SourceFilter): readonly string[] | undefined {
  const sources = f.sources && f.sources.length > 0 ? f.sources : undefined
  return sources ?? (f.source === undefined ? undefined : [f.source])
}

export interface AssetSliceFilter {
  crypto: string
  /** Undefined or empty: every source. */
  sources?: readonly string[] | undefined
  /** Microseconds, inclusive. */
  start?: number | undefined
  end?: number | undefined
}

/**
 * What a read of one asset over a time range touches: the committed files the snapshot keeps
 * after pruning, the matching hot-tail quotes, and the committed files that may already hold some
 * of those quotes (to de-duplicate against).
 */
export function assetSlice(
  ctx: ReadContext,
  f: AssetSliceFilter,
): { files: AddFile[]; hot: Quote[]; dedupFiles: AddFile[] } {
  const sources = f.sources && f.sources.length > 0 ? f.sources : undefined
  const files = ctx.snapshot.filesFor({
    partitions: { crypto: [f.crypto], ...(sources && { source: sources }) },
    ranges: {
      ts: { ...(f.start !== undefined && { min: f.start }), ...(f.end !== undefined && { max: f.end }) },
    },
  })
  const hot = selectPending(ctx.pending, {
    cryptos: new Set([f.crypto]),
    ...(sources && { sources: new Set(sources) }),
    ...(f.start !== undefined && { start: f.start }),
    ...(f.end !== undefined && { end: f.end }),
  })
  return { files, hot, dedupFiles: ctx.dedupFiles(hot) }
}

/** A DuckDB integer (bigint) or double as a JS number. */
export const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number))

export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v))
