/**
 * OPTIMIZE (bin-packing compaction): per partition, the files smaller than the target size are
 * grouped into bins of about the target size (and at most `maxRowsPerFile` rows), each bin is
 * read, sorted and rewritten as one file, and partitions are committed (several per transaction,
 * up to `filesPerCommit` removed files) as `remove` + `add` actions, all with `dataChange: false`.
 *
 * Invariants:
 * - The rows of the table never change: every rewritten row comes from exactly one removed file
 *   of the same partition, and the transaction removes exactly the files it read.
 * - Only rearranging (`dataChange: false`), so concurrent blind appends never conflict with it
 *   (they add new files it did not read, which stay live). If a concurrent commit removed a file
 *   it read (another OPTIMIZE, a delete), that partition's transaction is abandoned, its new files
 *   deleted, and the partition retried from a fresh snapshot in a later round.
 * - Memory is bounded by one bin: rows are read and written one bin at a time, and only the
 *   actions of the current commit group are kept.
 * - A conflict abandons the whole group (its files are deleted); its partitions are retried.
 */
import { CryptoVizError } from '../errors.ts'
import type { Action, AddFile } from './actions.ts'
import type { Row as WriteRow } from './column-builder.ts'
import { dataFileDefaults, prepareDataFiles, type Compression } from './data-files.ts'
import type { DeltaTable } from './delta-table.ts'
import { recordCount } from './file-stats.ts'
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
  /**
   * Files removed per commit at most (several partitions share a commit). Default 5,000: a
   * commit's actions are held until it is written, and at 100,000 one-row files 10,000 per
   * commit peaked 8–22 MB higher (docs/benchmarks.md "Bounded memory", night follow-up).
   */
  filesPerCommit?: number
  /** Rounds of retrying partitions abandoned after a conflict. Default 3. */
  retries?: number
  /** Stop after compacting this many partitions (incremental, throttled runs). Default unlimited. */
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
  /** Commits lost to a conflict (their partitions retried later, up to `retries` rounds). */
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
  filesPerCommit: 5_000,
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
      const n = recordCount(f) ?? 0
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
  const filesPerCommit = o.filesPerCommit ?? optimizeDefaults.filesPerCommit
  let only: Set<string> | undefined // after round 0: the partitions that conflicted
  let doneFiles = 0
  let totalFiles = 0
  for (let round = 0; round <= retries; round++) {
    const { layout, plans } = await planRound(table, o, only)
    if (round === 0) totalFiles = plans.reduce((s, p) => s + (p?.files ?? 0), 0)
    const conflicted = new Set<string>()
    let group: Rewritten[] = []
    const flush = async (): Promise<void> => {
      if (group.length === 0) return
      const done = group
      group = []
      const version = await commitGroup(table, done, o)
      if (version === undefined) {
        result.conflicts++
        for (const r of done) conflicted.add(r.plan.key)
        return
      }
      result.versions.push(version)
      for (const r of done) {
        result.partitionsCompacted++
        result.filesRemoved += r.read.length
        result.filesAdded += r.adds.length
        result.rows += r.rows
        result.bytesRemoved += r.read.reduce((s, f) => s + f.size, 0)
        result.bytesAdded += r.adds.reduce((s, f) => s + f.size, 0)
        doneFiles += r.plan.files
        o.onProgress?.({ doneFiles, totalFiles, partition: r.plan.values })
      }
    }
    let pending = 0
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!
      // Dropped once taken: a committed partition's old files are then held by nothing.
      plans[i] = undefined
      const limitReached =
        o.maxPartitions !== undefined && result.partitionsCompacted + group.length >= o.maxPartitions
      if (o.signal?.aborted || limitReached) {
        if (o.signal?.aborted) await discard(table, group)
        else await flush()
        result.partial = true
        return result
      }
      const rewritten = await rewritePartition(table, layout, plan, o)
      if (rewritten === 'aborted') {
        await discard(table, group)
        result.partial = true
        return result
      }
      group.push(rewritten)
      pending += rewritten.read.length
      // Several partitions per commit: each commit may write a checkpoint of the whole table, so
      // one commit per partition would make a 1,000-partition run write 100 checkpoints.
      if (pending >= filesPerCommit) {
        await flush()
        pending = 0
      }
    }
    await flush()
    if (conflicted.size === 0) return result
    only = conflicted
  }
  result.partitionsAbandoned = only?.size ?? 0
  return result
}

/** What rewriting needs of the planned snapshot (not its file list). */
type Layout = Pick<Snapshot, 'schema' | 'partitionColumns'>

/**
 * One round's plans from the latest snapshot, which is not kept: the run holds only the planned
 * files (released partition by partition), not a whole state that commits have moved past.
 */
async function planRound(
  table: DeltaTable,
  o: OptimizeOptions,
  only: ReadonlySet<string> | undefined,
): Promise<{ layout: Layout; plans: (PartitionPlan | undefined)[] }> {
  const snapshot = await table.snapshot()
  const plans: (PartitionPlan | undefined)[] = planOptimize(snapshot, o).filter(
    (p) => !only || only.has(p.key),
  )
  return { layout: { schema: snapshot.schema, partitionColumns: snapshot.partitionColumns }, plans }
}

interface Rewritten {
  plan: PartitionPlan
  /** Files read (and removed). */
  read: AddFile[]
  /** New files, `dataChange: false`. */
  adds: AddFile[]
  /** Store paths written, deleted again if the commit fails. */
  written: string[]
  rows: number
}

async function discard(table: DeltaTable, group: readonly Rewritten[]): Promise<void> {
  for (const r of group) for (const p of r.written) await table.store.delete(p).catch(() => undefined)
}

/** Reads, sorts and rewrites one partition's bins; nothing is committed yet. */
async function rewritePartition(
  table: DeltaTable,
  layout: Layout,
  plan: PartitionPlan,
  o: OptimizeOptions,
): Promise<Rewritten | 'aborted'> {
  const source = { ...layout, files: () => [] }
  const out: Rewritten = { plan, read: [], adds: [], written: [], rows: 0 }
  for (const bin of plan.bins) {
    if (o.signal?.aborted) {
      await discard(table, [out])
      return 'aborted'
    }
    await o.pause?.()
    const binRows = (await readRows(table.store, source, { files: bin })) as WriteRow[]
    const expected = bin.reduce((s, f) => s + (recordCount(f) ?? NaN), 0)
    if (!Number.isNaN(expected) && expected !== binRows.length) {
      await discard(table, [out])
      throw new CryptoVizError(
        'DELTA_LOG_CORRUPT',
        `optimize read ${binRows.length} rows from ${bin.length} files whose stats say ${expected}`,
      )
    }
    const files = prepareDataFiles(binRows, {
      schema: layout.schema,
      partitionColumns: layout.partitionColumns,
      sortBy: o.sortBy ?? [],
      compression: o.compression ?? dataFileDefaults.compression,
      maxRowsPerFile: o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile,
      modificationTime: table.now(),
    })
    for (const f of files) {
      await table.store.put(f.storePath, f.bytes)
      out.written.push(f.storePath)
      out.adds.push({ ...f.add, dataChange: false })
    }
    out.rows += binRows.length
    out.read.push(...bin)
  }
  return out
}

/** Commits rewritten partitions as one transaction; undefined (files discarded) on a conflict. */
async function commitGroup(
  table: DeltaTable,
  group: readonly Rewritten[],
  o: OptimizeOptions,
): Promise<number | undefined> {
  const read = group.flatMap((r) => r.read)
  const adds = group.flatMap((r) => r.adds)
  const rows = group.reduce((s, r) => s + r.rows, 0)
  const actions: Action[] = [
    ...read.map((f): Action => ({ remove: { path: f.path, dataChange: false } })),
    ...adds.map((add): Action => ({ add })),
  ]
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
      numRemovedBytes: String(read.reduce((s, f) => s + f.size, 0)),
      numAddedBytes: String(adds.reduce((s, f) => s + f.size, 0)),
      numRows: String(rows),
      numPartitions: String(group.length),
    },
    readFiles: read.map(dataFilePath),
  })
  if (result.status !== 'committed') {
    await discard(table, group)
    return undefined
  }
  return result.version
}

const normalise = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v)
