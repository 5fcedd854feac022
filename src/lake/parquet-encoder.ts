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
 * The pieces live in `parquet/`: one module per encoding (plain, rle-hybrid, dictionary,
 * delta-binary-packed), statistics, and the column chunk that chooses between them.
 *
 * Invariants: numbers arrive as a Float64Array holding every numeric type (INT32/INT64/DOUBLE/
 * FLOAT values as JS numbers, already validated to fit their type); nulls are given by a mask, and
 * the value slot of a null is ignored. Little-endian hosts only (checked once, at load).
 */
import { endianness } from 'node:os'
import { ByteWriter } from 'hyparquet-writer'
import { writeMetadata } from 'hyparquet-writer/src/metadata.js'
import {
  Parts,
  writeColumnChunk,
  type Codec,
  type ColumnInput,
  type FileMetaData,
  type RowGroup,
} from './parquet/column-chunk.ts'

if (endianness() !== 'LE') throw new Error('the Parquet encoder copies typed arrays as little-endian bytes')

export type { ColumnInput } from './parquet/column-chunk.ts'
export type { ColumnKind } from './parquet/plain.ts'

export interface EncodeOptions {
  codec: Codec
  /** Rows per row group. */
  rowGroupRows: number
  /** The file's `created_by`. */
  createdBy: string
}

const MAGIC = 0x31524150 // "PAR1"

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
