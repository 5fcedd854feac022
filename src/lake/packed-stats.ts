/**
 * Per-file statistics held compactly: a live file's `add.stats` JSON text (~1 KB for a quotes
 * file) packed into a shared, interned *shape* (which sections and column keys the text has, in
 * its order, and each value's kind) plus one array of numbers and one of strings per file
 * (~250 B). The text is regenerated on demand, byte for byte.
 *
 * Invariants:
 * - Exact round trip or nothing: `packStats(text)` returns a packing only when `statsText` of it
 *   is exactly `text` (checked when packing); any other text (another writer's number format,
 *   nested struct stats, `tightBounds`, whitespace, keys in another order…) stays as text. So
 *   the protocol sees exactly what was written, whoever wrote it.
 * - Generic: shapes are derived from the stats themselves (the table schema's non-partition
 *   columns, as the writer recorded them), nothing is specific to the quotes table. A table has
 *   a handful of shapes (one per column set × value kinds × "max equals min" × "no nulls").
 * - Timestamps (`YYYY-MM-DDTHH:MM:SS.mmmZ`) are kept as epoch milliseconds, numbers as doubles,
 *   other strings (the same few symbols and names repeat across files) as their index in a
 *   process-wide string table, stored after the numbers in the same array (no string array per
 *   file); a file with a string the full table cannot take keeps its strings in an array.
 * - Shapes and interned strings live for the process, each pool bounded: past the bound, new
 *   shapes are not packed (the text is kept) and new strings are not interned.
 */

/** How a min/max value is held. */
const NUMBER = 0
const STRING = 1
const TIMESTAMP = 2
type Kind = typeof NUMBER | typeof STRING | typeof TIMESTAMP

type SectionName = 'minValues' | 'maxValues' | 'nullCount'

interface Section {
  readonly name: SectionName
  readonly keys: readonly string[]
  /** `"key":` per key, JSON-escaped once per shape. */
  readonly prefixes: readonly string[]
  readonly kinds: readonly Kind[]
  /** Per key: index into the file's numbers (NUMBER, TIMESTAMP) or strings (STRING). */
  readonly slots: readonly number[]
  /** Key → position in `keys`. */
  readonly index: ReadonlyMap<string, number>
}

/** The interned layout of a family of stats texts. */
export interface StatsShape {
  /** Top-level members in text order: 'numRecords' or a section. */
  readonly order: readonly ('numRecords' | SectionName)[]
  readonly minValues: Section | undefined
  readonly maxValues: Section | undefined
  readonly nullCount: Section | undefined
  /** Numeric slots per file (numRecords, numbers, timestamps, null counts); string ids follow them. */
  readonly numberCount: number
  /** maxValues has minValues' keys and values (a one-row file): stored once. */
  readonly maxEqualsMin: boolean
  /** Every nullCount is 0: the section's values are not stored per file. */
  readonly nullsAllZero: boolean
}

/**
 * Keys of a packing's fields. Symbols, so an object can carry a packing as hidden fields of its
 * own (packed-add.ts: the live file's `add` is its own packing, no separate object per file)
 * without any property a JSON add could also have.
 */
export const SHAPE = Symbol('statsShape')
export const NUMBERS = Symbol('statsNumbers')
export const STRINGS = Symbol('statsStrings')

/** One file's stats: its shape and its values. */
export interface PackedStats {
  readonly [SHAPE]: StatsShape
  /**
   * numRecords (slot 0 when present), numeric and timestamp min/max values, null counts; then,
   * unless `[STRINGS]` holds them, the string values' ids in the string table.
   */
  readonly [NUMBERS]: readonly number[]
  /** String min/max values when they are not in the string table; empty otherwise. */
  readonly [STRINGS]: readonly string[]
}

const SHAPE_LIMIT = 10_000
const STRING_POOL_LIMIT = 100_000
const shapes = new Map<string, StatsShape>()
/** The string table: id → string, and string → id. */
const stringTable: string[] = []
const stringIds = new Map<string, number>()
const NO_STRINGS: readonly string[] = Object.freeze([])

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** The string's id in the string table, adding it while the table has room; undefined when full. */
function stringId(s: string): number | undefined {
  const id = stringIds.get(s)
  if (id !== undefined || stringIds.size >= STRING_POOL_LIMIT) return id
  stringIds.set(s, stringTable.length)
  stringTable.push(s)
  return stringTable.length - 1
}

type Json = Record<string, unknown>

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The kind a min/max value is held as; undefined when it cannot be packed. A timestamp-looking
 * string that would not print back the same is caught by the round-trip check.
 */
function kindOf(v: unknown): Kind | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? NUMBER : undefined
  if (typeof v !== 'string') return undefined
  return ISO_MILLIS.test(v) && !Number.isNaN(Date.parse(v)) ? TIMESTAMP : STRING
}

/** Appends one section's keys and kinds to a shape signature; undefined if a value cannot be packed. */
function signature(values: Json, kinds: Kind[] | undefined): string | undefined {
  let sig = ''
  for (const k in values) {
    const kind =
      kinds === undefined ? (typeof values[k] === 'number' ? NUMBER : undefined) : kindOf(values[k])
    if (kind === undefined) return undefined
    kinds?.push(kind)
    sig += `${kind}${k}\u0000`
  }
  return sig
}

let lastShape: StatsShape | undefined

/** Whether parsed stats have exactly `shape`'s members, keys (in order), kinds and flags. */
function fits(
  shape: StatsShape,
  order: readonly string[],
  min: Json | undefined,
  max: Json | undefined,
  nulls: Json | undefined,
  maxEqualsMin: boolean,
  nullsAllZero: boolean,
): boolean {
  if (shape.order.length !== order.length || shape.order.some((m, i) => m !== order[i])) return false
  if (shape.nullsAllZero !== nullsAllZero) return false
  if (shape.maxEqualsMin !== maxEqualsMin) return false
  return (
    sectionFits(shape.minValues, min, true) &&
    sectionFits(shape.maxValues, max, true) &&
    sectionFits(shape.nullCount, nulls, false)
  )
}

function sectionFits(section: Section | undefined, values: Json | undefined, withKinds: boolean): boolean {
  if (section === undefined || values === undefined) return section === undefined && values === undefined
  let i = 0
  for (const k in values) {
    if (section.keys[i] !== k) return false
    const kind = withKinds ? kindOf(values[k]) : typeof values[k] === 'number' ? NUMBER : undefined
    if (kind !== section.kinds[i]) return false
    i++
  }
  return i === section.keys.length
}

/**
 * The packing of a stats text, or undefined when it does not round-trip exactly (then the
 * caller keeps the text).
 */
export function packStats(text: string): PackedStats | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(json)) return undefined
  const order: ('numRecords' | SectionName)[] = []
  for (const key in json) {
    if (key === 'numRecords') {
      // numRecords first (slot 0) or not at all: any other layout keeps its text.
      if (order.length > 0 || typeof json.numRecords !== 'number') return undefined
    } else if (key !== 'minValues' && key !== 'maxValues' && key !== 'nullCount') return undefined
    else if (!isRecord(json[key])) return undefined
    order.push(key)
  }
  const min = json.minValues as Json | undefined
  const max = json.maxValues as Json | undefined
  const nulls = json.nullCount as Json | undefined
  let maxEqualsMin = min !== undefined && max !== undefined
  if (maxEqualsMin) {
    for (const k in min) {
      if (min![k] !== max![k]) {
        maxEqualsMin = false
        break
      }
    }
  }
  let nullsAllZero = nulls !== undefined
  for (const k in nulls) {
    if (nulls[k] !== 0) {
      nullsAllZero = false
      break
    }
  }
  // Files written together share a shape: try the last one before building a signature.
  let shape =
    lastShape !== undefined && fits(lastShape, order, min, max, nulls, maxEqualsMin, nullsAllZero)
      ? lastShape
      : undefined
  if (shape === undefined) {
    // Keys, kinds and the "max equals min" and "no nulls" properties decide the shape.
    const minKinds: Kind[] = []
    const maxKinds: Kind[] = []
    const minSig = min === undefined ? '' : signature(min, minKinds)
    const maxSig = max === undefined ? '' : signature(max, maxKinds)
    const nullSig = nulls === undefined ? '' : signature(nulls, undefined)
    if (minSig === undefined || maxSig === undefined || nullSig === undefined) return undefined
    // "max equals min" needs the same keys in the same order, not only the same values.
    if (maxEqualsMin && minSig !== maxSig) maxEqualsMin = false
    const shapeKey = `${order.join(',')}|${minSig}|${maxSig}|${nullSig}|${maxEqualsMin}|${nullsAllZero}`
    shape = shapes.get(shapeKey)
    if (shape === undefined) {
      if (shapes.size >= SHAPE_LIMIT) return undefined
      shape = buildShape(order, min, minKinds, max, maxKinds, nulls, maxEqualsMin, nullsAllZero)
      shapes.set(shapeKey, shape)
    }
    lastShape = shape
  }
  const numbers: number[] = order[0] === 'numRecords' ? [json.numRecords as number] : []
  const strings: string[] = []
  const ids: number[] = []
  let allIds = true
  // Values in slot order: min, then max unless it aliases min, then null counts unless all zero.
  const put = (section: Section | undefined, values: Json | undefined): void => {
    if (!section || !values) return
    for (let i = 0; i < section.keys.length; i++) {
      const v = values[section.keys[i]!]
      const kind = section.kinds[i]
      if (kind === STRING) {
        const id = allIds ? stringId(v as string) : undefined
        if (id === undefined) allIds = false
        else ids.push(id)
        strings.push(v as string)
      } else if (kind === TIMESTAMP) numbers.push(Date.parse(v as string))
      else numbers.push(v as number)
    }
  }
  put(shape.minValues, min)
  if (!maxEqualsMin) put(shape.maxValues, max)
  if (!nullsAllZero) put(shape.nullCount, nulls)
  const packed: PackedStats = {
    [SHAPE]: shape,
    // Exact capacity; string ids after the numbers unless one string found the table full.
    [NUMBERS]: allIds ? numbers.concat(ids) : numbers.slice(),
    [STRINGS]: allIds || strings.length === 0 ? NO_STRINGS : strings.slice(),
  }
  return statsText(packed) === text ? packed : undefined
}

function buildShape(
  order: readonly ('numRecords' | SectionName)[],
  min: Json | undefined,
  minKinds: Kind[],
  max: Json | undefined,
  maxKinds: Kind[],
  nulls: Json | undefined,
  maxEqualsMin: boolean,
  nullsAllZero: boolean,
): StatsShape {
  let nextNumber = order[0] === 'numRecords' ? 1 : 0
  let nextString = 0
  const section = (name: SectionName, values: Json, kinds: Kind[], alias?: Section): Section => {
    const keys = Object.keys(values)
    const slots = alias ? alias.slots : kinds.map((k) => (k === STRING ? nextString++ : nextNumber++))
    return {
      name,
      keys,
      prefixes: keys.map((k) => `${JSON.stringify(k)}:`),
      kinds,
      slots,
      index: new Map(keys.map((k, i) => [k, i])),
    }
  }
  const minValues = min ? section('minValues', min, minKinds) : undefined
  const maxValues = max
    ? section('maxValues', max, maxKinds, maxEqualsMin ? minValues : undefined)
    : undefined
  const nullKinds: Kind[] = nulls ? Object.keys(nulls).map(() => NUMBER) : []
  let nullCount: Section | undefined
  if (nulls) {
    const keys = Object.keys(nulls)
    nullCount = {
      name: 'nullCount',
      keys,
      prefixes: keys.map((k) => `${JSON.stringify(k)}:`),
      kinds: nullKinds,
      slots: nullsAllZero ? keys.map(() => -1) : keys.map(() => nextNumber++),
      index: new Map(keys.map((k, i) => [k, i])),
    }
  }
  return { order, minValues, maxValues, nullCount, numberCount: nextNumber, maxEqualsMin, nullsAllZero }
}

/** String slot `slot` of a packing: from its string array, else by id from the string table. */
function stringAt(p: PackedStats, slot: number): string {
  const strings = p[STRINGS]
  return strings.length > 0 ? strings[slot]! : stringTable[p[NUMBERS][p[SHAPE].numberCount + slot]!]!
}

/** A section's value at key position `i`, as the JSON value it was. */
function sectionValue(p: PackedStats, s: Section, i: number): number | string {
  if (s.name === 'nullCount' && p[SHAPE].nullsAllZero) return 0
  const kind = s.kinds[i]
  const slot = s.slots[i]!
  if (kind === STRING) return stringAt(p, slot)
  const n = p[NUMBERS][slot]!
  return kind === TIMESTAMP ? isoMillis(n) : n
}

// Files written together share timestamps (and a 1-row file's min is its max): one entry suffices.
let lastMillis = NaN
let lastIso = ''

function isoMillis(ms: number): string {
  if (ms !== lastMillis) {
    lastIso = new Date(ms).toISOString()
    lastMillis = ms
  }
  return lastIso
}

/** The stats JSON text, exactly as it was packed. */
export function statsText(p: PackedStats): string {
  let out = '{'
  for (const [m, member] of p[SHAPE].order.entries()) {
    if (m > 0) out += ','
    if (member === 'numRecords') {
      out += `"numRecords":${p[NUMBERS][0]}`
      continue
    }
    const s = p[SHAPE][member]!
    out += `"${member}":{`
    for (let i = 0; i < s.keys.length; i++) {
      if (i > 0) out += ','
      const v = sectionValue(p, s, i)
      out += s.prefixes[i]! + (typeof v === 'number' ? String(v) : JSON.stringify(v))
    }
    out += '}'
  }
  return `${out}}`
}

/** The stats as the decoded JSON object they were. */
export function statsObject(p: PackedStats): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const member of p[SHAPE].order) {
    if (member === 'numRecords') {
      out.numRecords = p[NUMBERS][0]
      continue
    }
    const s = p[SHAPE][member]!
    const values: Record<string, number | string> = {}
    for (let i = 0; i < s.keys.length; i++) values[s.keys[i]!] = sectionValue(p, s, i)
    out[member] = values
  }
  return out
}

/** numRecords, when recorded. */
export const packedRecordCount = (p: PackedStats): number | undefined =>
  p[SHAPE].order[0] === 'numRecords' ? p[NUMBERS][0] : undefined

/** A min/max/nullCount value of one column; timestamps as epoch ms (`asMillis`); undefined if absent. */
export function packedValue(
  p: PackedStats,
  section: SectionName,
  column: string,
): { value: number | string; timestampMillis: boolean } | undefined {
  const s = p[SHAPE][section]
  const i = s?.index.get(column)
  if (s === undefined || i === undefined) return undefined
  if (s.name === 'nullCount' && p[SHAPE].nullsAllZero) return { value: 0, timestampMillis: false }
  const kind = s.kinds[i]
  const slot = s.slots[i]!
  if (kind === STRING) return { value: stringAt(p, slot), timestampMillis: false }
  return { value: p[NUMBERS][slot]!, timestampMillis: kind === TIMESTAMP }
}
