/**
 * An immutable view of a table at one version: protocol, metadata, schema, live files and txn
 * markers, plus file pruning by partition values and min/max stats.
 *
 * Invariants: a snapshot never changes after construction (its maps are never handed to a
 * builder again); `files()` returns the same frozen array on every call. Pruning with pinned
 * partition values goes through a partition index of `files()` (partition-index.ts), built on
 * the first such call and kept for the snapshot's life, so its cost follows the matching files.
 */
import type { AddFile, Metadata, Protocol, RemoveFile } from './actions.ts'
import { comparable, compareBounds, nullCountOf, recordCount, statBound, type Bound } from './file-stats.ts'
import { PartitionIndex, type PartitionSet } from './partition-index.ts'
import type { DataType, StructType } from './schema.ts'
import { parseSchemaString } from './schema-json.ts'
import { tableProperties, type TableProperties } from './table-properties.ts'
import type { TableState } from './table-state.ts'

export interface FileFilter {
  /** Keep files whose partition value for the column is one of these (null matches null). */
  partitions?: Record<string, readonly (string | null)[]>
  /**
   * Keep files that may hold a value within `[min, max]` (both inclusive, either optional).
   * Timestamps in microseconds, dates in days since the epoch (or `YYYY-MM-DD`), numbers and
   * strings as such. Works on partition columns (from their values) and on data columns (from
   * stats; missing stats keep the file).
   */
  ranges?: Record<string, { min?: number | string; max?: number | string }>
}

const MICROS_PER_MS = 1000

export class Snapshot {
  readonly version: number
  /** Commit time of this version, ms (strictly increasing across versions). */
  readonly timestamp: number
  readonly protocol: Protocol
  readonly metadata: Metadata
  readonly schema: StructType
  readonly partitionColumns: string[]
  readonly properties: TableProperties
  /** The replayed state, for the table's own commit path and checkpoints. */
  readonly state: TableState
  private fileList: readonly AddFile[] | undefined
  private partitionIndex: PartitionIndex | undefined
  private readonly types: Map<string, DataType>

  constructor(state: TableState, schema?: StructType) {
    this.state = state
    this.version = state.version
    this.timestamp = state.timestamp
    this.protocol = state.protocol
    this.metadata = state.metadata
    this.schema = schema ?? parseSchemaString(state.metadata.schemaString)
    this.partitionColumns = [...state.metadata.partitionColumns]
    this.properties = tableProperties(state.metadata)
    this.types = new Map(this.schema.fields.map((f) => [f.name, f.type]))
  }

  /** Live data files. */
  files(): readonly AddFile[] {
    this.fileList ??= Object.freeze([...this.state.adds.values()])
    return this.fileList
  }

  /** Tombstones (removed files) still recorded in the state. */
  tombstones(): RemoveFile[] {
    return [...this.state.removes.values()]
  }

  txnVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version
  }

  /** Total rows from the files' stats; undefined if any live file lacks `numRecords`. */
  numRecords(): number | undefined {
    let total = 0
    for (const f of this.files()) {
      const n = recordCount(f)
      if (typeof n !== 'number') return undefined
      total += n
    }
    return total
  }

  /** Live files that may hold rows matching the filter; never drops a file that could match. */
  filesFor(filter: FileFilter): AddFile[] {
    const partitionSets: PartitionSet[] = Object.entries(filter.partitions ?? {}).map(
      ([col, values]) => [col, new Set(values.map((v) => (v === '' ? null : v)))] as const,
    )
    const ranges: RangeCheck[] = []
    for (const [col, r] of Object.entries(filter.ranges ?? {})) {
      const type = this.types.get(col)
      if (type === undefined) continue // unknown column: cannot prune on it
      const min = r.min === undefined ? undefined : comparable(type, r.min)
      const max = r.max === undefined ? undefined : comparable(type, r.max)
      ranges.push({ col, min, max, partition: this.partitionColumns.includes(col), type })
    }
    // Pinned partition values: only the index's candidates (already matching every set) are
    // checked against the ranges, so the cost follows the matches, not the table's file count.
    if (partitionSets.length > 0) {
      this.partitionIndex ??= new PartitionIndex(this.files())
      const candidates = this.partitionIndex.candidates(partitionSets)
      return ranges.length === 0 ? candidates : candidates.filter((f) => inRanges(f, ranges))
    }
    return this.files().filter((f) => inRanges(f, ranges))
  }
}

interface RangeCheck {
  col: string
  min?: Bound
  max?: Bound
  partition: boolean
  type: DataType
}

function inRanges(f: AddFile, ranges: readonly RangeCheck[]): boolean {
  for (const r of ranges) {
    if (r.partition ? !partitionInRange(f, r) : !statsInRange(f, r)) return false
  }
  return true
}

function partitionInRange(f: AddFile, r: { col: string; min?: Bound; max?: Bound; type: DataType }): boolean {
  const raw = f.partitionValues[r.col]
  if (raw === null || raw === undefined || raw === '') return false // null never lies in a range
  const v = comparable(r.type, raw)
  if (v === undefined) return true
  if (r.min !== undefined && compareBounds(v, r.min) < 0) return false
  if (r.max !== undefined && compareBounds(v, r.max) > 0) return false
  return true
}

function statsInRange(f: AddFile, r: { col: string; min?: Bound; max?: Bound; type: DataType }): boolean {
  const numRecords = recordCount(f)
  const nulls = nullCountOf(f, r.col)
  if (numRecords !== undefined && nulls !== undefined && nulls === numRecords) {
    return false // only nulls (or no rows): no value can lie in a range
  }
  const fileMin = statBound(f, 'minValues', r.col, r.type)
  let fileMax = statBound(f, 'maxValues', r.col, r.type)
  if (r.type === 'timestamp' || r.type === 'timestamp_ntz') {
    // Stats are millisecond-truncated: the true max may be up to 999 µs above the recorded one.
    if (typeof fileMax === 'number') fileMax += MICROS_PER_MS
  }
  if (r.min !== undefined && fileMax !== undefined && compareBounds(fileMax, r.min) < 0) return false
  if (r.max !== undefined && fileMin !== undefined && compareBounds(fileMin, r.max) > 0) return false
  return true
}
