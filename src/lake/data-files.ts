/**
 * Turns the rows of one append into Parquet data files and their `add` actions, without I/O.
 *
 * Invariants:
 * - Every row is validated (known columns, JS type matching the column type, no null in a
 *   NOT NULL column) before any file is encoded, so a refused append writes nothing.
 * - Rows are grouped by partition values, one file per partition (split every `maxRowsPerFile`
 *   rows), sorted within the file by the `sortBy` columns that are not partition columns.
 * - Partition columns are not stored in the files; their values go to `add.partitionValues`.
 * - `add.stats` is computed from the same columns that are encoded, in the same pass that
 *   validates them.
 *
 * The hot path works on typed arrays and row indexes: no per-row objects are created.
 */
import { randomUUID } from 'node:crypto'
import type { SchemaElement } from 'hyparquet-writer'
import { ENGINE_INFO } from '../engine-info.ts'
import { CryptoVizError } from '../errors.ts'
import type { AddFile } from './actions.ts'
import {
  buildColumns,
  nullViolation,
  transposer,
  typeMismatch,
  type BuiltColumn,
  type Kind,
  type Row,
} from './column-builder.ts'
import { statValue } from './file-stats.ts'
import { encodeParquet } from './parquet-encoder.ts'
import { encodeLogPath, partitionFolder, partitionValueString } from './partition-path.ts'
import type { StructField, StructType } from './schema.ts'
import { typeName } from './schema-json.ts'

export type { Row }

export type Compression = 'snappy' | 'zstd'

export interface DataFileOptions {
  schema: StructType
  partitionColumns: readonly string[]
  /** Columns to sort rows by within each file. */
  sortBy?: readonly string[]
  /** Default `dataFileDefaults.compression`. */
  compression?: Compression | undefined
  /** Rows per Parquet row group; default `dataFileDefaults.rowGroupRows`. */
  rowGroupRows?: number | undefined
  /** Larger partitions are split into several files; default `dataFileDefaults.maxRowsPerFile`. */
  maxRowsPerFile?: number | undefined
  /** `add.modificationTime`, ms. */
  modificationTime: number
}

export const dataFileDefaults = {
  compression: 'snappy',
  rowGroupRows: 131_072,
  maxRowsPerFile: 1_048_576,
} satisfies Partial<DataFileOptions>

export interface PreparedFile {
  /** Store path relative to the table root (not URI-encoded). */
  storePath: string
  bytes: Uint8Array
  add: AddFile
  rows: number
}

export interface ColumnPlan {
  field: StructField
  kind: Kind
  element: SchemaElement
  /** Min/max recorded in stats (booleans get only nullCount). */
  minMax: boolean
}

const PHYSICAL: Record<string, { kind: Kind; element: Omit<SchemaElement, 'name' | 'repetition_type'> }> = {
  string: {
    kind: 'string',
    element: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  },
  long: { kind: 'int64', element: { type: 'INT64' } },
  integer: { kind: 'int32', element: { type: 'INT32' } },
  short: {
    kind: 'int32',
    element: {
      type: 'INT32',
      converted_type: 'INT_16',
      logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true },
    },
  },
  byte: {
    kind: 'int32',
    element: {
      type: 'INT32',
      converted_type: 'INT_8',
      logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: true },
    },
  },
  double: { kind: 'double', element: { type: 'DOUBLE' } },
  float: { kind: 'float', element: { type: 'FLOAT' } },
  boolean: { kind: 'boolean', element: { type: 'BOOLEAN' } },
  date: { kind: 'int32', element: { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } } },
  timestamp: {
    kind: 'int64',
    element: {
      type: 'INT64',
      converted_type: 'TIMESTAMP_MICROS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    },
  },
}

/** Columns of the schema this lake can write, with their Parquet schema elements. */
export function planColumns(schema: StructType, partitionColumns: readonly string[]): ColumnPlan[] {
  const partitions = new Set(partitionColumns)
  const plans: ColumnPlan[] = []
  for (const field of schema.fields) {
    if (partitions.has(field.name)) continue
    const physical = typeof field.type === 'string' ? PHYSICAL[field.type] : undefined
    if (!physical) {
      throw new CryptoVizError(
        'DELTA_UNSUPPORTED_FEATURE',
        `cannot write column "${field.name}" of type ${typeName(field.type)}`,
        { kind: 'user', details: { feature: `write ${typeName(field.type)}` } },
      )
    }
    plans.push({
      field,
      kind: physical.kind,
      element: {
        name: field.name,
        repetition_type: field.nullable ? 'OPTIONAL' : 'REQUIRED',
        ...physical.element,
      },
      minMax: physical.kind !== 'boolean',
    })
  }
  return plans
}

/** Refuses rows carrying columns the schema does not have (they would be dropped silently). */
function checkKnownColumns(rows: readonly Row[], schema: StructType): void {
  const known = new Set(schema.fields.map((f) => f.name))
  // Rows built alike list their keys in the same order: comparing against the previous row's
  // keys by position is far cheaper than a set lookup per key.
  const previous: string[] = []
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    let k = 0
    for (const key in row) {
      if (previous[k] !== key) {
        if (known.has(key)) previous[k] = key
        else if (row[key] !== undefined) {
          throw new CryptoVizError(
            'DELTA_SCHEMA_MISMATCH',
            `row ${r}: column "${key}" is not in the table schema`,
            {
              kind: 'user',
              details: { column: key, row: r },
            },
          )
        }
      }
      k++
    }
  }
}

/** One partition's rows: its values as `add.partitionValues` strings, and its row indexes. */
export interface PartitionGroup {
  values: Record<string, string | null>
  indexes: number[]
}

/**
 * Rows `0 … n-1` grouped by their partition values, in first-seen order. Nested maps keyed by a
 * raw key per row and partition column (`keyOf`: no per-row key string, and 1 vs '1' stay apart);
 * `onNewKey(c, r)` runs once per distinct raw key (to type-check its value), and `valueOf(c, r)`
 * gives the value a group's strings are made of. Shared by row and column appends.
 */
export function groupRowsByPartition(
  n: number,
  fields: readonly StructField[],
  keyOf: (c: number, r: number) => unknown,
  valueOf: (c: number, r: number) => unknown,
  onNewKey: (c: number, r: number) => void,
): PartitionGroup[] {
  if (fields.length === 0) return [{ values: {}, indexes: Array.from({ length: n }, (_, i) => i) }]
  const root = new Map<unknown, unknown>()
  const groups: PartitionGroup[] = []
  const last = fields.length - 1
  for (let r = 0; r < n; r++) {
    let node = root
    let g: PartitionGroup | undefined
    for (let c = 0; c <= last; c++) {
      const k = keyOf(c, r)
      let child = node.get(k)
      if (child === undefined) {
        onNewKey(c, r)
        if (c === last) {
          const values: Record<string, string | null> = {}
          fields.forEach((field, i) => (values[field.name] = partitionValueString(field.type, valueOf(i, r))))
          child = { values, indexes: [] } satisfies PartitionGroup
          groups.push(child as PartitionGroup)
        } else child = new Map<unknown, unknown>()
        node.set(k, child)
      }
      if (c === last) g = child as PartitionGroup
      else node = child as Map<unknown, unknown>
    }
    g!.indexes.push(r)
  }
  // Raw values that serialize alike ('' and null, 1 and 1.0) belong to one partition.
  const merged = new Map<string, PartitionGroup>()
  for (const g of groups) {
    const key = JSON.stringify(fields.map((f) => g.values[f.name]))
    const prev = merged.get(key)
    if (prev) prev.indexes = [...prev.indexes, ...g.indexes].sort((x, y) => x - y)
    else merged.set(key, g)
  }
  return [...merged.values()]
}

function groupByPartition(
  rows: readonly Row[],
  schema: StructType,
  partitionColumns: readonly string[],
): PartitionGroup[] {
  const fields = partitionColumns.map((c) => {
    const f = schema.fields.find((x) => x.name === c)
    if (!f) throw new CryptoVizError('DELTA_LOG_CORRUPT', `partition column "${c}" is not in the schema`)
    return f
  })
  const all = Uint32Array.from({ length: rows.length }, (_, i) => i)
  const columns = transposer(partitionColumns.map((name) => ({ name, readAs: 'any' as const })))(
    rows,
    all,
    0,
    rows.length,
  ).values as unknown[][]
  const valueOf = (c: number, r: number): unknown => columns[c]![r] ?? null
  return groupRowsByPartition(rows.length, fields, valueOf, valueOf, (c, r) => {
    const v = valueOf(c, r)
    const f = fields[c]!
    if (v === null) {
      if (!f.nullable) throw nullViolation(f.name, r)
    } else checkPartitionValue(f, v as string | number | boolean, r)
  })
}

export function checkPartitionValue(f: StructField, v: string | number | boolean, row: number): void {
  const t = f.type
  const ok =
    t === 'string'
      ? typeof v === 'string'
      : t === 'boolean'
        ? typeof v === 'boolean'
        : t === 'double' || t === 'float'
          ? typeof v === 'number'
          : t === 'long' ||
              t === 'integer' ||
              t === 'short' ||
              t === 'byte' ||
              t === 'date' ||
              t === 'timestamp'
            ? Number.isSafeInteger(v)
            : false
  if (!ok) throw typeMismatch(f.name, t, row, v)
}

/** Sorts a group's row indexes by the sort columns; keeps input order among equal keys. */
function sortIndexes(rows: readonly Row[], indexes: number[], sortBy: readonly StructField[]): Uint32Array {
  const idx = Uint32Array.from(indexes)
  if (sortBy.length === 0 || idx.length < 2) return idx
  const keys = sortBy.map((f) => {
    const numeric = f.type !== 'string' && f.type !== 'boolean'
    if (numeric) {
      const a = new Float64Array(idx.length)
      for (let i = 0; i < idx.length; i++) {
        const v = rows[idx[i]!]![f.name]
        a[i] = typeof v === 'number' ? v : -Infinity // nulls first
      }
      return a
    }
    return Array.from(idx, (r) => {
      const v = rows[r]![f.name]
      return v === null || v === undefined ? '' : String(v)
    })
  })
  const cmp = (a: number, b: number): number => {
    for (const k of keys) {
      const x = k[a]!
      const y = k[b]!
      if (x < y) return -1
      if (x > y) return 1
    }
    return a - b
  }
  let sorted = true
  for (let i = 1; i < idx.length && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false
  if (sorted) return idx
  const order = Uint32Array.from({ length: idx.length }, (_, i) => i).sort(cmp)
  return Uint32Array.from(order, (o) => idx[o]!)
}

/**
 * Validates the rows and encodes them as Parquet files. Throws DELTA_NULL_VIOLATION or
 * DELTA_SCHEMA_MISMATCH (with the row index) before encoding anything.
 */
export function prepareDataFiles(rows: readonly Row[], o: DataFileOptions): PreparedFile[] {
  if (rows.length === 0) return []
  const maxRowsPerFile = o.maxRowsPerFile ?? dataFileDefaults.maxRowsPerFile
  const plans = planColumns(o.schema, o.partitionColumns)
  checkKnownColumns(rows, o.schema)
  const partitions = new Set(o.partitionColumns)
  const sortFields = (o.sortBy ?? [])
    .filter((c) => !partitions.has(c))
    .map((c) => {
      const f = o.schema.fields.find((x) => x.name === c)
      if (!f)
        throw new CryptoVizError('INVALID_ARGUMENT', `sortBy column "${c}" is not in the schema`, {
          kind: 'user',
        })
      return f
    })

  // Validate and build every column of every file first: nothing is encoded if a row is refused.
  const pending: PendingFile[] = []
  for (const group of groupByPartition(rows, o.schema, o.partitionColumns)) {
    const idx = sortIndexes(rows, group.indexes, sortFields)
    for (let start = 0; start < idx.length; start += maxRowsPerFile) {
      const end = Math.min(idx.length, start + maxRowsPerFile)
      pending.push({
        values: group.values,
        columns: buildColumns(rows, idx, start, end, plans),
        rows: end - start,
      })
    }
  }

  return encodeDataFiles(pending, plans, o)
}

/** The columns of one data file: its partition values and its built (validated) columns. */
export interface PendingFile {
  values: Record<string, string | null>
  columns: BuiltColumn[]
  rows: number
}

/**
 * Encodes built columns as Parquet files named `part-<i>-<one uuid per append>`, with their
 * `add` actions and stats: the one encoding step of the row and the column appends.
 */
export function encodeDataFiles(
  pending: readonly PendingFile[],
  plans: readonly ColumnPlan[],
  o: DataFileOptions,
): PreparedFile[] {
  const compression = o.compression ?? dataFileDefaults.compression
  const rowGroupRows = o.rowGroupRows ?? dataFileDefaults.rowGroupRows
  const codec = compression === 'zstd' ? 'ZSTD' : 'SNAPPY'
  const fileId = randomUUID()
  return pending.map((file, i) => {
    const bytes = encodeParquet(
      plans.map((p, c) => {
        const col = file.columns[c]!
        return { element: p.element, kind: p.kind, values: col.values, nulls: col.nulls }
      }),
      file.rows,
      { codec, rowGroupRows, createdBy: ENGINE_INFO },
    )
    const folder = partitionFolder(o.partitionColumns, file.values)
    const name = `part-${String(i).padStart(5, '0')}-${fileId}.${compression}.parquet`
    const storePath = folder === '' ? name : `${folder}/${name}`
    return {
      storePath,
      bytes,
      rows: file.rows,
      add: {
        path: encodeLogPath(storePath),
        partitionValues: file.values,
        size: bytes.length,
        modificationTime: o.modificationTime,
        dataChange: true,
        stats: JSON.stringify(statsOf(plans, file.columns, file.rows)),
      },
    }
  })
}

function statsOf(plans: readonly ColumnPlan[], columns: BuiltColumn[], numRecords: number): object {
  const minValues: Record<string, unknown> = {}
  const maxValues: Record<string, unknown> = {}
  const nullCount: Record<string, number> = {}
  plans.forEach((p, c) => {
    const col = columns[c]!
    nullCount[p.field.name] = col.nullCount
    if (!p.minMax) return
    if (col.min !== undefined) minValues[p.field.name] = statValue(p.field.type, col.min)
    if (col.max !== undefined) maxValues[p.field.name] = statValue(p.field.type, col.max)
  })
  return { numRecords, minValues, maxValues, nullCount }
}
