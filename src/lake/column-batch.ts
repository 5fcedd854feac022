/**
 * Column batches: the rows of an append given column-wise, numbers in typed arrays and strings as
 * ids into a per-column dictionary, so a batch is a handful of ArrayBuffers that can be
 * transferred to a worker thread (`encoder-worker.ts`) instead of cloned row by row.
 *
 * Invariants:
 * - `prepareColumnFiles` writes exactly what `prepareDataFiles` writes for the same rows: the
 *   same validation (known columns, types, NOT NULL, integer ranges), the same partition
 *   grouping, sort order (stable, nulls first, strings by UTF-16 code units), Parquet bytes and
 *   stats (test/lake/column-batch.test.ts holds the two equal); only the file id differs.
 * - A batch carries numbers and strings (every column type but boolean); a missing column is all
 *   null. Row indexes in errors are the batch's row positions, as for rows.
 * - Nothing is encoded before every column of every file is validated.
 */
import { CryptoVizError } from '../errors.ts'
import { finishNumbers, finishObjects, nullViolation, type BuiltColumn } from './column-builder.ts'
import {
  checkPartitionValue,
  dataFileDefaults,
  encodeDataFiles,
  groupRowsByPartition,
  planColumns,
  type DataFileOptions,
  type PartitionGroup,
  type PendingFile,
  type PreparedFile,
} from './data-files.ts'
import type { StructField } from './schema.ts'
import { typeName } from './schema-json.ts'

/** One column of a batch; `nulls[i]` is 1 where row i is null (the value slot is then ignored). */
export type BatchColumn =
  | { type: 'number'; values: Float64Array; nulls?: Uint8Array | undefined }
  | {
      type: 'string'
      /** Row i's value is `dictionary[ids[i]]`. */
      ids: Uint32Array
      dictionary: readonly string[]
      nulls?: Uint8Array | undefined
    }

export interface ColumnBatch {
  numRows: number
  /** By column name; a schema column that is absent is null in every row. */
  columns: Record<string, BatchColumn>
}

/** The batch's buffers, for a `postMessage` transfer list (the batch is unusable afterwards). */
export function batchBuffers(batch: ColumnBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>()
  for (const c of Object.values(batch.columns)) {
    out.add((c.type === 'number' ? c.values : c.ids).buffer as ArrayBuffer)
    if (c.nulls) out.add(c.nulls.buffer as ArrayBuffer)
  }
  return [...out]
}

/** A column of the schema as read from the batch: raw values by row, nulls resolved. */
interface Source {
  field: StructField
  column: BatchColumn | undefined
  /** The column's null mask; every row is null when the column is absent (`allNull`). */
  nulls: Uint8Array | undefined
  allNull: boolean
}

const isNullAt = (s: Source, r: number): boolean => s.allNull || (s.nulls !== undefined && s.nulls[r] === 1)

const STRING_TYPES = new Set(['string'])

function sourceOf(batch: ColumnBatch, field: StructField): Source {
  const column = batch.columns[field.name]
  if (column !== undefined) {
    const length = column.type === 'number' ? column.values.length : column.ids.length
    if (length !== batch.numRows || (column.nulls && column.nulls.length !== batch.numRows))
      throw new CryptoVizError(
        'INVALID_ARGUMENT',
        `column batch: column "${field.name}" holds ${length} values for ${batch.numRows} rows`,
        { kind: 'user', details: { column: field.name } },
      )
    const wantsString = STRING_TYPES.has(field.type as string)
    if (field.type === 'boolean' || wantsString !== (column.type === 'string'))
      throw new CryptoVizError(
        'DELTA_SCHEMA_MISMATCH',
        `column "${field.name}" is ${typeName(field.type)} but the batch gives ${column.type}s`,
        { kind: 'user', details: { column: field.name } },
      )
    if (column.type === 'string') {
      const n = column.dictionary.length
      // The usual case, every id in range, is one branch-light pass; a row is named only after.
      let maxId = 0
      for (let i = 0; i < column.ids.length; i++) if (column.ids[i]! > maxId) maxId = column.ids[i]!
      if (maxId >= n)
        for (let i = 0; i < column.ids.length; i++)
          if (column.ids[i]! >= n && !column.nulls?.[i])
            throw new CryptoVizError(
              'INVALID_ARGUMENT',
              `column batch: row ${i} of "${field.name}" names no dictionary entry`,
              { kind: 'user', details: { column: field.name, row: i } },
            )
    }
  }
  const source = { field, column, nulls: column?.nulls, allNull: column === undefined }
  if (!field.nullable) {
    const firstNull = source.allNull ? (batch.numRows > 0 ? 0 : -1) : (source.nulls?.indexOf(1) ?? -1)
    if (firstNull >= 0) throw nullViolation(field.name, firstNull)
  }
  return source
}

/**
 * Rows grouped by their partition values, in first-seen order (as `prepareDataFiles` does).
 * Rows come in runs (a writer's rows of one partition are usually adjacent): consecutive rows
 * with the same raw values are one run, and the runs are what is grouped.
 */
function groupByPartition(batch: ColumnBatch, fields: readonly Source[]): PartitionGroup[] {
  // Per row and column a raw key: the dictionary id for strings, the number itself, null.
  const raws = fields.map((s) => {
    const column = s.column
    return column === undefined ? undefined : column.type === 'number' ? column.values : column.ids
  })
  const rawKey = (c: number, r: number): number | null => {
    const raw = raws[c]
    return raw === undefined || isNullAt(fields[c]!, r) ? null : raw[r]!
  }
  // A run starts where any partition column's raw key differs from the row before's (column by
  // column: one tight loop per column instead of a call per row and column).
  const n = batch.numRows
  const starts = new Uint8Array(n)
  if (n > 0) starts[0] = 1
  fields.forEach((s, c) => {
    const raw = raws[c]
    if (raw === undefined || s.allNull) return
    const nulls = s.nulls
    if (nulls === undefined) {
      for (let r = 1; r < n; r++) if (raw[r] !== raw[r - 1]) starts[r] = 1
    } else {
      for (let r = 1; r < n; r++) {
        const isNull = nulls[r] === 1
        if (isNull !== (nulls[r - 1] === 1) || (!isNull && raw[r] !== raw[r - 1])) starts[r] = 1
      }
    }
  })
  const runStarts: number[] = []
  for (let r = 0; r < n; r++) if (starts[r] === 1) runStarts.push(r)
  const valueOf = (c: number, r: number): string | number | null => {
    const s = fields[c]!
    const column = s.column
    if (column === undefined || isNullAt(s, r)) return null
    return column.type === 'number' ? column.values[r]! : column.dictionary[column.ids[r]!]!
  }
  const startOf = (run: number): number => runStarts[run]!
  const groups = groupRowsByPartition(
    runStarts.length,
    fields.map((s) => s.field),
    (c, run) => rawKey(c, startOf(run)),
    (c, run) => valueOf(c, startOf(run)),
    (c, run) => {
      const v = valueOf(c, startOf(run))
      if (v !== null) checkPartitionValue(fields[c]!.field, v, startOf(run))
    },
  )
  // Each group's runs (ascending) → its rows.
  for (const g of groups) {
    const rows: number[] = []
    for (const run of g.indexes) {
      const end = run + 1 < runStarts.length ? runStarts[run + 1]! : n
      for (let r = startOf(run); r < end; r++) rows.push(r)
    }
    g.indexes = rows
  }
  return groups
}

/**
 * A numeric sort key per row: numbers as they are (nulls first), strings by their rank among
 * the dictionary's values in code-unit order, a null ranked as '' (the row path's order).
 */
function sortKey(s: Source, n: number): Float64Array {
  const key = new Float64Array(n)
  const c = s.column
  if (c === undefined) return key
  if (c.type === 'number') {
    for (let r = 0; r < n; r++) key[r] = isNullAt(s, r) ? -Infinity : c.values[r]!
    return key
  }
  const distinct = [...new Set([...c.dictionary, ''])].sort()
  const rank = new Map(distinct.map((v, i) => [v, i]))
  const idRank = Float64Array.from(c.dictionary, (v) => rank.get(v)!)
  const nullRank = rank.get('')!
  for (let r = 0; r < n; r++) key[r] = isNullAt(s, r) ? nullRank : idRank[c.ids[r]!]!
  return key
}

/** A group's rows ordered by the keys; input order among equal keys. */
function sortIndexes(indexes: number[], keys: readonly Float64Array[]): Uint32Array {
  const idx = Uint32Array.from(indexes)
  if (keys.length === 0 || idx.length < 2) return idx
  const cmp = (a: number, b: number): number => {
    for (const k of keys) {
      const x = k[idx[a]!]!
      const y = k[idx[b]!]!
      if (x < y) return -1
      if (x > y) return 1
    }
    return a - b
  }
  // Usually already in order (a partition's quotes arrive in time order): checked without sorting.
  let sorted = true
  if (keys.length === 1) {
    const k = keys[0]!
    for (let i = 1; i < idx.length; i++)
      if (k[idx[i - 1]!]! > k[idx[i]!]!) {
        sorted = false
        break
      }
  } else for (let i = 1; i < idx.length && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false
  if (sorted) return idx
  const order = Uint32Array.from({ length: idx.length }, (_, i) => i).sort(cmp)
  return Uint32Array.from(order, (o) => idx[o]!)
}

/** Whether rows `idx[start..end)` are consecutive rows of the batch (then a column's rows are a view). */
function isContiguous(idx: Uint32Array, start: number, end: number): boolean {
  const first = idx[start]!
  for (let i = start + 1; i < end; i++) if (idx[i] !== first + (i - start)) return false
  return true
}

/** Rows `idx[start..end)` of one column, validated, with its stats. */
function buildColumn(
  s: Source,
  kind: PendingColumnKind,
  idx: Uint32Array,
  start: number,
  end: number,
  contiguous: boolean,
): BuiltColumn {
  const n = end - start
  const c = s.column
  const first = idx[start]!
  let nulls: Uint8Array | undefined
  let nullCount = 0
  if (s.allNull) {
    nulls = new Uint8Array(n).fill(1)
    nullCount = n
  } else if (s.nulls !== undefined) {
    const from = s.nulls
    if (contiguous) {
      for (let i = 0; i < n; i++) if (from[first + i] === 1) nullCount++
      // A mask holds 0 or 1 (`BatchColumn`): the view marks the same rows.
      if (nullCount > 0) nulls = from.subarray(first, first + n)
    } else {
      for (let i = 0; i < n; i++) {
        if (from[idx[start + i]!] === 1) {
          nulls ??= new Uint8Array(n)
          nulls[i] = 1
          nullCount++
        }
      }
    }
  }
  if (kind === 'string') {
    const values: unknown[] = new Array<unknown>(n).fill(null)
    if (c !== undefined && c.type === 'string')
      for (let i = 0; i < n; i++) if (!nulls?.[i]) values[i] = c.dictionary[c.ids[idx[start + i]!]!]
    return finishObjects(values, nulls, nullCount, true)
  }
  let values: Float64Array
  if (c !== undefined && c.type === 'number' && contiguous) {
    // A view: the encoder and the stats skip null slots, whatever they hold.
    values = c.values.subarray(first, first + n)
  } else {
    values = new Float64Array(n)
    if (c !== undefined && c.type === 'number')
      for (let i = 0; i < n; i++) if (!nulls?.[i]) values[i] = c.values[idx[start + i]!]!
  }
  return finishNumbers(values, nulls, nullCount, kind, s.field, (i) => idx[start + i]!)
}

type PendingColumnKind = Exclude<ReturnType<typeof planColumns>[number]['kind'], 'boolean'>

/**
 * Validates a column batch and encodes it as Parquet files: `prepareDataFiles` for columns.
 * Throws DELTA_NULL_VIOLATION or DELTA_SCHEMA_MISMATCH (with the row index) before encoding.
 */
export function prepareColumnFiles(batch: ColumnBatch, o: DataFileOptions): PreparedFile[] {
  if (batch.numRows === 0) return []
  const maxRowsPerFile = o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile
  const plans = planColumns(o.schema, o.partitionColumns)
  const known = new Set(o.schema.fields.map((f) => f.name))
  for (const name of Object.keys(batch.columns))
    if (!known.has(name))
      throw new CryptoVizError(
        'DELTA_SCHEMA_MISMATCH',
        `row 0: column "${name}" is not in the table schema`,
        {
          kind: 'user',
          details: { column: name, row: 0 },
        },
      )
  const sources = new Map(o.schema.fields.map((f) => [f.name, sourceOf(batch, f)]))
  const partitionSources = o.partitionColumns.map((c) => {
    const s = sources.get(c)
    if (!s) throw new CryptoVizError('DELTA_LOG_CORRUPT', `partition column "${c}" is not in the schema`)
    return s
  })
  const partitions = new Set(o.partitionColumns)
  const keys = (o.sortBy ?? [])
    .filter((c) => !partitions.has(c))
    .map((c) => {
      const s = sources.get(c)
      if (!s)
        throw new CryptoVizError('INVALID_ARGUMENT', `sortBy column "${c}" is not in the schema`, {
          kind: 'user',
        })
      return sortKey(s, batch.numRows)
    })

  const pending: PendingFile[] = []
  for (const group of groupByPartition(batch, partitionSources)) {
    const idx = sortIndexes(group.indexes, keys)
    for (let start = 0; start < idx.length; start += maxRowsPerFile) {
      const end = Math.min(idx.length, start + maxRowsPerFile)
      const contiguous = isContiguous(idx, start, end)
      pending.push({
        values: group.values,
        columns: plans.map((p) =>
          buildColumn(sources.get(p.field.name)!, p.kind as PendingColumnKind, idx, start, end, contiguous),
        ),
        rows: end - start,
      })
    }
  }
  return encodeDataFiles(pending, plans, o)
}
