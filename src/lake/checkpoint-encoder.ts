/**
 * The checkpoint's Parquet encoder: the actions are shredded (Dremel definition and repetition
 * levels) straight into per-leaf column buffers that live for the whole file, and each row group
 * is written from them as one data page per leaf. Replaces hyparquet-writer's general path,
 * which for every row group built row objects, JS arrays of levels and values per leaf, BigInts,
 * and a fresh doubling page buffer per column chunk: ~100 MB of short-lived native buffers per
 * 100,000-file checkpoint that stayed resident until a GC found them dead. Pages are compressed
 * into one reused buffer too (snappy-compress.ts).
 *
 * The output is ordinary Parquet as every Delta reader expects it (Spark, delta-rs, Trino,
 * DuckDB, ours): data page v1 (repetition levels, then definition levels, RLE/bit-packed hybrid
 * with a 4-byte length each, then PLAIN values), Snappy-compressed, no column statistics
 * (checkpoint stats are never used for pruning), the schema of `checkpoint.ts`.
 *
 * Invariants:
 * - Every leaf gets exactly one slot per row at repetition level 0 (a row without that action
 *   gets a null slot at the level where its path stops), plus one slot per further map entry or
 *   list element: the levels are those of the Dremel encoding the Parquet spec defines.
 * - The buffers grow to the largest row group and are reused; a row group's bytes are copied out
 *   before the next is encoded (`RowGroupBytes.take`), so nothing handed out is ever rewritten.
 * - INT64 values are written from JS numbers without BigInt; they must be safe integers
 *   (timestamps, sizes, versions), anything else is refused rather than silently changed.
 */
import { ByteWriter } from 'hyparquet-writer'
import type { SchemaElement } from 'hyparquet-writer'
import { writePageHeader } from 'hyparquet-writer/src/datapage.js'
import { writeMetadata } from 'hyparquet-writer/src/metadata.js'
import { writeHybrid } from './parquet/rle-hybrid.ts'
import { SnappyCompressor } from './snappy-compress.ts'

type FileMetaData = Parameters<typeof writeMetadata>[1]
type RowGroup = FileMetaData['row_groups'][number]
type ColumnChunk = RowGroup['columns'][number]

const MAGIC = 0x31524150 // "PAR1"

/** A byte buffer that keeps its capacity across resets (a ByteWriter grown once, then reused). */
class ReusedBytes extends ByteWriter {
  reset(): void {
    this.index = 0
    this.offset = 0
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, 0, this.index)
  }
}

const utf8 = new TextEncoder()

/** Level values of one leaf, grown by doubling and reused across row groups. */
class Levels {
  values = new Uint8Array(4096)
  length = 0

  push(level: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint8Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = level
  }
}

type Physical = 'BYTE_ARRAY' | 'INT64' | 'INT32' | 'BOOLEAN'

/** One leaf column of the row group being filled. */
class Leaf {
  readonly path: string[]
  readonly type: Physical
  readonly maxDef: number
  readonly maxRep: number
  /** The value every present slot takes, whatever the action says (`dataChange`: false). */
  readonly constant: unknown
  readonly def = new Levels()
  readonly rep = new Levels()
  /** PLAIN-encoded values (booleans: one byte each here, bit-packed when the page is written). */
  readonly values = new ReusedBytes(1 << 16)

  constructor(path: string[], type: Physical, maxDef: number, maxRep: number, constant: unknown) {
    this.path = path
    this.type = type
    this.maxDef = maxDef
    this.maxRep = maxRep
    this.constant = constant
  }

  /** A slot without a value: its path stops at definition level `def`. */
  none(def: number, rep: number): void {
    this.def.push(def)
    if (this.maxRep > 0) this.rep.push(rep)
  }

  /** A slot with a value (at the maximum definition level). */
  value(v: unknown, rep: number): void {
    this.def.push(this.maxDef)
    if (this.maxRep > 0) this.rep.push(rep)
    const out = this.values
    switch (this.type) {
      case 'BYTE_ARRAY': {
        const text = v as string
        // Worst case three UTF-8 bytes per UTF-16 code unit; the length is patched in afterwards.
        out.ensure(4 + text.length * 3)
        const at = out.index
        const { written } = utf8.encodeInto(text, new Uint8Array(out.buffer, at + 4, text.length * 3))
        out.view.setUint32(at, written, true)
        out.index += 4 + written
        out.offset += 4 + written
        break
      }
      case 'INT64': {
        const n = Math.trunc(v as number)
        if (!Number.isSafeInteger(n))
          throw new RangeError(`checkpoint ${this.path.join('.')}: ${v} is no safe integer`)
        const hi = Math.floor(n / 4294967296)
        out.appendUint32(n - hi * 4294967296)
        out.appendUint32(hi >>> 0)
        break
      }
      case 'INT32':
        out.appendInt32(v as number)
        break
      case 'BOOLEAN':
        out.appendUint8(v ? 1 : 0)
        break
    }
  }

  reset(): void {
    this.def.length = 0
    this.rep.length = 0
    this.values.reset()
  }
}

/** The checkpoint schema as a tree of shredders over the leaves. */
type Node =
  | { kind: 'leaf'; name: string; leaf: Leaf; required: boolean }
  | { kind: 'struct'; name: string; children: Node[]; leaves: Leaf[] }
  | { kind: 'map'; name: string; key: Leaf; value: Leaf; leaves: Leaf[] }
  | { kind: 'list'; name: string; element: Leaf; leaves: Leaf[] }

const leavesOf = (n: Node): Leaf[] => (n.kind === 'leaf' ? [n.leaf] : n.leaves)

/**
 * Builds the shredder tree from the flat schema list (depth-first, `num_children`), so the file
 * footer and the shredding come from one declaration. Only the shapes the checkpoint schema
 * uses are accepted: optional structs, optional leaves, maps of string to optional string, and
 * three-level lists of optional strings.
 */
function schemaTree(schema: readonly SchemaElement[], constants: Readonly<Record<string, unknown>>): Node[] {
  let at = 1 // schema[0] is the root
  const build = (path: string[], def: number, rep: number): Node => {
    const e = schema[at++]!
    const here = [...path, e.name]
    if (e.num_children === undefined) {
      const required = e.repetition_type === 'REQUIRED'
      const maxDef = required ? def : def + 1
      const leaf = new Leaf(here, e.type as Physical, maxDef, rep, constants[here.join('.')])
      return { kind: 'leaf', name: e.name, leaf, required }
    }
    if (e.converted_type === 'MAP' || e.converted_type === 'LIST') {
      const repeated = schema[at++]!
      if (repeated.repetition_type !== 'REPEATED')
        throw new Error(`checkpoint schema: ${here.join('.')} is not repeated`)
      const inner = [...here, repeated.name]
      const children: Leaf[] = []
      for (let i = 0; i < (repeated.num_children ?? 0); i++) {
        const child = build(inner, def + 2, rep + 1)
        if (child.kind !== 'leaf') throw new Error(`checkpoint schema: nested ${here.join('.')}`)
        children.push(child.leaf)
      }
      if (e.converted_type === 'MAP') {
        const [key, value] = children
        if (key === undefined || value === undefined || children.length !== 2)
          throw new Error(`checkpoint schema: map ${here.join('.')} needs a key and a value`)
        return { kind: 'map', name: e.name, key, value, leaves: children }
      }
      if (children.length !== 1)
        throw new Error(`checkpoint schema: list ${here.join('.')} needs one element`)
      return { kind: 'list', name: e.name, element: children[0]!, leaves: children }
    }
    const children: Node[] = []
    for (let i = 0; i < e.num_children; i++) children.push(build(here, def + 1, rep))
    return { kind: 'struct', name: e.name, children, leaves: children.flatMap(leavesOf) }
  }
  const out: Node[] = []
  while (at < schema.length) out.push(build([], 0, 0))
  return out
}

/**
 * Shreds `value` under `node`, whose parent is present at definition level `def`; `rep` is the
 * repetition level of the slot (0: a new row). Maps are plain records (string → string or null),
 * lists arrays; null and undefined are both absent.
 */
function shred(node: Node, value: unknown, def: number, rep: number): void {
  switch (node.kind) {
    case 'leaf': {
      const v = node.leaf.constant !== undefined ? node.leaf.constant : value
      if (v === null || v === undefined) {
        if (node.required) throw new Error(`checkpoint: ${node.leaf.path.join('.')} is required`)
        node.leaf.none(def, rep)
      } else node.leaf.value(v, rep)
      return
    }
    case 'struct': {
      if (value === null || value === undefined) {
        for (const l of node.leaves) l.none(def, rep)
        return
      }
      const obj = value as Record<string, unknown>
      for (const child of node.children) shred(child, obj[child.name], def + 1, rep)
      return
    }
    case 'map': {
      if (value === null || value === undefined) {
        node.key.none(def, rep)
        node.value.none(def, rep)
        return
      }
      let r = rep
      const record = value as Record<string, string | null | undefined>
      for (const k in record) {
        node.key.value(k, r)
        const v = record[k]
        if (v === null || v === undefined) node.value.none(def + 2, r)
        else node.value.value(v, r)
        r = node.key.maxRep
      }
      if (r === rep) {
        // An empty map: present, without entries.
        node.key.none(def + 1, rep)
        node.value.none(def + 1, rep)
      }
      return
    }
    case 'list': {
      if (value === null || value === undefined) {
        node.element.none(def, rep)
        return
      }
      const items = value as readonly (string | null | undefined)[]
      if (items.length === 0) node.element.none(def + 1, rep)
      for (let i = 0; i < items.length; i++) {
        const r = i === 0 ? rep : node.element.maxRep
        const v = items[i]
        if (v === null || v === undefined) node.element.none(def + 2, r)
        else node.element.value(v, r)
      }
      return
    }
  }
}

const bitWidth = (max: number): number => (max === 0 ? 0 : 32 - Math.clz32(max))

/**
 * A Parquet file written one row group at a time from shredded rows: `row` adds a row (one
 * top-level value per column, null for the absent ones), `rowGroup` writes the rows added since
 * the last one and returns the group's bytes (the first group's start with the magic), `footer`
 * returns the file's last bytes.
 */
export class ShreddedParquetWriter {
  private readonly schema: readonly SchemaElement[]
  private readonly columns: Node[]
  private readonly leaves: Leaf[]
  private readonly createdBy: string
  private readonly out = new ReusedBytes(1 << 16)
  private readonly page = new ReusedBytes(1 << 16)
  private readonly header = new ReusedBytes(256)
  private readonly snappy = new SnappyCompressor()
  private readonly rowGroups: RowGroup[] = []
  private rows = 0
  private totalRows = 0
  /** Bytes handed out so far (the file offset of the next byte). */
  private written = 0

  constructor(
    schema: readonly SchemaElement[],
    o: { createdBy: string; constants?: Record<string, unknown> },
  ) {
    this.schema = schema
    this.columns = schemaTree(schema, o.constants ?? {})
    this.leaves = this.columns.flatMap(leavesOf)
    this.createdBy = o.createdBy
    this.out.appendUint32(MAGIC)
  }

  /** The top-level columns' names, in schema order. */
  get columnNames(): string[] {
    return this.columns.map((c) => c.name)
  }

  /** Adds a row: `values[i]` is the value of the i-th top-level column (undefined: null). */
  row(values: readonly unknown[]): void {
    for (let i = 0; i < this.columns.length; i++) shred(this.columns[i]!, values[i], 0, 0)
    this.rows++
  }

  /** Rows added since the last row group. */
  get pendingRows(): number {
    return this.rows
  }

  /** Writes the pending rows as one row group; its bytes (a copy: the buffers are reused). */
  rowGroup(): Uint8Array {
    const groupStart = this.written + this.out.index
    const chunks: ColumnChunk[] = []
    let uncompressed = 0
    for (const leaf of this.leaves) {
      const { chunk, uncompressedSize } = this.columnChunk(leaf)
      chunks.push(chunk)
      uncompressed += uncompressedSize
      leaf.reset()
    }
    this.rowGroups.push({
      columns: chunks,
      total_byte_size: BigInt(uncompressed),
      num_rows: BigInt(this.rows),
      file_offset: BigInt(groupStart),
      total_compressed_size: BigInt(this.written + this.out.index - groupStart),
    })
    this.totalRows += this.rows
    this.rows = 0
    return this.take()
  }

  /** The footer (file metadata, its length, the magic): the file's last bytes. */
  footer(): Uint8Array {
    const metadata = {
      version: 1,
      schema: this.schema as SchemaElement[],
      num_rows: BigInt(this.totalRows),
      row_groups: this.rowGroups,
      created_by: this.createdBy,
    } as FileMetaData
    writeMetadata(this.out, metadata) // the metadata, then its length
    this.out.appendUint32(MAGIC)
    return this.take()
  }

  private take(): Uint8Array {
    const bytes = this.out.bytes().slice()
    this.written += bytes.byteLength
    this.out.reset()
    return bytes
  }

  /** One data page v1 of the leaf's slots, Snappy-compressed, appended to the output. */
  private columnChunk(leaf: Leaf): { chunk: ColumnChunk; uncompressedSize: number } {
    const page = this.page
    page.reset()
    const levels = (l: Levels, max: number): void => {
      const at = page.index
      page.appendUint32(0)
      writeHybrid(page, l.values.subarray(0, l.length), bitWidth(max))
      page.view.setUint32(at, page.index - at - 4, true)
    }
    if (leaf.maxRep > 0) levels(leaf.rep, leaf.maxRep)
    if (leaf.maxDef > 0) levels(leaf.def, leaf.maxDef)
    if (leaf.type === 'BOOLEAN') {
      const flags = leaf.values.bytes()
      const packed = new Uint8Array((flags.length + 7) >>> 3)
      for (let i = 0; i < flags.length; i++) if (flags[i]) packed[i >>> 3]! |= 1 << (i & 7)
      page.appendBytes(packed)
    } else page.appendBytes(leaf.values.bytes())
    const body = page.bytes()
    const compressed = this.snappy.compress(body) // a view, copied into `out` below
    const slots = leaf.def.length
    const header = this.header
    header.reset()
    writePageHeader(header, {
      type: 'DATA_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: compressed.length,
      data_page_header: {
        num_values: slots,
        encoding: 'PLAIN',
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    })
    const offset = this.written + this.out.index
    this.out.appendBytes(header.bytes())
    this.out.appendBytes(compressed)
    const uncompressedSize = header.index + body.length
    const chunk: ColumnChunk = {
      file_offset: BigInt(offset),
      meta_data: {
        type: leaf.type,
        encodings: ['PLAIN', 'RLE'],
        path_in_schema: leaf.path,
        codec: 'SNAPPY',
        num_values: BigInt(slots),
        total_uncompressed_size: BigInt(uncompressedSize),
        total_compressed_size: BigInt(header.index + compressed.length),
        data_page_offset: BigInt(offset),
      },
    }
    return { chunk, uncompressedSize }
  }
}
