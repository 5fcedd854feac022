/**
 * Column-wise decoding of a checkpoint row group's `add` and `remove` actions: each leaf column
 * (`add.path`, `add.size`, `add.partitionValues.key_value.key`, …) is decoded page by page into
 * its definition/repetition levels and dense values (hyparquet's page decoders), and the actions
 * are built straight from those columns. No nested row objects are assembled: hyparquet's row
 * reader builds a list per optional level per leaf and an object per struct, which for a
 * 100,000-file checkpoint is most of the decoding time and garbage.
 *
 * Invariants:
 * - Same result as the row decoder (`checkpoint.ts` `decodeRow`) for every row it handles: the
 *   same type checks (a path that is not a string is no action, numbers from bigint or number,
 *   maps with nullable values), the same fields in the same order. Proven by
 *   test/lake/checkpoint-columns.test.ts over our tables at every version and the golden tables.
 * - Only `add` and `remove` rows are built here; any row whose `txn`, `metaData`, `protocol`,
 *   `sidecar` or `checkpointMetadata` is set is left to the row decoder (a handful of rows per
 *   checkpoint), and rows with both kinds set keep the row decoder's precedence (add first).
 * - A deletion vector on a present action is refused, as the row decoder does.
 * - Unexpected layouts (a leaf the Delta schema does not have where we expect it, repeated
 *   levels outside maps) are reported as `undefined` so the caller can use the row decoder.
 */
import { assembleLists, assembleNested } from 'hyparquet/src/assemble.js'
import { parquetHeader } from 'hyparquet/src/column.js'
import { convert, convertWithDictionary, DEFAULT_PARSERS } from 'hyparquet/src/convert.js'
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js'
import { readPlain } from 'hyparquet/src/plain.js'
import { getTreePath } from 'hyparquet/src/schema.js'
import type { Compressors, RowGroup, SchemaTree } from 'hyparquet'
import type { AddFile, RemoveFile } from './actions.ts'

/** One leaf column of a row group: levels (one entry per slot) and the dense non-null values. */
interface Leaf {
  /** Definition level per slot (exactly one entry per slot: its length is the slot count). */
  def: Int32Array
  /** Repetition level per slot; empty for a leaf without repeated levels. */
  rep: Int32Array
  values: unknown[]
  /** Definition level of a non-null value. */
  maxDef: number
  /** Definition level per schema node on the path (root excluded). */
  levels: number[]
  repeated: boolean
}

/** The leaves of one row group by dotted path, decoded on demand. */
export class RowGroupColumns {
  private readonly file: ArrayBuffer
  /** File offset of `file`'s first byte (a window of the file holding this row group). */
  private readonly base: number
  private readonly schema: SchemaTree
  private readonly compressors: Compressors
  private readonly chunks = new Map<string, NonNullable<RowGroup['columns'][number]['meta_data']>>()
  readonly rows: number

  constructor(file: ArrayBuffer, schema: SchemaTree, rowGroup: RowGroup, compressors: Compressors, base = 0) {
    this.file = file
    this.base = base
    this.schema = schema
    this.compressors = compressors
    this.rows = Number(rowGroup.num_rows)
    for (const c of rowGroup.columns) {
      if (c.meta_data !== undefined && c.file_path === undefined)
        this.chunks.set(c.meta_data.path_in_schema.join('.'), c.meta_data)
    }
  }

  has(path: string): boolean {
    return this.chunks.has(path)
  }

  /** Whether any leaf under `prefix.` exists. */
  hasUnder(prefix: string): boolean {
    for (const k of this.chunks.keys()) if (k.startsWith(`${prefix}.`)) return true
    return false
  }

  /** Paths of the leaves under `prefix.`. */
  leavesUnder(prefix: string): string[] {
    return [...this.chunks.keys()].filter((k) => k.startsWith(`${prefix}.`))
  }

  /**
   * Rows `[from, to)` of the group as hyparquet's row reader builds them (`{name: value}` for
   * each of the top-level `names`), assembled from the leaves' levels of those rows only: the
   * few rows holding a protocol, metaData or txn action cost what they hold, not a list or
   * object per row of the group for every leaf.
   */
  rowObjects(names: readonly string[], from: number, to: number): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = Array.from({ length: to - from }, () => ({}))
    for (const name of names) {
      const child = this.schema.children.find((c) => c.element.name === name)
      const leaves = this.leavesUnder(name)
      if (child === undefined || (leaves.length === 0 && !this.has(name))) continue
      const data = new Map<string, unknown[]>()
      for (const path of leaves.length === 0 ? [name] : leaves) {
        const leaf = this.leaf(path)!
        data.set(path, sliceRows(leaf, from, to, getTreePath(this.schema, path.split('.'))))
      }
      if (leaves.length > 0) assembleNested(data as Map<string, never>, child, DEFAULT_PARSERS)
      const column = data.get(name)!
      for (let i = 0; i < rows.length; i++) rows[i]![name] = column[i]
    }
    return rows
  }

  /** Decoded leaves by path: a leaf read twice (to find the rows of an action, then to build them) is decoded once. */
  private readonly decoded = new Map<string, Leaf>()

  leaf(path: string): Leaf | undefined {
    let leaf = this.decoded.get(path)
    if (leaf === undefined) {
      leaf = this.decodeLeaf(path)
      if (leaf !== undefined) this.decoded.set(path, leaf)
    }
    return leaf
  }

  private decodeLeaf(path: string): Leaf | undefined {
    const meta = this.chunks.get(path)
    if (meta === undefined) return undefined
    const schemaPath = getTreePath(this.schema, meta.path_in_schema)
    const element = schemaPath[schemaPath.length - 1]!.element
    const decoder = {
      pathInSchema: meta.path_in_schema,
      type: meta.type,
      element,
      schemaPath,
      codec: meta.codec,
      parsers: DEFAULT_PARSERS,
      compressors: this.compressors,
    }
    const levels: number[] = []
    let d = 0
    let repeated = false
    for (const node of schemaPath.slice(1)) {
      if (node.element.repetition_type !== 'REQUIRED') d++
      if (node.element.repetition_type === 'REPEATED') repeated = true
      levels.push(d)
    }
    const total = Number(meta.num_values)
    const out: Leaf = {
      def: new Int32Array(total),
      rep: new Int32Array(repeated ? total : 0),
      values: [],
      maxDef: d,
      levels,
      repeated,
    }
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset) - this.base
    const length = Number(meta.total_compressed_size)
    const reader = { view: new DataView(this.file, start, length), offset: 0 }
    let dictionary: ReturnType<typeof convert> | undefined
    let seen = 0
    while (seen < total && reader.offset < length - 1) {
      const header = parquetHeader(reader)
      const bytes = new Uint8Array(this.file, start + reader.offset, header.compressed_page_size)
      reader.offset += header.compressed_page_size
      if (header.type === 'DICTIONARY_PAGE' && header.dictionary_page_header) {
        const page = decompressPage(bytes, header.uncompressed_page_size, meta.codec, this.compressors)
        const plain = readPlain(
          { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 },
          meta.type,
          header.dictionary_page_header.num_values,
          element.type_length,
        )
        dictionary = convert(plain, decoder)
      } else {
        // A v1 page is compressed whole; a v2 page's levels are not (readDataPageV2 decompresses).
        const daph = header.type === 'DATA_PAGE' ? header.data_page_header : undefined
        const daph2 = header.type === 'DATA_PAGE_V2' ? header.data_page_header_v2 : undefined
        const head = daph ?? daph2
        if (head === undefined) continue
        const { definitionLevels, repetitionLevels, dataPage } = daph
          ? readDataPage(
              decompressPage(bytes, header.uncompressed_page_size, meta.codec, this.compressors),
              daph,
              decoder,
            )
          : readDataPageV2(bytes, header, decoder)
        append(
          out,
          seen,
          head.num_values,
          definitionLevels,
          repetitionLevels,
          convertWithDictionary(dataPage, dictionary, head.encoding, decoder),
        )
        seen += head.num_values
      }
    }
    // Fewer slots than the chunk metadata said: the levels end where the pages did.
    if (seen < out.def.length) {
      out.def = out.def.subarray(0, seen)
      if (repeated) out.rep = out.rep.subarray(0, seen)
    }
    return out
  }
}

/** Grows a level array to hold at least `size` slots. */
function grown(levels: Int32Array, size: number): Int32Array {
  const out = new Int32Array(Math.max(size, levels.length * 2))
  out.set(levels)
  return out
}

/** Appends one page's `count` slots (from slot `at`) and its values to the leaf. */
function append(
  out: Leaf,
  at: number,
  count: number,
  def: ArrayLike<number> | undefined,
  rep: ArrayLike<number> | undefined,
  values: ArrayLike<unknown>,
): void {
  if (at + count > out.def.length) out.def = grown(out.def, at + count)
  if (def !== undefined && def.length > 0) {
    for (let i = 0; i < count; i++) out.def[at + i] = def[i]!
  } else out.def.fill(out.maxDef, at, at + count)
  if (out.repeated) {
    if (at + count > out.rep.length) out.rep = grown(out.rep, at + count)
    if (rep !== undefined && rep.length > 0) for (let i = 0; i < count; i++) out.rep[at + i] = rep[i]!
    else out.rep.fill(0, at, at + count)
  }
  // The first page's values as decoded (a fresh array of this leaf's own), later pages appended.
  if (out.values.length === 0 && Array.isArray(values)) out.values = values
  else for (let i = 0; i < values.length; i++) out.values.push(values[i])
}

/** A leaf's rows `[from, to)` as hyparquet's column reader assembles them (lists for repeated levels). */
function sliceRows(
  leaf: Leaf,
  from: number,
  to: number,
  schemaPath: ReturnType<typeof getTreePath>,
): unknown[] {
  // Slots of the rows: a row starts at repetition level 0 (every slot of a non-repeated leaf).
  let start = from
  let end = to
  if (leaf.repeated) {
    let row = -1
    start = end = leaf.rep.length
    for (let i = 0; i < leaf.rep.length; i++) {
      if (leaf.rep[i] === 0) row++
      if (row === from && start === leaf.rep.length) start = i
      if (row === to) {
        end = i
        break
      }
    }
  }
  let firstValue = 0
  for (let i = 0; i < start; i++) if (leaf.def[i] === leaf.maxDef) firstValue++
  let values = 0
  for (let i = start; i < end; i++) if (leaf.def[i] === leaf.maxDef) values++
  return assembleLists(
    [],
    Array.from(leaf.def.subarray(start, end)),
    leaf.repeated ? Array.from(leaf.rep.subarray(start, end)) : [],
    leaf.values.slice(firstValue, firstValue + values) as never,
    schemaPath,
  ) as unknown[]
}

/** Per row: the value, or null when it or any ancestor is null (a non-repeated leaf). */
function scalars(leaf: Leaf | undefined, rows: number): unknown[] | undefined {
  const out = new Array<unknown>(rows).fill(null)
  if (leaf === undefined) return out
  if (leaf.repeated || leaf.def.length !== rows) return undefined
  let v = 0
  for (let i = 0; i < rows; i++) if (leaf.def[i] === leaf.maxDef) out[i] = leaf.values[v++]
  return out
}

/** Per row: whether the node at `depth` on the leaf's path (0: the action struct) is non-null. */
function present(leaf: Leaf, rows: number, depth: number): boolean[] | undefined {
  if (leaf.repeated || leaf.def.length !== rows) return undefined
  const level = leaf.levels[depth]!
  const out = new Array<boolean>(rows)
  for (let i = 0; i < rows; i++) out[i] = leaf.def[i]! >= level
  return out
}

type StringRecord = Record<string, string | null>

/**
 * Per row: a map as a string record with nullable values (as `stringRecord` in checkpoint.ts:
 * non-string keys dropped, values as strings), or null when the map (or an ancestor) is null.
 * `keys` and `values` are the map's `key_value.key` and `key_value.value` leaves.
 */
function maps(
  keys: Leaf | undefined,
  values: Leaf | undefined,
  rows: number,
): (StringRecord | null)[] | undefined {
  const out = new Array<StringRecord | null>(rows).fill(null)
  if (keys === undefined) return values === undefined ? out : undefined
  if (values === undefined || !keys.repeated || !values.repeated) return undefined
  // Path: action, map, key_value, key|value. The map is present at levels[1], an entry at levels[2].
  const mapLevel = keys.levels[1]!
  const entryLevel = keys.levels[2]!
  if (keys.def.length !== values.def.length) return undefined
  let row = -1
  let kv = 0
  let vv = 0
  for (let i = 0; i < keys.def.length; i++) {
    if (keys.rep[i] === 0) row++
    if (row >= rows) return undefined
    const d = keys.def[i]!
    if (d < mapLevel) continue
    let map = out[row]
    if (map === null || map === undefined) out[row] = map = {}
    if (d < entryLevel) continue
    const key = keys.values[kv++]
    const value = values.def[i] === values.maxDef ? values.values[vv++] : null
    if (typeof key === 'string') map[key] = value === null || value === undefined ? null : String(value)
  }
  return row === rows - 1 ? out : undefined
}

// The decoded value checks both decoders share (the row decoder in checkpoint.ts imports them).

export const num = (v: unknown): number | null =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

export const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null)

/** Configuration values and tags are strings; a null one is dropped rather than invented. */
export function nonNullRecord(r: Record<string, string | null> | null): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(r ?? {})) if (v !== null) out[k] = v
  return out
}

/** Thrown for a deletion vector on a present action. */
export class DeletionVectorFound extends Error {}

/** Per row: whether the action's `deletionVector` struct is set (false when the column is absent). */
function deletionVectors(columns: RowGroupColumns, action: string): boolean[] | undefined {
  const leaves = columns.leavesUnder(`${action}.deletionVector`)
  const out = new Array<boolean>(columns.rows).fill(false)
  for (const path of leaves) {
    const leaf = columns.leaf(path)
    if (leaf === undefined) continue
    const p = present(leaf, columns.rows, 1)
    if (p === undefined) return undefined
    for (let i = 0; i < p.length; i++) if (p[i]) out[i] = true
  }
  return out
}

/**
 * The `add` (or, in rows without one, `remove`) action of each row of the group, built from its
 * columns; `undefined` when the layout is not one this decoder knows (use the row decoder).
 * Throws `DeletionVectorFound` for a present action carrying a deletion vector.
 */
export function fileActions(
  columns: RowGroupColumns,
): ({ add: AddFile } | { remove: RemoveFile } | undefined)[] | undefined {
  const rows = columns.rows
  const out = new Array<{ add: AddFile } | { remove: RemoveFile } | undefined>(rows).fill(undefined)
  const col = (path: string) => scalars(columns.leaf(path), rows)
  // A map's two leaves, key then value, whatever its repeated group is named (`key_value`, `map`…).
  const map = (prefix: string) => {
    const leaves = columns.leavesUnder(prefix)
    if (leaves.length === 0) return maps(undefined, undefined, rows)
    if (leaves.length !== 2) return undefined
    return maps(columns.leaf(leaves[0]!), columns.leaf(leaves[1]!), rows)
  }

  if (columns.has('add.path')) {
    const path = col('add.path')
    const size = col('add.size')
    const modificationTime = col('add.modificationTime')
    const dataChange = col('add.dataChange')
    const stats = col('add.stats')
    const partitionValues = map('add.partitionValues')
    const tags = map('add.tags')
    const dv = deletionVectors(columns, 'add')
    if (!path || !size || !modificationTime || !dataChange || !stats || !partitionValues || !tags || !dv)
      return undefined
    for (let i = 0; i < rows; i++) {
      const p = path[i]
      if (typeof p !== 'string') continue
      if (dv[i]) throw new DeletionVectorFound()
      const a: AddFile = {
        path: p,
        partitionValues: partitionValues[i] ?? {},
        size: num(size[i]) ?? 0,
        modificationTime: num(modificationTime[i]) ?? 0,
        dataChange: bool(dataChange[i]) ?? false,
      }
      const s = str(stats[i])
      if (s !== null) a.stats = s
      const t = tags[i] ?? null
      if (t !== null) a.tags = nonNullRecord(t)
      out[i] = { add: a }
    }
  } else if (columns.hasUnder('add')) {
    return undefined
  }

  if (columns.has('remove.path')) {
    const path = col('remove.path')
    const deletionTimestamp = col('remove.deletionTimestamp')
    const dataChange = col('remove.dataChange')
    const extendedFileMetadata = col('remove.extendedFileMetadata')
    const partitionValues = map('remove.partitionValues')
    const size = col('remove.size')
    const tags = map('remove.tags')
    const dv = deletionVectors(columns, 'remove')
    if (
      !path ||
      !deletionTimestamp ||
      !dataChange ||
      !extendedFileMetadata ||
      !partitionValues ||
      !size ||
      !tags ||
      !dv
    )
      return undefined
    for (let i = 0; i < rows; i++) {
      const p = path[i]
      if (typeof p !== 'string' || out[i] !== undefined) continue
      if (dv[i]) throw new DeletionVectorFound()
      const r: RemoveFile = { path: p, dataChange: bool(dataChange[i]) ?? false }
      const ts = num(deletionTimestamp[i])
      if (ts !== null) r.deletionTimestamp = ts
      const ext = bool(extendedFileMetadata[i])
      if (ext !== null) r.extendedFileMetadata = ext
      const pv = partitionValues[i] ?? null
      if (pv !== null) r.partitionValues = pv
      const sz = num(size[i])
      if (sz !== null) r.size = sz
      const t = tags[i] ?? null
      if (t !== null) r.tags = nonNullRecord(t)
      out[i] = { remove: r }
    }
  } else if (columns.hasUnder('remove')) {
    return undefined
  }
  return out
}

/**
 * Per row: whether any of the other action columns (`txn`, `metaData`, `protocol`, `sidecar`,
 * `checkpointMetadata`) is set, judged from one leaf of each (a struct is set when its leaf's
 * definition level reaches the struct). `undefined` when a layout is unexpected.
 */
export function otherActionRows(columns: RowGroupColumns, names: readonly string[]): boolean[] | undefined {
  const out = new Array<boolean>(columns.rows).fill(false)
  for (const name of names) {
    const leaves = columns.leavesUnder(name)
    // A non-repeated leaf says whether its action struct is set; any one will do.
    let found = false
    for (const path of leaves) {
      const leaf = columns.leaf(path)
      if (leaf === undefined || leaf.repeated) continue
      const p = present(leaf, columns.rows, 0)
      if (p === undefined) return undefined
      for (let i = 0; i < p.length; i++) if (p[i]) out[i] = true
      found = true
      break
    }
    if (!found && leaves.length > 0) {
      // Only repeated leaves (not a Delta layout we know): let the row decoder look at every row.
      return undefined
    }
  }
  return out
}
