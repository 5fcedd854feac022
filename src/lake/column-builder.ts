/**
 * Row objects → validated column arrays ready for the Parquet writer, plus each column's stats.
 *
 * Invariants:
 * - A value that does not match its column type, or a null in a NOT NULL column, throws
 *   (DELTA_SCHEMA_MISMATCH / DELTA_NULL_VIOLATION) naming the column and the input row index.
 * - Numeric columns come out as one Float64Array whatever their Delta type (every value already
 *   checked to fit it: integer range, safe integer for long/timestamp); strings and booleans as
 *   arrays; nulls as a separate mask, which is what the Parquet encoder takes.
 *
 * Speed: this is the hot path of every append. Rows are read by a function generated per
 * column list, so each property read has a constant key (monomorphic in V8) and numbers go
 * straight into a Float64Array without being boxed; rows that are not plain numbers/strings are
 * only noted by index and sorted out afterwards.
 */
import { CryptoVizError } from '../errors.ts'
import { STRING_STATS_PREFIX } from './file-stats.ts'
import type { DataType, StructField } from './schema.ts'
import { typeName } from './schema-json.ts'

/** One table row. Timestamps are integer microseconds since the epoch, dates days since the epoch. */
export type Row = Record<string, string | number | boolean | null>

export type Kind = 'int64' | 'int32' | 'double' | 'float' | 'boolean' | 'string'

export interface BuiltColumn {
  /** Numbers (every numeric kind) as doubles; strings and booleans as a plain array. */
  values: Float64Array | unknown[]
  /** 1 where the value is null; undefined when there is none. */
  nulls: Uint8Array | undefined
  nullCount: number
  /** Bounds as numbers (timestamps in µs, dates in days) or strings; undefined when unknown. */
  min: number | string | undefined
  max: number | string | undefined
}

/** `values[c]` is column c; `odd[c]` lists positions whose value was not of the expected JS type. */
interface Transposed {
  values: (Float64Array | unknown[])[]
  odd: number[][]
}

type Transpose = (rows: readonly Row[], idx: Uint32Array, start: number, end: number) => Transposed

/** How a column is read: numbers into a Float64Array, strings/booleans/anything into an array. */
export type ReadAs = 'number' | 'string' | 'boolean' | 'any'

const transposers = new Map<string, Transpose>()

/**
 * A function copying properties of rows `idx[start..end)` into one array per column. Column
 * names are embedded as JSON string literals, so any name is safe in the generated code.
 */
export function transposer(columns: readonly { name: string; readAs: ReadAs }[]): Transpose {
  const key = JSON.stringify(columns)
  let fn = transposers.get(key)
  if (fn) return fn
  const decl: string[] = []
  const copy: string[] = []
  columns.forEach(({ name, readAs }, c) => {
    const prop = `r[${JSON.stringify(name)}]`
    if (readAs === 'number') {
      decl.push(`const o${c} = new Float64Array(n), x${c} = [];`)
      copy.push(`v = ${prop}; if (typeof v === 'number') o${c}[i] = v; else x${c}.push(i);`)
    } else if (readAs === 'any') {
      decl.push(`const o${c} = new Array(n), x${c} = [];`)
      copy.push(`o${c}[i] = ${prop};`)
    } else {
      decl.push(`const o${c} = new Array(n), x${c} = [];`)
      copy.push(`v = ${prop}; o${c}[i] = v; if (typeof v !== '${readAs}') x${c}.push(i);`)
    }
  })
  const list = (p: string): string => columns.map((_, c) => `${p}${c}`).join(', ')
  const body = [
    'const n = end - start;',
    ...decl,
    'let v;',
    'for (let i = 0; i < n; i++) {',
    'const r = rows[idx[start + i]];',
    ...copy,
    '}',
    `return { values: [${list('o')}], odd: [${list('x')}] };`,
  ].join('\n')
  fn = new Function('rows', 'idx', 'start', 'end', body) as Transpose
  transposers.set(key, fn)
  return fn
}

export const readAsFor = (kind: Kind): ReadAs =>
  kind === 'string' ? 'string' : kind === 'boolean' ? 'boolean' : 'number'

const INT_RANGE: Record<string, [number, number]> = {
  integer: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
  date: [-2147483648, 2147483647],
}

export const nullViolation = (column: string, row: number): CryptoVizError =>
  new CryptoVizError(
    'DELTA_NULL_VIOLATION',
    `row ${row}: column "${column}" is NOT NULL but the value is null`,
    {
      kind: 'user',
      details: { column, row },
    },
  )

export const typeMismatch = (column: string, type: DataType, row: number, value: unknown): CryptoVizError =>
  new CryptoVizError(
    'DELTA_SCHEMA_MISMATCH',
    `row ${row}: column "${column}" is ${typeName(type)} but the value is ${JSON.stringify(value) ?? String(value)}`,
    { kind: 'user', details: { column, row } },
  )

/**
 * Builds the columns of rows `idx[start..end)`: validation, typed conversion and stats.
 */
export function buildColumns(
  rows: readonly Row[],
  idx: Uint32Array,
  start: number,
  end: number,
  columns: readonly { field: StructField; kind: Kind }[],
): BuiltColumn[] {
  const t = transposer(columns.map((c) => ({ name: c.field.name, readAs: readAsFor(c.kind) })))(
    rows,
    idx,
    start,
    end,
  )
  return columns.map(({ field, kind }, c) => {
    const values = t.values[c]!
    // Sort out the odd positions: nulls (allowed or not) and values of the wrong JS type.
    let nulls: Uint8Array | undefined
    let nullCount = 0
    for (const i of t.odd[c]!) {
      const row = idx[start + i]!
      const v = rows[row]![field.name]
      if (v !== null && v !== undefined) throw typeMismatch(field.name, field.type, row, v)
      if (!field.nullable) throw nullViolation(field.name, row)
      nulls ??= new Uint8Array(values.length)
      nulls[i] = 1
      nullCount++
    }
    const rowOf = (i: number): number => idx[start + i]!
    if (kind === 'string' || kind === 'boolean') {
      return finishObjects(values as unknown[], nulls, nullCount, kind === 'string')
    }
    return finishNumbers(values as Float64Array, nulls, nullCount, kind, field, rowOf)
  })
}

export function finishObjects(
  values: unknown[],
  nulls: Uint8Array | undefined,
  nullCount: number,
  minMax: boolean,
): BuiltColumn {
  if (!minMax) return { values, nulls, nullCount, min: undefined, max: undefined }
  let min: string | undefined
  let max: string | undefined
  for (let i = 0; i < values.length; i++) {
    if (nulls !== undefined && nulls[i]) continue
    const v = values[i] as string
    if (min === undefined || v < min) min = v
    if (max === undefined || v > max) max = v
  }
  if (min !== undefined && min.length > STRING_STATS_PREFIX) min = min.slice(0, STRING_STATS_PREFIX)
  // A truncated max would understate the bound, so a long string max is not recorded at all.
  if (max !== undefined && max.length > STRING_STATS_PREFIX) max = undefined
  return { values, nulls, nullCount, min, max }
}

export function finishNumbers(
  values: Float64Array,
  nulls: Uint8Array | undefined,
  nullCount: number,
  kind: Kind,
  field: StructField,
  rowOf: (i: number) => number,
): BuiltColumn {
  const n = values.length
  const range = kind === 'int32' ? INT_RANGE[field.type as string]! : undefined
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    if (nulls !== undefined && nulls[i]) continue
    const x = values[i]!
    if (
      kind === 'int64'
        ? !Number.isSafeInteger(x)
        : range && (!Number.isInteger(x) || x < range[0] || x > range[1])
    ) {
      throw typeMismatch(field.name, field.type, rowOf(i), x)
    }
    // NaN and infinities are stored but never become bounds (JSON cannot hold them).
    if (x < min && x !== -Infinity) min = x
    if (x > max && x !== Infinity) max = x
  }
  if (kind === 'float') {
    // Stats must bound the stored (rounded) values.
    min = Math.fround(min)
    max = Math.fround(max)
  }
  return {
    values,
    nulls,
    nullCount,
    min: min === Infinity ? undefined : min,
    max: max === -Infinity ? undefined : max,
  }
}
