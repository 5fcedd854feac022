/**
 * Reads a snapshot's rows in pure TypeScript, through the `ObjectStore` (local, memory or remote),
 * so checks, interop tests and remote tables need no query engine.
 *
 * Value forms (one per Delta type, whatever the Parquet encoding):
 * - `timestamp`/`timestamp_ntz`: integer microseconds since the epoch (INT64 millis/micros/nanos
 *   and legacy INT96 all accepted); a `number`, or a `bigint` when a number cannot hold the value
 *   exactly (beyond ±2^53 and not a multiple of the double's spacing there, e.g. year 9999 with
 *   odd microseconds), so no value is ever silently rounded.
 * - `long`/`integer`/`short`/`byte`: `number` (a `bigint` under the same rule).
 * - `date`: `'YYYY-MM-DD'` (the Delta partition-value form). `decimal`: `number`.
 * - `binary`: `Uint8Array`. Structs, arrays and maps: objects, arrays and plain objects.
 *
 * Invariants: partition columns come from `add.partitionValues` (the log is the truth, even if a
 * writer also stored them in the file), typed per the table schema from their string form, with
 * null and '' meaning null; columns absent from an older file are null; rows keep the schema's
 * column order and the files' order.
 */
import { cachedAsyncBuffer, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet'
import type { AsyncBuffer, ParquetParsers } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { CryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { AddFile } from './actions.ts'
import { dataFilePath } from './partition-path.ts'
import type { DataType, StructField, StructType } from './schema.ts'

export type Row = Record<string, unknown>

/** What `readRows` needs from a snapshot. */
export interface ScanSource {
  readonly schema: StructType
  readonly partitionColumns: readonly string[]
  files(): readonly AddFile[] | Promise<readonly AddFile[]>
}

export interface ReadRowsOptions {
  /** Read only these files (default: every file of the snapshot). */
  files?: readonly AddFile[]
  /** Project these top-level columns (default: all, in schema order). */
  columns?: readonly string[]
}

/** Files read at once: enough to overlap remote round trips, few enough to bound memory. */
const CONCURRENCY = 4

const MICROS_PER_DAY = 86_400_000_000n

/** Parsers that keep timestamps exact as integer microseconds and dates as ISO day strings. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms: bigint) => ms * 1000n,
  timestampFromMicroseconds: (us: bigint) => us,
  timestampFromNanoseconds: (ns: bigint) => floorDiv(ns, 1000n),
  dateFromDays: (days: number) => isoDay(BigInt(days) * MICROS_PER_DAY),
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

function isoDay(micros: bigint): string {
  const days = Number(floorDiv(micros, MICROS_PER_DAY))
  const d = new Date(days * 86_400_000)
  const y = d.getUTCFullYear()
  const year = y < 0 ? `-${String(-y).padStart(6, '0')}` : y > 9999 ? `+${y}` : String(y).padStart(4, '0')
  return `${year}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
}

/** A bigint as a number when the number holds it exactly, else kept as bigint. */
const exactInt = (v: bigint): number | bigint => (BigInt(Number(v)) === v ? Number(v) : v)

const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte'])

const utf8 = new TextDecoder()

/** Brings one decoded Parquet value to the form documented above for its Delta type. */
function toValue(type: DataType, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (typeof type === 'string') {
    if (type === 'string') return v instanceof Uint8Array ? utf8.decode(v) : v
    if (type === 'timestamp' || type === 'timestamp_ntz' || INTEGER_TYPES.has(type)) {
      if (typeof v === 'bigint') return exactInt(v)
      // A timestamp column without a logical type annotation still holds microseconds.
      if (v instanceof Date) return exactInt(BigInt(v.getTime()) * 1000n)
      return v
    }
    if (type === 'date' && typeof v === 'number') return isoDay(BigInt(v) * MICROS_PER_DAY)
    if (type === 'binary' && typeof v === 'string') return new TextEncoder().encode(v)
    if (typeof v === 'bigint') return exactInt(v)
    return v
  }
  switch (type.type) {
    case 'struct': {
      if (typeof v !== 'object') return v
      const src = v as Row
      const out: Row = {}
      for (const f of type.fields) out[f.name] = toValue(f.type, src[f.name])
      return out
    }
    case 'array':
      return Array.isArray(v) ? v.map((e) => toValue(type.elementType, e)) : v
    case 'map': {
      if (typeof v !== 'object') return v
      const out: Row = {}
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Row)
      for (const [k, value] of entries) out[String(k)] = toValue(type.valueType, value)
      return out
    }
    default:
      return v
  }
}

const TIMESTAMP_RE =
  /^(-?\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/

/** A timestamp partition value (`2024-01-05 10:00:00`, ISO-8601 with zone, …) in microseconds. */
function parseTimestamp(s: string): number | bigint | undefined {
  const m = TIMESTAMP_RE.exec(s.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec))
  // Date.UTC maps years 0..99 to 1900..1999.
  if (Number(y) >= 0 && Number(y) < 100) {
    const date = new Date(ms)
    date.setUTCFullYear(Number(y))
    ms = date.getTime()
  }
  if (Number.isNaN(ms)) return undefined
  let micros = BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6) || '0')
  if (zone !== undefined && zone !== 'Z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1n : 1n
    const digits = zone.slice(1).replace(':', '')
    const offsetMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'))
    micros -= sign * offsetMinutes * 60_000_000n
  }
  return exactInt(micros)
}

/** A partition value from its log string form, typed per the schema (PROTOCOL.md "Partition Value Serialization"). */
export function typedPartitionValue(field: StructField, raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined || raw === '') return null
  const bad = () =>
    new CryptoVizError(
      'DELTA_LOG_CORRUPT',
      `partition value ${JSON.stringify(raw)} is not a valid ${String(field.type)} for column ${field.name}`,
    )
  const type = field.type
  if (typeof type !== 'string') throw bad()
  if (type === 'string') return raw
  if (INTEGER_TYPES.has(type)) {
    if (!/^[+-]?\d+$/.test(raw.trim())) throw bad()
    return exactInt(BigInt(raw.trim()))
  }
  if (type === 'float' || type === 'double' || type.startsWith('decimal')) {
    const n = Number(raw)
    if (Number.isNaN(n) && raw !== 'NaN') throw bad()
    return n
  }
  if (type === 'boolean') {
    const lower = raw.toLowerCase()
    if (lower !== 'true' && lower !== 'false') throw bad()
    return lower === 'true'
  }
  if (type === 'date') {
    const m = /^(-?\d{4,})-(\d{2})-(\d{2})/.exec(raw)
    if (!m) throw bad()
    return `${m[1]}-${m[2]}-${m[3]}`
  }
  if (type === 'timestamp' || type === 'timestamp_ntz') {
    const micros = parseTimestamp(raw)
    if (micros === undefined) throw bad()
    return micros
  }
  if (type === 'binary') return new TextEncoder().encode(raw)
  throw bad()
}

/** Reads `[start, end)` ranges of one object on demand; hyparquet fetches footer and columns only. */
function storeBuffer(store: ObjectStore, path: string, byteLength: number): AsyncBuffer {
  return cachedAsyncBuffer({
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await store.getRange(path, start, end ?? byteLength)
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    },
  })
}

async function readFile(
  store: ObjectStore,
  add: AddFile,
  fields: readonly StructField[],
  partitionColumns: ReadonlySet<string>,
): Promise<Row[]> {
  if (add.deletionVector !== undefined && add.deletionVector !== null) {
    throw new CryptoVizError(
      'DELTA_UNSUPPORTED_FEATURE',
      `${add.path} has a deletion vector; deletion vectors are not supported`,
      {
        kind: 'user',
        details: { feature: 'deletionVectors' },
      },
    )
  }
  const path = dataFilePath(add)
  const size = add.size > 0 ? add.size : (await store.head(path))?.size
  if (size === undefined) {
    throw new CryptoVizError('STORAGE_NOT_FOUND', `data file ${path} is missing from ${store.url}`, {
      kind: 'user',
    })
  }
  const file = storeBuffer(store, path, size)
  let raw: Row[]
  try {
    const metadata = await parquetMetadataAsync(file)
    const present = new Set(parquetSchema(metadata).children.map((c) => c.element.name))
    const dataFields = fields.filter((f) => !partitionColumns.has(f.name) && present.has(f.name))
    raw =
      dataFields.length === 0
        ? Array.from({ length: Number(metadata.num_rows) }, () => ({}))
        : ((await parquetReadObjects({
            file,
            metadata,
            compressors,
            columns: dataFields.map((f) => f.name),
            parsers: PARSERS,
            utf8: false,
          })) as Row[])
  } catch (e) {
    if (e instanceof CryptoVizError) throw e
    throw new CryptoVizError(
      'DELTA_LOG_CORRUPT',
      `cannot read data file ${path} in ${store.url}: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
  const partition = new Map<string, unknown>()
  for (const f of fields) {
    if (partitionColumns.has(f.name))
      partition.set(f.name, typedPartitionValue(f, add.partitionValues[f.name]))
  }
  return raw.map((r) => {
    const row: Row = {}
    for (const f of fields) {
      row[f.name] = partition.has(f.name) ? partition.get(f.name) : toValue(f.type, r[f.name])
    }
    return row
  })
}

/**
 * Every row of the snapshot's files (or of `o.files`), with the schema's columns (or
 * `o.columns`). Reads files a few at a time and returns rows in file order.
 */
export async function readRows(
  store: ObjectStore,
  snapshot: ScanSource,
  o: ReadRowsOptions = {},
): Promise<Row[]> {
  const all = snapshot.schema.fields
  let fields: readonly StructField[] = all
  if (o.columns !== undefined) {
    const byName = new Map(all.map((f) => [f.name, f]))
    fields = o.columns.map((c) => {
      const f = byName.get(c)
      if (f === undefined) {
        throw new CryptoVizError('INVALID_ARGUMENT', `no column ${JSON.stringify(c)} in the table schema`, {
          kind: 'user',
        })
      }
      return f
    })
  }
  const files = o.files ?? (await snapshot.files())
  const partitionColumns = new Set(snapshot.partitionColumns)
  const results: Row[][] = new Array(files.length)
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const i = next++
      results[i] = await readFile(store, files[i]!, fields, partitionColumns)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker))
  return results.flat()
}
