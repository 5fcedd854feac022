/**
 * One column chunk of a row group: an optional dictionary page, then one data page v1 (definition
 * levels for OPTIONAL columns, no repetition levels: the schema is flat), compressed, with its
 * column metadata and statistics. The encoding is chosen per chunk: dictionary when few values
 * are distinct, else DELTA_BINARY_PACKED for INT64, else PLAIN (booleans always PLAIN).
 */
import { zstdCompressSync } from 'node:zlib'
import type { SchemaElement } from 'hyparquet-writer'
import { ByteWriter } from 'hyparquet-writer'
import { writePageHeader } from 'hyparquet-writer/src/datapage.js'
import type { writeMetadata } from 'hyparquet-writer/src/metadata.js'
import { snappyCompress } from 'hyparquet-writer/src/snappy.js'
import { deltaBinaryPackedInt64 } from './delta-binary-packed.ts'
import { dictionaryIndexes, tryDictionary, type Dictionary } from './dictionary.ts'
import { plainBytes, type ColumnKind } from './plain.ts'
import { definitionLevels } from './rle-hybrid.ts'
import { minMax } from './statistics.ts'

export type FileMetaData = Parameters<typeof writeMetadata>[1]
export type RowGroup = FileMetaData['row_groups'][number]
type ColumnChunk = RowGroup['columns'][number]
type ColumnMetaData = NonNullable<ColumnChunk['meta_data']>
type Encoding = ColumnMetaData['encodings'][number]
type PageHeader = Parameters<typeof writePageHeader>[1]

export type Codec = 'SNAPPY' | 'ZSTD'

export interface ColumnInput {
  /** The leaf schema element (name, physical type, repetition, logical type). */
  element: SchemaElement
  kind: ColumnKind
  /** Numbers (every numeric kind) as doubles; strings and booleans as a plain array. */
  values: Float64Array | readonly unknown[]
  /** 1 where the row's value is null; undefined when the column has no nulls. */
  nulls: Uint8Array | undefined
}

/**
 * The file as a list of byte ranges, concatenated once at the end: page bodies are appended
 * without copying them into a growing buffer.
 */
export class Parts {
  readonly list: Uint8Array[] = []
  offset = 0
  /**
   * Where the file's page headers are written, one after the other (a buffer per header cost a
   * noticeable share of the encoding of small files). A header's part is a view of it: a view
   * taken before the writer grows keeps the old buffer, whose bytes never change.
   */
  private readonly headers = new ByteWriter(4096)
  push(bytes: Uint8Array): void {
    this.list.push(bytes)
    this.offset += bytes.length
  }
  /** Appends a page header; returns its length in bytes. */
  pushPageHeader(header: PageHeader): number {
    const h = this.headers
    const start = h.index
    writePageHeader(h, header)
    this.push(new Uint8Array(h.buffer, start, h.index - start))
    return h.index - start
  }
}

const compress = (codec: Codec, bytes: Uint8Array): Uint8Array =>
  codec === 'ZSTD' ? zstdCompressSync(bytes) : snappyCompress(bytes)

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

/** The encoded values of a data page and the encoding it declares. */
function encodeValues(
  c: ColumnInput,
  nonNull: Float64Array | unknown[],
  dict: Dictionary | undefined,
): { bytes: Uint8Array; encoding: Encoding } {
  if (dict) return { bytes: dictionaryIndexes(dict), encoding: 'RLE_DICTIONARY' }
  if (c.kind === 'int64') {
    return { bytes: deltaBinaryPackedInt64(nonNull as Float64Array), encoding: 'DELTA_BINARY_PACKED' }
  }
  return { bytes: plainBytes(c.kind, nonNull), encoding: 'PLAIN' }
}

/** Writes rows [start, end) of a column as one chunk at the end of `out`. */
export function writeColumnChunk(
  out: Parts,
  c: ColumnInput,
  start: number,
  end: number,
  codec: Codec,
): { chunk: ColumnChunk; uncompressedSize: number } {
  const numeric = c.values instanceof Float64Array
  const nonNull = numeric
    ? nonNullNumbers(c.values as Float64Array, c.nulls, start, end)
    : nonNullObjects(c.values as readonly unknown[], c.nulls, start, end)
  const numValues = end - start
  const chunkStart = out.offset
  let uncompressedSize = 0
  const encodings: Encoding[] = ['RLE']

  const writePage = (body: Uint8Array, header: (compressedSize: number) => PageHeader): void => {
    const compressed = compress(codec, body)
    const headerLength = out.pushPageHeader(header(compressed.length))
    out.push(compressed)
    uncompressedSize += headerLength + body.length
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

  const dataPageOffset = BigInt(out.offset)
  const values = encodeValues(c, nonNull, dict)
  if (!dict) encodings.push(values.encoding)
  const optional = c.element.repetition_type === 'OPTIONAL'
  const body = optional
    ? Buffer.concat([definitionLevels(c.nulls, start, numValues), values.bytes])
    : values.bytes
  writePage(body, (compressedSize) => ({
    type: 'DATA_PAGE',
    uncompressed_page_size: body.length,
    compressed_page_size: compressedSize,
    data_page_header: {
      num_values: numValues,
      encoding: values.encoding,
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
