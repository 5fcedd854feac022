/**
 * OPTIMIZE (bin-packing compaction): per partition, the files smaller than the target size are
 * grouped into bins of about the target size (and at most `maxRowsPerFile` rows), each bin is
 * read, sorted and rewritten as one file, and the partition is committed as one transaction of
 * `remove` + `add` actions, all with `dataChange: false`.
 *
 * Invariants:
 * - The rows of the table never change: every rewritten row comes from exactly one removed file
 *   of the same partition, and the transaction removes exactly the files it read.
 * - Only rearranging (`dataChange: false`), so concurrent blind appends never conflict with it
 *   (they add new files it did not read, which stay live). If a concurrent commit removed a file
 *   it read (another OPTIMIZE, a delete), that partition's transaction is abandoned, its new files
 *   deleted, and the partition retried from a fresh snapshot in a later round.
 * - Memory is bounded by one bin: rows are read and written one bin at a time, and only the
 *   actions of the current partition are kept.
 */
import { CryptoVizError } from '../errors.ts'
import type { Action, AddFile } from './actions.ts'
import type { Row as WriteRow } from './column-builder.ts'
import { dataFileDefaults, prepareDataFiles, type Compression } from './data-files.ts'
import type { DeltaTable } from './delta-table.ts'
import { fileStats } from './file-stats.ts'
import { dataFilePath } from './partition-path.ts'
import type { PartitionPredicate, PartitionValues } from './partition-predicate.ts'
import { readRows } from './scan.ts'
import type { Snapshot } from './snapshot.ts'

export interface OptimizeOptions {
  /** Only partitions whose values satisfy this (default: every partition). */
  where?: PartitionPredicate
  /** Text of the predicate, recorded in commitInfo. */
  whereText?: string
  /** Files at or above this size are left alone; bins are filled up to it. Default 128 MiB. */
  targetFileSize?: number
  /** A partition is compacted only when it has at least this many small files. Default 2. */
  minFiles?: number
  /** Rows per output file at most (bounds memory). Default the writer's 1,048,576. */
  maxRowsPerFile?: number
  /** Row order inside each output file, e.g. ['crypto', 'ts']. */
  sortBy?: readonly string[]
  compression?: Compression
  /** Rounds of retrying partitions abandoned after a conflict. Default 3. */
  retries?: number
  /** Stop after this many partition commits (incremental, throttled runs). Default unlimited. */
  maxPartitions?: number
  /** Checked between bins: an aborted run stops cleanly, committed partitions stay committed. */
  signal?: AbortSignal
  /** Called after each partition with files processed so far out of the planned small files. */
  onProgress?: (p: { doneFiles: number; totalFiles: number; partition: PartitionValues }) => void
  /** Awaited between bins (throttling hook: e.g. a short sleep so ingestion keeps its rate). */
  pause?: () => Promise<void>
}

export interface OptimizeResult {
  /** Partitions rewritten and committed. */
  partitionsCompacted: number
  /** Partitions given up after `retries` conflicting rounds. */
  partitionsAbandoned: number
  /** Partition conflicts met (each retried later, up to `retries` rounds). */
  conflicts: number
  filesRemoved: number
  filesAdded: number
  rows: number
  bytesRemoved: number
  bytesAdded: number
  /** Versions committed, in order. */
  versions: number[]
  /** True when the run stopped early (signal or maxPartitions) with work left. */
  partial: boolean
}

export const optimizeDefaults = {
  targetFileSize: 128 * 1024 * 1024,
  minFiles: 2,
  retries: 3,
} as const

interface PartitionPlan {
  key: string
  values: PartitionValues
  bins: AddFile[][]
  files: number
}

/** Plans which partitions have enough small files, and how they are binned. */
export function planOptimize(
  snapshot: Snapshot,
  o: Pick<OptimizeOptions, 'where' | 'targetFileSize' | 'minFiles' | 'maxRowsPerFile'> = {},
): PartitionPlan[] {
  const target = o.targetFileSize ?? optimizeDefaults.targetFileSize
  const minFiles = Math.max(2, o.minFiles ?? optimizeDefaults.minFiles)
  const maxRows = o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile
  const columns = snapshot.partitionColumns
  const byPartition = new Map<string, { values: PartitionValues; files: AddFile[] }>()
  for (const f of snapshot.files()) {
    if (f.size >= target) continue
    const values: PartitionValues = {}
    for (const c of columns) values[c] = normalise(f.partitionValues[c])
    if (o.where && !o.where(values)) continue
    const key = JSON.stringify(columns.map((c) => values[c]))
    let p = byPartition.get(key)
    if (!p) byPartition.set(key, (p = { values, files: [] }))
    p.files.push(f)
  }
  const plans: PartitionPlan[] = []
  for (const [key, p] of byPartition) {
    if (p.files.length < minFiles) continue
    // Oldest first keeps each bin's rows close in time (streaming files arrive in time order).
    p.files.sort((a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1))
    const bins: AddFile[][] = []
    let bin: AddFile[] = []
    let bytes = 0
    let rows = 0
    for (const f of p.files) {
      const n = fileStats(f)?.numRecords ?? 0
      if (bin.length > 0 && (bytes + f.size > target || rows + n > maxRows)) {
        bins.push(bin)
        bin = []
        bytes = 0
        rows = 0
      }
      bin.push(f)
      bytes += f.size
      rows += n
    }
    if (bin.length > 0) bins.push(bin)
    const useful = bins.filter((b) => b.length > 1)
    if (useful.length === 0) continue
    plans.push({ key, values: p.values, bins: useful, files: useful.reduce((s, b) => s + b.length, 0) })
  }
  plans.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return plans
}

/** Compacts the table's small files (see the module comment). */
export async function optimizeTable(table: DeltaTable, o: OptimizeOptions = {}): Promise<OptimizeResult> {
  const result: OptimizeResult = {
    partitionsCompacted: 0,
    partitionsAbandoned: 0,
    conflicts: 0,
    filesRemoved: 0,
    filesAdded: 0,
    rows: 0,
    bytesRemoved: 0,
    bytesAdded: 0,
    versions: [],
    partial: false,
  }
  const retries = o.retries ?? optimizeDefaults.retries
  let only: Set<string> | undefined // after round 0: the partitions that conflicted
  let doneFiles = 0
  let totalFiles = 0
  for (let round = 0; round <= retries; round++) {
    const snapshot = await table.snapshot()
    const plans = planOptimize(snapshot, o).filter((p) => !only || only.has(p.key))
    if (round === 0) totalFiles = plans.reduce((s, p) => s + p.files, 0)
    const conflicted = new Set<string>()
    for (const plan of plans) {
      if (
        o.signal?.aborted ||
        (o.maxPartitions !== undefined && result.partitionsCompacted >= o.maxPartitions)
      ) {
        result.partial = true
        return result
      }
      const outcome = await compactPartition(table, snapshot, plan, o)
      if (outcome === 'aborted') {
        result.partial = true
        return result
      }
      if (outcome.status === 'conflict') {
        result.conflicts++
        conflicted.add(plan.key)
        continue
      }
      result.partitionsCompacted++
      result.filesRemoved += outcome.removed
      result.filesAdded += outcome.added
      result.rows += outcome.rows
      result.bytesRemoved += outcome.bytesRemoved
      result.bytesAdded += outcome.bytesAdded
      result.versions.push(outcome.version)
      doneFiles += plan.files
      o.onProgress?.({ doneFiles, totalFiles, partition: plan.values })
    }
    if (conflicted.size === 0) return result
    only = conflicted
  }
  result.partitionsAbandoned = only?.size ?? 0
  return result
}

type PartitionOutcome =
  | 'aborted'
  | { status: 'conflict' }
  | {
      status: 'committed'
      version: number
      removed: number
      added: number
      rows: number
      bytesRemoved: number
      bytesAdded: number
    }

async function compactPartition(
  table: DeltaTable,
  snapshot: Snapshot,
  plan: PartitionPlan,
  o: OptimizeOptions,
): Promise<PartitionOutcome> {
  const written: string[] = []
  const adds: AddFile[] = []
  const read: AddFile[] = []
  let rows = 0
  const discard = async (): Promise<void> => {
    for (const p of written) await table.store.delete(p).catch(() => undefined)
  }
  for (const bin of plan.bins) {
    if (o.signal?.aborted) {
      await discard()
      return 'aborted'
    }
    await o.pause?.()
    const binRows = (await readRows(table.store, snapshot, { files: bin })) as WriteRow[]
    const expected = bin.reduce((s, f) => s + (fileStats(f)?.numRecords ?? NaN), 0)
    if (!Number.isNaN(expected) && expected !== binRows.length) {
      await discard()
      throw new CryptoVizError(
        'DELTA_LOG_CORRUPT',
        `optimize read ${binRows.length} rows from ${bin.length} files whose stats say ${expected}`,
      )
    }
    const files = prepareDataFiles(binRows, {
      schema: snapshot.schema,
      partitionColumns: snapshot.partitionColumns,
      sortBy: o.sortBy ?? [],
      compression: o.compression ?? dataFileDefaults.compression,
      maxRowsPerFile: o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile,
      modificationTime: table.now(),
    })
    for (const f of files) {
      await table.store.put(f.storePath, f.bytes)
      written.push(f.storePath)
      adds.push({ ...f.add, dataChange: false })
    }
    rows += binRows.length
    read.push(...bin)
  }
  const actions: Action[] = [
    ...read.map((f): Action => ({ remove: { path: f.path, dataChange: false } })),
    ...adds.map((add): Action => ({ add })),
  ]
  const bytesRemoved = read.reduce((s, f) => s + f.size, 0)
  const bytesAdded = adds.reduce((s, f) => s + f.size, 0)
  // Commit against the latest state: a file removed meanwhile is caught there as a conflict, and
  // the retry loop only has to read commits that land during the attempt.
  const result = await table.commitAt(await table.snapshot(), actions, {
    operation: 'OPTIMIZE',
    operationParameters: {
      predicate: o.whereText ? JSON.stringify([o.whereText]) : '[]',
      targetSize: String(o.targetFileSize ?? optimizeDefaults.targetFileSize),
    },
    operationMetrics: {
      numRemovedFiles: String(read.length),
      numAddedFiles: String(adds.length),
      numRemovedBytes: String(bytesRemoved),
      numAddedBytes: String(bytesAdded),
      numRows: String(rows),
    },
    readFiles: read.map(dataFilePath),
  })
  if (result.status !== 'committed') {
    await discard()
    return { status: 'conflict' }
  }
  return {
    status: 'committed',
    version: result.version,
    removed: read.length,
    added: adds.length,
    rows,
    bytesRemoved,
    bytesAdded,
  }
}

const normalise = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v)
