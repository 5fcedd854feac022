/**
 * A fast Parquet encoder for the flat, primitive-typed files this lake writes, built on
 * hyparquet-writer's pieces (ByteWriter, page-header and footer Thrift writers, RLE/bit-packing,
 * Snappy) but with a column path specialised for typed arrays.
 *
 * Why not `parquetWrite`: it is general (nested types, variants, page indexes) and converts every
 * column to plain JS arrays, BigInts and per-value definition-level arrays; on the append hot
 * path that cost several times the work done here. The output is ordinary Parquet:
 * - data page v1 (read by every engine), one page per column per row group;
 * - definition levels RLE-encoded for OPTIONAL columns; no repetition levels (flat schema);
 * - dictionary encoding (PLAIN dictionary page + RLE_DICTIONARY indices) when a column has few
 *   distinct values; otherwise DELTA_BINARY_PACKED for INT64 (timestamps: sorted, so their deltas
 *   pack into a byte or two instead of eight; read by Spark ≥ 3.3, Trino, DuckDB, arrow-rs,
 *   pyarrow and Polars), PLAIN for the rest; booleans PLAIN (bit-packed). BYTE_STREAM_SPLIT would
 *   shrink doubles by a sixth, but Spark's vectorized reader refuses it, so it is not used;
 * - column statistics (null_count, and min/max for numeric columns) per row group;
 * - Snappy or Zstandard page compression.
 *
 * Invariants: numbers arrive as a Float64Array holding every numeric type (INT32/INT64/DOUBLE/
 * FLOAT values as JS numbers, already validated to fit their type); nulls are given by a mask, and
 * the value slot of a null is ignored. Little-endian hosts only (checked once, at load).
 */
import { endianness } from 'node:os'
import { zstdCompressSync } from 'node:zlib'
import type { SchemaElement } from 'hyparquet-writer'
import { ByteWriter } from 'hyparquet-writer'
import { writePageHeader } from 'hyparquet-writer/src/datapage.js'
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js'
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js'
import { writeMetadata } from 'hyparquet-writer/src/metadata.js'
import { snappyCompress } from 'hyparquet-writer/src/snappy.js'

if (endianness() !== 'LE') throw new Error('the Parquet encoder copies typed arrays as little-endian bytes')

type FileMetaData = Parameters<typeof writeMetadata>[1]
type RowGroup = FileMetaData['row_groups'][number]
type ColumnChunk = RowGroup['columns'][number]
type ColumnMetaData = NonNullable<ColumnChunk['meta_data']>
type Encoding = ColumnMetaData['encodings'][number]
type PageHeader = Parameters<typeof writePageHeader>[1]

export type ColumnKind = 'int64' | 'int32' | 'double' | 'float' | 'boolean' | 'string'

export interface ColumnInput {
  /** The leaf schema element (name, physical type, repetition, logical type). */
  element: SchemaElement
  kind: ColumnKind
  /** Numbers (every numeric kind) as doubles; strings and booleans as a plain array. */
  values: Float64Array | readonly unknown[]
  /** 1 where the row's value is null; undefined when the column has no nulls. */
  nulls: Uint8Array | undefined
}

export interface EncodeOptions {
  codec: 'SNAPPY' | 'ZSTD'
  rowGroupRows: number // rows per row group
  createdBy: string
}

const MAGIC = 0x31524150 // "PAR1"

const compress = (codec: EncodeOptions['codec'], bytes: Uint8Array): Uint8Array =>
  codec === 'ZSTD' ? zstdCompressSync(bytes) : snappyCompress(bytes)

/**
 * The file as a list of byte ranges, concatenated once at the end: page bodies are appended
 * without copying them into a growing buffer.
 */
class Parts {
  readonly list: Uint8Array[] = []
  offset = 0
  push(bytes: Uint8Array): void {
    this.list.push(bytes)
    this.offset += bytes.length
  }
}

/** Encodes `numRows` rows of the columns as one Parquet file. */
export function encodeParquet(
  columns: readonly ColumnInput[],
  numRows: number,
  o: EncodeOptions,
): Uint8Array {
  const out = new Parts()
  const magic = new Uint8Array(new Uint32Array([MAGIC]).buffer)
  out.push(magic)
  const rowGroups: RowGroup[] = []
  for (let start = 0; start < numRows; start += o.rowGroupRows) {
    const end = Math.min(numRows, start + o.rowGroupRows)
    const groupStart = out.offset
    let uncompressed = 0
    const chunks = columns.map((c) => {
      const { chunk, uncompressedSize } = writeColumnChunk(out, c, start, end, o.codec)
      uncompressed += uncompressedSize
      return chunk
    })
    rowGroups.push({
      columns: chunks,
      total_byte_size: BigInt(uncompressed),
      num_rows: BigInt(end - start),
      file_offset: BigInt(groupStart),
      total_compressed_size: BigInt(out.offset - groupStart),
    })
  }
  const metadata: FileMetaData = {
    version: 1,
    schema: [{ name: 'spark_schema', num_children: columns.length }, ...columns.map((c) => c.element)],
    num_rows: BigInt(numRows),
    row_groups: rowGroups,
    created_by: o.createdBy,
    metadata_length: 0,
  }
  // metadata_length is a reader-side field, not part of the Thrift footer.
  delete (metadata as Partial<FileMetaData>).metadata_length
  const footer = new ByteWriter(4096)
  writeMetadata(footer, metadata)
  footer.appendUint32(MAGIC)
  out.push(footer.getBytes())
  return Buffer.concat(out.list, out.offset)
}

/** Non-null values of rows [start, end): a view when there are no nulls, else a compacted copy. */
function nonNullNumbers(
  values: Float64Array,
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
): Float64Array {
  if (!nulls) return values.subarray(start, end)
  let n = 0
  for (let i = start; i < end; i++) if (!nulls[i]) n++
  const out = new Float64Array(n)
  let j = 0
  for (let i = start; i < end; i++) if (!nulls[i]) out[j++] = values[i]!
  return out
}

function nonNullObjects(
  values: readonly unknown[],
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
): unknown[] {
  if (!nulls) return values.slice(start, end)
  const out: unknown[] = []
  for (let i = start; i < end; i++) if (!nulls[i]) out.push(values[i])
  return out
}

interface Dictionary {
  /** Distinct values, in first-seen order. */
  entries: unknown[]
  indexes: Int32Array
}

/**
 * Dictionary-encodes the values when that clearly pays (few distinct values); undefined
 * otherwise. A short sample rejects mostly-unique columns (prices, timestamps) cheaply.
 */
function tryDictionary(values: ArrayLike<unknown>, numeric: boolean): Dictionary | undefined {
  const n = values.length
  if (n === 0) return undefined
  const sample = Math.min(n, 64)
  const seen = new Set<unknown>()
  for (let i = 0; i < sample; i++) seen.add(values[i])
  if (seen.size > sample * 0.75 && n > 16) return undefined
  const limit = numeric ? Math.max(16, n >>> 2) : Math.max(16, n >>> 1)
  const map = new Map<unknown, number>()
  const entries: unknown[] = []
  const indexes = new Int32Array(n)
  let prev: unknown = undefined
  let prevIndex = -1
  for (let i = 0; i < n; i++) {
    const v = values[i]
    // Map keys (and ===) equate -0 with 0: a dictionary would lose the sign, PLAIN keeps it.
    if (numeric && v === 0 && 1 / (v as number) < 0) return undefined
    // Runs of one value (constant or sorted columns) skip the map lookup.
    if (prevIndex >= 0 && v === prev) {
      indexes[i] = prevIndex
      continue
    }
    let k = map.get(v)
    if (k === undefined) {
      k = entries.length
      if (k >= limit) return undefined
      entries.push(v)
      map.set(v, k)
    }
    indexes[i] = k
    prev = v
    prevIndex = k
  }
  return { entries, indexes }
}

/** The values in PLAIN encoding for the column's physical type (a view when possible). */
function plainBytes(kind: ColumnKind, values: ArrayLike<unknown>): Uint8Array {
  switch (kind) {
    case 'double': {
      const f = values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>)
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength)
    }
    case 'float':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer)
    case 'int32':
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer)
    case 'int64': {
      // Safe integers as two little-endian 32-bit words each, without BigInt.
      const n = values.length
      const words = new Uint32Array(n * 2)
      for (let i = 0; i < n; i++) {
        const x = values[i] as number
        const hi = Math.floor(x / 4294967296)
        words[2 * i] = x - hi * 4294967296
        words[2 * i + 1] = hi >>> 0
      }
      return new Uint8Array(words.buffer)
    }
    case 'boolean': {
      const bytes = new Uint8Array((values.length + 7) >>> 3)
      for (let i = 0; i < values.length; i++) if (values[i]) bytes[i >>> 3]! |= 1 << (i & 7)
      return bytes
    }
    case 'string': {
      let max = 0
      for (let i = 0; i < values.length; i++) max += 4 + (values[i] as string).length * 3
      const buf = Buffer.allocUnsafe(max)
      let pos = 0
      for (let i = 0; i < values.length; i++) {
        const len = buf.write(values[i] as string, pos + 4, 'utf8')
        buf.writeUInt32LE(len, pos)
        pos += 4 + len
      }
      return buf.subarray(0, pos)
    }
  }
}

/** RLE/bit-packed hybrid, with the common all-equal case as a single RLE run. */
function writeHybrid(out: ByteWriter, values: Uint8Array | Int32Array, bitWidth: number): void {
  const first = values[0]
  let same = true
  for (let i = 1; i < values.length && same; i++) if (values[i] !== first) same = false
  if (same && values.length > 0) {
    out.appendVarInt(values.length << 1)
    for (let b = 0; b < (bitWidth + 7) >>> 3; b++) out.appendUint8((first! >>> (b * 8)) & 0xff)
    return
  }
  writeRleBitPackedHybrid(out, values, bitWidth)
}

function minMax(kind: ColumnKind, values: ArrayLike<unknown>): { min?: number; max?: number } {
  if (kind === 'string' || kind === 'boolean' || values.length === 0) return {}
  const v = values as ArrayLike<number>
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!
    if (x < min) min = x
    if (x > max) max = x
  }
  if (min === Infinity) return {} // all NaN
  if (kind === 'float') {
    // Bounds must be the stored (rounded) values.
    min = Math.fround(min)
    max = Math.fround(max)
  }
  // Parquet orders -0 before +0: the min of a range touching zero is -0, the max +0.
  return { min: min === 0 ? -0 : min, max: max === 0 ? 0 : max }
}

function writeColumnChunk(
  out: Parts,
  c: ColumnInput,
  start: number,
  end: number,
  codec: EncodeOptions['codec'],
): { chunk: ColumnChunk; uncompressedSize: number } {
  const numeric = c.values instanceof Float64Array
  const nonNull = numeric
    ? nonNullNumbers(c.values as Float64Array, c.nulls, start, end)
    : nonNullObjects(c.values as readonly unknown[], c.nulls, start, end)
  const optional = c.element.repetition_type === 'OPTIONAL'
  const numValues = end - start
  const chunkStart = out.offset
  let uncompressedSize = 0
  const encodings: Encoding[] = ['RLE']

  const writePage = (body: Uint8Array, header: (compressedSize: number) => PageHeader): void => {
    const compressed = compress(codec, body)
    const h = new ByteWriter(64)
    writePageHeader(h, header(compressed.length))
    out.push(h.getBytes())
    out.push(compressed)
    uncompressedSize += h.offset + body.length
  }

  const dict = c.kind === 'boolean' ? undefined : tryDictionary(nonNull, numeric)
  let dictionaryPageOffset: bigint | undefined
  if (dict) {
    dictionaryPageOffset = BigInt(out.offset)
    const body = plainBytes(
      c.kind,
      c.kind === 'string' ? dict.entries : Float64Array.from(dict.entries as number[]),
    )
    writePage(body, (compressedSize) => ({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: compressedSize,
      dictionary_page_header: { num_values: dict.entries.length, encoding: 'PLAIN' },
    }))
    encodings.push('PLAIN', 'RLE_DICTIONARY')
  }
  const valueEncoding: Encoding = dict
    ? 'RLE_DICTIONARY'
    : c.kind === 'int64'
      ? 'DELTA_BINARY_PACKED'
      : 'PLAIN'
  if (!dict) encodings.push(valueEncoding)

  const dataPageOffset = BigInt(out.offset)
  const pieces: Uint8Array[] = []
  if (optional) {
    // Definition levels: 4-byte length, then the RLE/bit-packed levels (1 = value present).
    const levels = new Uint8Array(numValues)
    if (c.nulls) for (let i = 0; i < numValues; i++) levels[i] = c.nulls[start + i] ? 0 : 1
    else levels.fill(1)
    const lw = new ByteWriter(c.nulls ? (numValues >>> 3) + 64 : 16)
    lw.appendUint32(0)
    writeHybrid(lw, levels, 1)
    lw.view.setUint32(0, lw.offset - 4, true)
    pieces.push(lw.getBytes())
  }
  if (dict) {
    const bitWidth = Math.max(1, Math.ceil(Math.log2(dict.entries.length)))
    const iw = new ByteWriter(((dict.indexes.length * bitWidth) >>> 3) + 64)
    iw.appendUint8(bitWidth)
    if (dict.indexes.length > 0) writeHybrid(iw, dict.indexes, bitWidth)
    pieces.push(iw.getBytes())
  } else if (valueEncoding === 'DELTA_BINARY_PACKED') {
    const values = nonNull as Float64Array
    const big = new BigInt64Array(values.length)
    for (let i = 0; i < values.length; i++) big[i] = BigInt(values[i]!)
    const dw = new ByteWriter(values.length * 2 + 64)
    deltaBinaryPack(dw, big, 'INT64')
    pieces.push(dw.getBytes())
  } else {
    pieces.push(plainBytes(c.kind, nonNull))
  }
  const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
  writePage(body, (compressedSize) => ({
    type: 'DATA_PAGE',
    uncompressed_page_size: body.length,
    compressed_page_size: compressedSize,
    data_page_header: {
      num_values: numValues,
      encoding: valueEncoding,
      definition_level_encoding: 'RLE',
      repetition_level_encoding: 'RLE',
    },
  }))

  const { min, max } = minMax(c.kind, nonNull)
  const meta: ColumnMetaData = {
    type: c.element.type!,
    encodings,
    path_in_schema: [c.element.name],
    codec,
    num_values: BigInt(numValues),
    total_uncompressed_size: BigInt(uncompressedSize),
    total_compressed_size: BigInt(out.offset - chunkStart),
    data_page_offset: dataPageOffset,
    statistics: {
      null_count: BigInt(numValues - nonNull.length),
      ...(min === undefined ? {} : { min_value: min, max_value: max }),
    },
  }
  if (dictionaryPageOffset !== undefined) meta.dictionary_page_offset = dictionaryPageOffset
  return { chunk: { file_offset: BigInt(chunkStart), meta_data: meta }, uncompressedSize }
}
