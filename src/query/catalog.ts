/**
 * The catalog: what a table holds, from its snapshot alone (no data file is opened): schema with
 * the version each column appeared in, a partition tree with file/row/byte counts and time
 * bounds, and file listings.
 *
 * Row counts and time bounds come from the files' stats: times are millisecond-truncated there
 * (a max may be up to 999 µs below the true one), and files without stats count no rows and
 * no bounds.
 */
import { dataFilePath, recordCount, statValueOf, type AddFile, type Snapshot } from '../lake/index.ts'
import { checkLimit, checkRange, checkAsOf, invalid, type AsOf, type TableName } from './types.ts'

export interface CatalogColumn {
  name: string
  /** Delta type name (`string`, `double`, `timestamp`, …); nested types as JSON. */
  type: string
  nullable: boolean
  partition: boolean
  /** Table version where the column first appeared. */
  since_version: number
}

export interface PartitionStats {
  files: number
  rows: number
  bytes: number
  /** Bounds of the table's time column, µs (from stats). */
  min_ts: number | null
  max_ts: number | null
}

export interface PartitionNode extends PartitionStats {
  column: string
  value: string | null
  /** Empty at the requested depth. */
  children: PartitionNode[]
}

export interface TableCatalog extends PartitionStats {
  name: TableName
  version: number
  timestamp_ms: number
  description: string | null
  partition_columns: string[]
  columns: CatalogColumn[]
  partitions: PartitionNode[]
}

export interface CatalogResult {
  tables: TableCatalog[]
}

export interface FilesQuery {
  /** Default 'quotes'. */
  table?: TableName
  /** Partition column → accepted values (null matches a null partition value). */
  partitions?: Record<string, readonly (string | null)[]>
  /** Inclusive bounds on the table's time column (stats), µs. */
  start?: number
  end?: number
  asOf?: AsOf
  /** Default 1000. */
  limit?: number
  /** Default 0. */
  offset?: number
}

export interface FileEntry {
  /** Path inside the table folder. */
  path: string
  partition: Record<string, string | null>
  size: number
  rows: number | null
  min_ts: number | null
  max_ts: number | null
  modification_time_ms: number
}

export interface FilesResult {
  table: TableName
  version: number
  files_total: number
  files_matched: number
  /** Sorted by path. */
  files: FileEntry[]
}

export function catalog(
  snapshot: Snapshot,
  o: { name: TableName; timeColumn: string; since: ReadonlyMap<string, number>; depth: number },
): TableCatalog {
  const partitionColumns = snapshot.partitionColumns
  const columns = snapshot.schema.fields.map((f): CatalogColumn => ({
    name: f.name,
    type: typeof f.type === 'string' ? f.type : JSON.stringify(f.type),
    nullable: f.nullable,
    partition: partitionColumns.includes(f.name),
    since_version: o.since.get(f.name) ?? snapshot.version,
  }))
  const root = emptyNode('', null)
  const levels = partitionColumns.slice(0, Math.max(0, o.depth))
  const childMaps = new Map<PartitionNode, Map<string, PartitionNode>>()
  for (const f of snapshot.files()) {
    const s = fileSummary(f, o.timeColumn)
    let node = root
    add(node, s)
    for (const column of levels) {
      const value = f.partitionValues[column] ?? null
      let children = childMaps.get(node)
      if (!children) childMaps.set(node, (children = new Map()))
      const key = value ?? '\u0000null'
      let child = children.get(key)
      if (!child) {
        child = emptyNode(column, value)
        children.set(key, child)
        node.children.push(child)
      }
      add(child, s)
      node = child
    }
  }
  sortTree(root)
  const { files, rows, bytes, min_ts, max_ts } = root
  return {
    name: o.name,
    version: snapshot.version,
    timestamp_ms: snapshot.timestamp,
    description: snapshot.metadata.description ?? null,
    partition_columns: [...partitionColumns],
    columns,
    files,
    rows,
    bytes,
    min_ts,
    max_ts,
    partitions: root.children,
  }
}

export function files(snapshot: Snapshot, q: FilesQuery, table: TableName, timeColumn: string): FilesResult {
  checkAsOf(q.asOf)
  checkRange(q.start, q.end)
  checkLimit(q.limit)
  checkLimit(q.offset, 'offset')
  for (const column of Object.keys(q.partitions ?? {})) {
    if (!snapshot.partitionColumns.includes(column)) {
      throw invalid(
        `"${column}" is not a partition column; partition columns are ${snapshot.partitionColumns.join(', ')}`,
      )
    }
  }
  const matched = snapshot
    .filesFor({
      ...(q.partitions && { partitions: q.partitions }),
      ranges: {
        [timeColumn]: {
          ...(q.start !== undefined && { min: q.start }),
          ...(q.end !== undefined && { max: q.end }),
        },
      },
    })
    .map((f) => ({ f, path: dataFilePath(f) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const offset = q.offset ?? 0
  const page = matched.slice(offset, offset + (q.limit ?? 1000))
  return {
    table,
    version: snapshot.version,
    files_total: snapshot.files().length,
    files_matched: matched.length,
    files: page.map(({ f, path }) => {
      const s = fileSummary(f, timeColumn)
      return {
        path,
        partition: { ...f.partitionValues },
        size: f.size,
        rows: recordCount(f) ?? null,
        min_ts: s.min_ts,
        max_ts: s.max_ts,
        modification_time_ms: f.modificationTime,
      }
    }),
  }
}

/** One file's figures, read from its stats without decoding them whole (100k files per tree). */
function fileSummary(f: AddFile, timeColumn: string): PartitionStats {
  return {
    files: 1,
    rows: recordCount(f) ?? 0,
    bytes: f.size,
    min_ts: micros(statValueOf(f, 'minValues', timeColumn)),
    max_ts: micros(statValueOf(f, 'maxValues', timeColumn)),
  }
}

/** A stats timestamp (ISO-8601 string, or a number of µs) as µs; null when unknown. */
function micros(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v !== 'string') return null
  const ms = Date.parse(v)
  return Number.isNaN(ms) ? null : ms * 1000
}

function emptyNode(column: string, value: string | null): PartitionNode {
  return { column, value, files: 0, rows: 0, bytes: 0, min_ts: null, max_ts: null, children: [] }
}

function add(node: PartitionNode, s: PartitionStats): void {
  node.files += s.files
  node.rows += s.rows
  node.bytes += s.bytes
  if (s.min_ts !== null && (node.min_ts === null || s.min_ts < node.min_ts)) node.min_ts = s.min_ts
  if (s.max_ts !== null && (node.max_ts === null || s.max_ts > node.max_ts)) node.max_ts = s.max_ts
}

function sortTree(node: PartitionNode): void {
  node.children.sort((a, b) =>
    (a.value ?? '') < (b.value ?? '') ? -1 : (a.value ?? '') > (b.value ?? '') ? 1 : 0,
  )
  for (const c of node.children) sortTree(c)
}
