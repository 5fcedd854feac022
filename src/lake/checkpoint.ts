/**
 * Classic Delta checkpoints: one Parquet file holding the table state at a version, so readers
 * need not replay every JSON commit (PROTOCOL.md "Checkpoints").
 *
 * Invariants:
 * - One row per action; each action kind is a top-level optional struct column (`txn`, `add`,
 *   `remove`, `metaData`, `protocol`) and exactly one of them is non-null in a row. `commitInfo`
 *   is never written.
 * - Maps (`partitionValues`, `tags`, `configuration`, `format.options`) have nullable values:
 *   a null partition value stays null. `add.stats` is JSON text. Removes carry no stats.
 * - A checkpoint describes state, not a change, so every action in it has `dataChange: false`
 *   (as Spark writes them).
 * - The file is written before `_last_checkpoint`; `_last_checkpoint` is only a hint, never
 *   carries `parts` for a single file (Trino rejects `"parts":1`), and unreadable content is
 *   treated as absent.
 * - The caller decides what goes in: live adds, unexpired tombstones, current txns.
 * - Bounded memory both ways: writing shreds `ROW_GROUP_ROWS` actions at a time into their own
 *   row group (checkpoint-encoder.ts; the adds and tombstones are consumed lazily from the
 *   state) and streams each group's bytes to the store before encoding the next
 *   (`ObjectStore.putStream`), so it never holds the file; reading decodes one row group at a
 *   time (a large file fetched by ranges, a window of row groups at a time), so it never holds
 *   the whole checkpoint, as objects or as bytes, only the state being built.
 */
import { parquetMetadata, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import type { SchemaElement } from 'hyparquet-writer'
import { z } from 'zod'
import { ENGINE_INFO } from '../engine-info.ts'
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { Action, AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.ts'
import {
  bool,
  DeletionVectorFound,
  fileActions,
  nonNullRecord,
  num,
  otherActionRows,
  RowGroupColumns,
  str,
} from './checkpoint-columns.ts'
import { ShreddedParquetWriter } from './checkpoint-encoder.ts'
import { GrowableBytes } from './growable-bytes.ts'
import { checkpointPath, LAST_CHECKPOINT_PATH } from './log-paths.ts'

export interface CheckpointState {
  version: number
  protocol: Protocol
  metadata: Metadata
  /** Consumed once, lazily, while encoding. */
  adds: Iterable<AddFile>
  /** Consumed once, lazily, while encoding. */
  removes: Iterable<RemoveFile>
  txns: Txn[]
}

/** Actions per row group: enough for good compression, few enough to keep encoding memory small. */
export const ROW_GROUP_ROWS = 1024

export interface LastCheckpoint {
  version: number
  /** Number of actions (rows) in the checkpoint. */
  size: number
  sizeInBytes?: number
  numOfAddFiles?: number
}

// ---------------------------------------------------------------------------------------------
// Parquet schema (the shape Spark and delta-rs write, minus columns we never fill)

type Leaf = 'string' | 'long' | 'int' | 'boolean'

const leaf = (name: string, type: Leaf): SchemaElement[] => [
  type === 'string'
    ? { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }
    : type === 'long'
      ? { name, type: 'INT64', repetition_type: 'OPTIONAL' }
      : type === 'int'
        ? { name, type: 'INT32', repetition_type: 'OPTIONAL' }
        : { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
]

const group = (name: string, children: SchemaElement[][]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: children.length },
  ...children.flat(),
]

/** map<string, string> with nullable values. */
const stringMap = (name: string): SchemaElement[] => [
  {
    name,
    repetition_type: 'OPTIONAL',
    num_children: 1,
    converted_type: 'MAP',
    logical_type: { type: 'MAP' },
  },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
]

/** list<string>, three-level form. */
const stringList = (name: string): SchemaElement[] => [
  {
    name,
    repetition_type: 'OPTIONAL',
    num_children: 1,
    converted_type: 'LIST',
    logical_type: { type: 'LIST' },
  },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
]

const COLUMNS: Record<'txn' | 'add' | 'remove' | 'metaData' | 'protocol', SchemaElement[]> = {
  txn: group('txn', [leaf('appId', 'string'), leaf('version', 'long'), leaf('lastUpdated', 'long')]),
  add: group('add', [
    leaf('path', 'string'),
    stringMap('partitionValues'),
    leaf('size', 'long'),
    leaf('modificationTime', 'long'),
    leaf('dataChange', 'boolean'),
    leaf('stats', 'string'),
    stringMap('tags'),
  ]),
  remove: group('remove', [
    leaf('path', 'string'),
    leaf('deletionTimestamp', 'long'),
    leaf('dataChange', 'boolean'),
    leaf('extendedFileMetadata', 'boolean'),
    stringMap('partitionValues'),
    leaf('size', 'long'),
    stringMap('tags'),
  ]),
  metaData: group('metaData', [
    leaf('id', 'string'),
    leaf('name', 'string'),
    leaf('description', 'string'),
    group('format', [leaf('provider', 'string'), stringMap('options')]),
    leaf('schemaString', 'string'),
    stringList('partitionColumns'),
    stringMap('configuration'),
    leaf('createdTime', 'long'),
  ]),
  protocol: group('protocol', [
    leaf('minReaderVersion', 'int'),
    leaf('minWriterVersion', 'int'),
    stringList('readerFeatures'),
    stringList('writerFeatures'),
  ]),
}

const COLUMN_NAMES = ['txn', 'add', 'remove', 'metaData', 'protocol'] as const
type ColumnName = (typeof COLUMN_NAMES)[number]

/** The checkpoint file's Parquet schema (depth-first, as the footer lists it). */
export const CHECKPOINT_SCHEMA: readonly SchemaElement[] = [
  { name: 'spark_schema', num_children: COLUMN_NAMES.length },
  ...COLUMN_NAMES.flatMap((c) => COLUMNS[c]),
]

// ---------------------------------------------------------------------------------------------
// Encoding

/** A checkpoint describes state, not a change: every file action in it has `dataChange: false`. */
const STATE_CONSTANTS = { 'add.dataChange': false, 'remove.dataChange': false }

/** What a checkpoint holds, counted while it is encoded. */
export interface CheckpointCounts {
  /** Actions (rows) written. */
  rows: number
  /** Live files written. */
  adds: number
  /** Bytes of the file. */
  bytes: number
}

/** An encoded checkpoint and what it holds. */
export interface EncodedCheckpoint extends Omit<CheckpointCounts, 'bytes'> {
  bytes: Uint8Array
}

/**
 * The table state as a classic single-file checkpoint (Snappy-compressed Parquet), produced as
 * chunks: `ROW_GROUP_ROWS` actions are shredded into one row group (checkpoint-encoder.ts),
 * which is handed out before the next is encoded (the first chunk starts with the magic, the
 * last is the footer). So memory holds one group's columns and bytes, never the file nor a row
 * object per action. `counts` is filled as the chunks are produced and complete once they are
 * exhausted. The actions are read as they are: maps as records, `add.stats` as its text.
 */
export function* checkpointChunks(
  state: CheckpointState,
  counts: CheckpointCounts = { rows: 0, adds: 0, bytes: 0 },
  rowGroupRows = ROW_GROUP_ROWS,
): Generator<Uint8Array> {
  const writer = new ShreddedParquetWriter(CHECKPOINT_SCHEMA, {
    createdBy: ENGINE_INFO,
    constants: STATE_CONSTANTS,
  })
  const columns = writer.columnNames
  const row: unknown[] = new Array(columns.length)
  /** Adds one action as a row; true when the row group is full. */
  const put = (kind: ColumnName, action: unknown): boolean => {
    row.fill(undefined)
    row[columns.indexOf(kind)] = action
    writer.row(row)
    counts.rows++
    return writer.pendingRows >= rowGroupRows
  }
  const take = (bytes: Uint8Array): Uint8Array => {
    counts.bytes += bytes.byteLength
    return bytes
  }
  const { protocol: p, metadata: m } = state
  if (put('protocol', p)) yield take(writer.rowGroup())
  // Absent option and configuration maps are written as empty maps, as Spark writes them.
  const metaData = {
    ...m,
    format: { ...m.format, options: m.format.options ?? {} },
    configuration: m.configuration ?? {},
  }
  if (put('metaData', metaData)) yield take(writer.rowGroup())
  for (const t of state.txns) if (put('txn', t)) yield take(writer.rowGroup())
  for (const a of state.adds) {
    if (a.deletionVector !== undefined && a.deletionVector !== null) {
      throw new CryptoVizError(
        'DELTA_UNSUPPORTED_FEATURE',
        `cannot checkpoint ${a.path}: deletion vectors are not supported`,
        { kind: 'user' },
      )
    }
    counts.adds++
    if (put('add', a)) yield take(writer.rowGroup())
  }
  for (const r of state.removes) if (put('remove', r)) yield take(writer.rowGroup())
  if (writer.pendingRows > 0) yield take(writer.rowGroup())
  yield take(writer.footer())
}

/** The table state as a classic single-file checkpoint, in memory, and what it holds. */
export function encodeCheckpointCounted(
  state: CheckpointState,
  rowGroupRows = ROW_GROUP_ROWS,
): EncodedCheckpoint {
  const counts: CheckpointCounts = { rows: 0, adds: 0, bytes: 0 }
  const file = new GrowableBytes()
  for (const chunk of checkpointChunks(state, counts, rowGroupRows)) file.append(chunk)
  return { bytes: file.finish(), rows: counts.rows, adds: counts.adds }
}

/** The table state as a classic single-file checkpoint (Snappy-compressed Parquet). */
export function encodeCheckpoint(state: CheckpointState, rowGroupRows = ROW_GROUP_ROWS): Uint8Array {
  return encodeCheckpointCounted(state, rowGroupRows).bytes
}

// ---------------------------------------------------------------------------------------------
// Decoding (ours, Spark's and delta-rs's checkpoints)

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A decoded Parquet map (object, Map or entry list) as a string record with nullable values. */
function stringRecord(v: unknown): Record<string, string | null> | null {
  if (v === null || v === undefined) return null
  const out: Record<string, string | null> = {}
  const put = (k: unknown, value: unknown) => {
    if (typeof k === 'string') out[k] = value === null || value === undefined ? null : String(value)
  }
  if (v instanceof Map) for (const [k, value] of v) put(k, value)
  else if (Array.isArray(v))
    for (const e of v) put(isObj(e) ? e.key : undefined, isObj(e) ? e.value : undefined)
  else if (isObj(v)) for (const [k, value] of Object.entries(v)) put(k, value)
  return out
}

const stringArray = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined

function decodeRow(row: Obj, where: string): Action | undefined {
  const unsupported = (feature: string) =>
    new CryptoVizError('DELTA_UNSUPPORTED_FEATURE', `${where}: ${feature} are not supported`, {
      kind: 'user',
    })
  const { add, remove, metaData, protocol, txn } = row
  if (isObj(row.sidecar) || isObj(row.checkpointMetadata)) throw unsupported('v2 checkpoints (sidecar files)')
  if (isObj(add) && typeof add.path === 'string') {
    if (isObj(add.deletionVector)) throw unsupported('deletion vectors')
    const a: AddFile = {
      path: add.path,
      partitionValues: stringRecord(add.partitionValues) ?? {},
      size: num(add.size) ?? 0,
      modificationTime: num(add.modificationTime) ?? 0,
      dataChange: bool(add.dataChange) ?? false,
    }
    const stats = str(add.stats)
    if (stats !== null) a.stats = stats
    const tags = stringRecord(add.tags)
    if (tags !== null) a.tags = nonNullRecord(tags)
    return { add: a }
  }
  if (isObj(remove) && typeof remove.path === 'string') {
    if (isObj(remove.deletionVector)) throw unsupported('deletion vectors')
    const r: RemoveFile = { path: remove.path, dataChange: bool(remove.dataChange) ?? false }
    const ts = num(remove.deletionTimestamp)
    if (ts !== null) r.deletionTimestamp = ts
    const ext = bool(remove.extendedFileMetadata)
    if (ext !== null) r.extendedFileMetadata = ext
    const pv = stringRecord(remove.partitionValues)
    if (pv !== null) r.partitionValues = pv
    const size = num(remove.size)
    if (size !== null) r.size = size
    const tags = stringRecord(remove.tags)
    if (tags !== null) r.tags = nonNullRecord(tags)
    return { remove: r }
  }
  if (isObj(metaData) && typeof metaData.id === 'string') {
    const format = isObj(metaData.format) ? metaData.format : {}
    const m: Metadata = {
      id: metaData.id,
      name: str(metaData.name),
      description: str(metaData.description),
      format: {
        provider: str(format.provider) ?? 'parquet',
        options: nonNullRecord(stringRecord(format.options)),
      },
      schemaString: str(metaData.schemaString) ?? '',
      partitionColumns: stringArray(metaData.partitionColumns) ?? [],
      configuration: nonNullRecord(stringRecord(metaData.configuration)),
      createdTime: num(metaData.createdTime),
    }
    return { metaData: m }
  }
  if (isObj(protocol) && num(protocol.minReaderVersion) !== null) {
    const p: Protocol = {
      minReaderVersion: num(protocol.minReaderVersion) ?? 1,
      minWriterVersion: num(protocol.minWriterVersion) ?? 2,
    }
    const rf = stringArray(protocol.readerFeatures)
    if (rf !== undefined) p.readerFeatures = rf
    const wf = stringArray(protocol.writerFeatures)
    if (wf !== undefined) p.writerFeatures = wf
    return { protocol: p }
  }
  if (isObj(txn) && typeof txn.appId === 'string') {
    const t: Txn = { appId: txn.appId, version: num(txn.version) ?? 0 }
    const lu = num(txn.lastUpdated)
    if (lu !== null) t.lastUpdated = lu
    return { txn: t }
  }
  // commitInfo, cdc, domainMetadata and unknown kinds carry no snapshot state we use.
  return undefined
}

const WANTED = new Set(['txn', 'add', 'remove', 'metaData', 'protocol', 'sidecar', 'checkpointMetadata'])

type FileMetaData = ReturnType<typeof parquetMetadata>

/** Bytes of the file from offset `base`, covering row groups up to (excluding) `end`. */
interface Window {
  buffer: ArrayBuffer
  base: number
  end: number
}

/** Where a checkpoint's row groups are read from: the whole file in memory or ranges of a stored one. */
interface CheckpointSource {
  metadata: FileMetaData
  /** A window holding row group `group` (and maybe the next ones). */
  window(group: number): Promise<Window>
  /** The file for hyparquet's row reader (the fallback decoder); it reads inside the window. */
  file(window: Window): ArrayBuffer | AsyncBuffer
}

type AsyncBuffer = { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> }

const corruptCheckpoint = (where: string, e: unknown) =>
  new CryptoVizError('DELTA_LOG_CORRUPT', `${where}: unreadable checkpoint: ${(e as Error).message}`, {
    cause: e,
  })

/**
 * The actions of a checkpoint file, one row group at a time: each batch is decoded only when the
 * previous one was consumed, so a caller that applies and drops them holds one group's objects.
 */
export async function* checkpointBatches(bytes: Uint8Array, where: string): AsyncGenerator<Action[]> {
  // The bytes' own buffer when they span it (no copy of the whole checkpoint), else a copy of them.
  const file = (
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer
  let metadata: FileMetaData
  try {
    metadata = parquetMetadata(file)
  } catch (e) {
    throw corruptCheckpoint(where, e)
  }
  const whole: Window = { buffer: file, base: 0, end: metadata.row_groups.length }
  yield* sourceBatches({ metadata, window: async () => whole, file: () => file }, where)
}

/** The byte range `[start, end)` of a row group's column chunks. */
function rowGroupRange(rowGroup: FileMetaData['row_groups'][number]): { start: number; end: number } {
  let start = Infinity
  let end = 0
  for (const c of rowGroup.columns) {
    const meta = c.meta_data
    if (meta === undefined) continue
    const at = Number(meta.dictionary_page_offset || meta.data_page_offset)
    start = Math.min(start, at)
    end = Math.max(end, at + Number(meta.total_compressed_size))
  }
  return { start: Math.min(start, end), end }
}

/**
 * A stored checkpoint of `size` bytes read by ranges: the footer, then windows of consecutive
 * row groups of about `windowBytes` each (one GET each), so only one window of the compressed
 * file is held at a time, never the whole file.
 */
async function* rangedBatches(
  store: ObjectStore,
  path: string,
  size: number,
  windowBytes: number,
  where: string,
): AsyncGenerator<Action[]> {
  const range = async (start: number, end: number): Promise<ArrayBuffer> => {
    const bytes = await store.getRange(path, start, end)
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  }
  const stored: AsyncBuffer = { byteLength: size, slice: (start, end = size) => range(start, end) }
  let metadata: FileMetaData
  try {
    metadata = await parquetMetadataAsync(stored, { initialFetchSize: FOOTER_FETCH_BYTES })
  } catch (e) {
    if (isCryptoVizError(e)) throw e
    throw corruptCheckpoint(where, e)
  }
  const groups = metadata.row_groups.map(rowGroupRange)
  const source: CheckpointSource = {
    metadata,
    async window(group) {
      const { start } = groups[group]!
      let end = group
      while (end < groups.length && (end === group || groups[end]!.end - start <= windowBytes)) end++
      const buffer = await range(start, groups[end - 1]!.end)
      return { buffer, base: start, end }
    },
    // Reads inside the window are served from it; anything else is fetched.
    file: (w): AsyncBuffer => ({
      byteLength: size,
      slice: async (start: number, end = size) =>
        start >= w.base && end <= w.base + w.buffer.byteLength
          ? w.buffer.slice(start - w.base, end - w.base)
          : range(start, end),
    }),
  }
  yield* sourceBatches(source, where)
}

async function* sourceBatches(source: CheckpointSource, where: string): AsyncGenerator<Action[]> {
  const { metadata } = source
  let columns: string[]
  let schema: ReturnType<typeof parquetSchema>
  try {
    schema = parquetSchema(metadata)
    // Only the action columns we use: `commitInfo`, `cdc` and unknown columns are never decoded.
    columns = schema.children.map((c) => c.element.name).filter((n) => WANTED.has(n))
  } catch (e) {
    throw corruptCheckpoint(where, e)
  }
  let rowStart = 0
  let window: Window | undefined
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const rowGroup = metadata.row_groups[g]!
    const rowEnd = rowStart + Number(rowGroup.num_rows)
    let out: Action[] | undefined
    try {
      if (window === undefined || g >= window.end) {
        window = undefined // the previous window is released before the next is fetched
        window = await source.window(g)
      }
      out = await columnBatch(
        source.file(window),
        window,
        metadata,
        schema,
        rowGroup,
        rowStart,
        columns,
        where,
      )
    } catch (e) {
      if (e instanceof DeletionVectorFound) throw unsupported(where, 'deletion vectors')
      if (isCryptoVizError(e)) throw e
      throw corruptCheckpoint(where, e)
    }
    rowStart = rowEnd
    yield out
  }
}

/** The row decoder over rows `[rowStart, rowEnd)` of the file (every wanted column assembled). */
async function rowActions(
  file: ArrayBuffer | AsyncBuffer,
  metadata: ReturnType<typeof parquetMetadata>,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  where: string,
): Promise<(Action | undefined)[]> {
  const rows = (await parquetReadObjects({ file, metadata, compressors, columns, rowStart, rowEnd })) as Obj[]
  return rows.map((row) => decodeRow(row, where))
}

/**
 * One row group's actions in row order: `add` and `remove` rows built column-wise
 * (checkpoint-columns.ts), the few rows holding any other action kind (protocol, metaData, txn,
 * sidecar…) by the row decoder, and the whole group by the row decoder when its layout is not
 * one the column decoder knows.
 */
async function columnBatch(
  file: ArrayBuffer | AsyncBuffer,
  window: Window,
  metadata: ReturnType<typeof parquetMetadata>,
  schema: ReturnType<typeof parquetSchema>,
  rowGroup: ReturnType<typeof parquetMetadata>['row_groups'][number],
  groupStart: number,
  columns: string[],
  where: string,
): Promise<Action[]> {
  const rows = Number(rowGroup.num_rows)
  const group = new RowGroupColumns(window.buffer, schema, rowGroup, compressors, window.base)
  const otherColumns = columns.filter((c) => c !== 'add' && c !== 'remove')
  const others = otherActionRows(group, otherColumns)
  const files = others === undefined ? undefined : fileActions(group)
  let actions: (Action | undefined)[]
  if (others === undefined || files === undefined) {
    actions = await rowActions(file, metadata, columns, groupStart, groupStart + rows, where)
  } else {
    actions = files
    const first = others.indexOf(true)
    if (first >= 0) {
      // Only the other columns, and only the runs of rows holding them assembled as row objects.
      // An add or remove in the same row still wins, as in the row decoder, whose sidecar refusal
      // comes first either way.
      for (let i = first; i < rows; i++) {
        if (!others[i]) continue
        let end = i + 1
        while (end < rows && others[end]) end++
        const objects = group.rowObjects(otherColumns, i, end)
        for (let r = i; r < end; r++) actions[r] = files[r] ?? decodeRow(objects[r - i] as Obj, where)
        i = end
      }
    }
  }
  const out: Action[] = []
  for (const a of actions) if (a !== undefined) out.push(a)
  return out
}

const unsupported = (where: string, feature: string) =>
  new CryptoVizError('DELTA_UNSUPPORTED_FEATURE', `${where}: ${feature} are not supported`, {
    kind: 'user',
  })

async function decode(bytes: Uint8Array, where: string): Promise<Action[]> {
  const out: Action[] = []
  for await (const batch of checkpointBatches(bytes, where)) for (const a of batch) out.push(a)
  return out
}

/**
 * The reference decoder: every row group assembled as row objects by hyparquet and decoded row
 * by row (what `checkpointBatches` falls back to). Kept to prove the column-wise decoder equal.
 */
export async function decodeCheckpointByRows(bytes: Uint8Array): Promise<Action[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(file)
  const columns = parquetSchema(metadata)
    .children.map((c) => c.element.name)
    .filter((n) => WANTED.has(n))
  const out: Action[] = []
  let rowStart = 0
  for (const rowGroup of metadata.row_groups) {
    const rowEnd = rowStart + Number(rowGroup.num_rows)
    for (const a of await rowActions(file, metadata, columns, rowStart, rowEnd, 'checkpoint')) {
      if (a !== undefined) out.push(a)
    }
    rowStart = rowEnd
  }
  return out
}

/**
 * The actions in one checkpoint file (ours, Spark's or delta-rs's). Rows whose action kind we
 * do not use are dropped; a v2-checkpoint or deletion-vector row is refused. Asynchronous
 * because hyparquet's public reader is (it decompresses and assembles pages lazily).
 */
export function decodeCheckpoint(bytes: Uint8Array): Promise<Action[]> {
  return decode(bytes, 'checkpoint')
}

// ---------------------------------------------------------------------------------------------
// Store I/O

/**
 * Writes `_delta_log/%020d.checkpoint.parquet` streamed to the store (atomic replace: rewriting a checkpoint of the
 * same version with the same state is harmless), then `_last_checkpoint` — unless that already
 * names a newer checkpoint (a slow writer must not move the hint backwards).
 */
export async function writeCheckpoint(store: ObjectStore, state: CheckpointState): Promise<LastCheckpoint> {
  const counts: CheckpointCounts = { rows: 0, adds: 0, bytes: 0 }
  // Streamed row group by row group: the file is never held whole (23 MB at 100,000 files).
  await store.putStream(checkpointPath(state.version), checkpointChunks(state, counts))
  const last: LastCheckpoint = {
    version: state.version,
    size: counts.rows,
    sizeInBytes: counts.bytes,
    numOfAddFiles: counts.adds,
  }
  const current = await readLastCheckpoint(store)
  if (current === undefined || current.version <= state.version) {
    await store.put(LAST_CHECKPOINT_PATH, new TextEncoder().encode(JSON.stringify(last)))
  }
  return last
}

/** Checkpoint parts at least this large are read by ranges instead of one GET. */
export const RANGED_READ_BYTES = 8 * 1024 * 1024

/** Bytes of row groups fetched per ranged read of a large checkpoint. */
const WINDOW_BYTES = 4 * 1024 * 1024

/** Bytes fetched from a checkpoint's end to find its footer (a longer footer takes a second read). */
const FOOTER_FETCH_BYTES = 512 * 1024

/**
 * The actions of a checkpoint at `version`, single-file or multi-part (parts read in order), one
 * row group at a time. A part whose listed size is below `rangedAbove` is read with one GET; a
 * larger one by ranges (footer, then windows of row groups, `rangedBatches`), so neither the
 * decoded checkpoint nor its compressed bytes are ever held whole (23 MB at 100,000 files). A
 * part rewritten since it was listed (same version, other size) fails to parse and is reported
 * as corrupt, like any unreadable checkpoint (the caller then falls back to an older one).
 */
export async function* readCheckpointBatches(
  store: ObjectStore,
  checkpoint: { version: number; paths: string[]; sizes?: readonly number[] },
  o: { rangedAbove?: number; windowBytes?: number } = {},
): AsyncGenerator<Action[]> {
  for (const [i, path] of checkpoint.paths.entries()) {
    const size = checkpoint.sizes?.[i]
    const where = `${store.url}/${path}`
    if (size !== undefined && size >= (o.rangedAbove ?? RANGED_READ_BYTES)) {
      yield* rangedBatches(store, path, size, o.windowBytes ?? WINDOW_BYTES, where)
    } else {
      const bytes = await store.get(path)
      yield* checkpointBatches(bytes, where)
    }
  }
}

/** All actions of a checkpoint at `version`, single-file or multi-part (parts read in order). */
export async function readCheckpoint(
  store: ObjectStore,
  checkpoint: { version: number; paths: string[]; sizes?: readonly number[] },
  o: { rangedAbove?: number; windowBytes?: number } = {},
): Promise<Action[]> {
  const out: Action[] = []
  for await (const batch of readCheckpointBatches(store, checkpoint, o)) for (const a of batch) out.push(a)
  return out
}

const lastCheckpointSchema = z.object({
  version: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  sizeInBytes: z.number().int().nonnegative().optional(),
  numOfAddFiles: z.number().int().nonnegative().optional(),
})

/** `_last_checkpoint`, or undefined when absent or unreadable (it is only a hint). */
export async function readLastCheckpoint(store: ObjectStore): Promise<LastCheckpoint | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await store.get(LAST_CHECKPOINT_PATH)
  } catch (e) {
    if (isCryptoVizError(e, 'STORAGE_NOT_FOUND')) return undefined
    throw e
  }
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  const parsed = lastCheckpointSchema.safeParse(json)
  if (!parsed.success) return undefined
  const { version, size, sizeInBytes, numOfAddFiles } = parsed.data
  const last: LastCheckpoint = { version, size }
  if (sizeInBytes !== undefined) last.sizeInBytes = sizeInBytes
  if (numOfAddFiles !== undefined) last.numOfAddFiles = numOfAddFiles
  return last
}
