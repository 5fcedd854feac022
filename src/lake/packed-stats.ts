/**
 * Per-file statistics held compactly: a live file's `add.stats` JSON text (~1 KB for a quotes
 * file) packed into a shared, interned *shape* (which sections and column keys the text has, in
 * its order, and each value's kind) plus one array of numbers and one of strings per file
 * (~250 B). The text is regenerated on demand, byte for byte.
 *
 * Invariants:
 * - Exact round trip or nothing: `packStats(text)` returns a packing only when `statsText` of it
 *   is exactly `text`; any other text (another writer's number format, nested struct stats,
 *   `tightBounds`, whitespace, keys in another order…) stays as text. So the protocol sees
 *   exactly what was written, whoever wrote it.
 * - Two packers, one result. The reference (`packStatsByParsing`) parses the text with
 *   `JSON.parse`, derives the shape, and checks the round trip by regenerating the text. The
 *   fast one (`packStats`, what loading a table runs for every file) scans the text once against
 *   a recently used shape, checking each token is what `statsText` would print back (the
 *   shape's literal `"key":` prefixes in order, numbers in their canonical shortest form,
 *   timestamps with in-range fields, strings without escapes), and computes the "max equals
 *   min" and "no nulls" properties as the reference does; at the first doubt it hands the text
 *   to the reference. So it returns the reference's packing (the same shape object, the same
 *   numbers, the same string ids) or defers to it, never a packing of its own making: proven by
 *   test/lake/packed-stats.test.ts over random, foreign (Spark / delta-rs golden tables) and
 *   our own stats texts.
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
  /** String slots per file. */
  readonly stringCount: number
  /** minValues and maxValues have the same keys and kinds: "max equals min" decided by the values. */
  readonly maxMayAlias: boolean
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
 * The reference packer: the packing of a stats text, or undefined when it does not round-trip
 * exactly (then the caller keeps the text). `packStats` returns the same, faster.
 */
export function packStatsByParsing(text: string): PackedStats | undefined {
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
  if (statsText(packed) !== text) return undefined
  rememberShape(shape)
  return packed
}

// ---------------------------------------------------------------------------------------------
// The fast packer: one scan of the text against a recently used shape.

/** Shapes the last packings had, most recent first (a table's files alternate between a few). */
const recentShapes: StatsShape[] = []
const RECENT_SHAPES = 4

function rememberShape(shape: StatsShape): void {
  const at = recentShapes.indexOf(shape)
  if (at === 0) return
  if (at > 0) recentShapes.splice(at, 1)
  else if (recentShapes.length === RECENT_SHAPES) recentShapes.pop()
  recentShapes.unshift(shape)
}

/**
 * The packing of a stats text: what `packStatsByParsing` returns, or undefined when the text
 * does not round-trip exactly. Scans the text against the recent shapes first.
 */
export function packStats(text: string): PackedStats | undefined {
  return scanStats(text) ?? packStatsByParsing(text)
}

/**
 * The scan alone: the reference's packing of `text` when a recent shape decides it, else
 * undefined (undecided, not "unpackable"). Exported for the tests that prove it equal.
 */
export function scanStats(text: string): PackedStats | undefined {
  for (let i = 0; i < recentShapes.length; i++) {
    const shape = recentShapes[i]!
    const packed = scanAgainst(text, shape)
    if (packed !== undefined) {
      if (i > 0) rememberShape(shape)
      return packed
    }
  }
  return undefined
}

const QUOTE = 0x22
const COMMA = 0x2c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const BACKSLASH = 0x5c
const CLOSE_BRACE = 0x7d

/** Exact powers of ten (every one up to 1e22 is a double). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

/** Scratch values of the packing being scanned (numbers, then string ids). */
const scratch: number[] = []
/** Where the last token scanned ended (set by the token readers). */
let tokenEnd = 0

/** 2^53: every integer below it is a double, and sums and products of digits below it are exact. */
const EXACT = 2 ** 53

/**
 * The JSON number starting at `pos` if it is exactly what `String` prints for its value (the
 * shortest round-trip form, ECMA-262 Number::toString), else NaN (and the caller defers to the
 * reference). Plain-notation numbers are decided from their digits, without printing:
 * - an integer below 2^53 is a double, the only decimal rounding to itself;
 * - a decimal of at most 15 significant digits is the only one of ≤ 15 digits rounding to its
 *   double (doubles keep 15 digits), so it is the shortest; mantissa / 10^f is its correctly
 *   rounded value, both being exact doubles;
 * - one of 16 or 17 digits is the shortest when neither neighbour one digit shorter rounds to
 *   the same double, and the one printed when it is the nearest to the double of its length:
 *   |D − n·10^f| < ½, computed exactly (`nearestDigits`).
 * Anything else (an exponent, trailing zeros, a tiny value, a tie…) is compared with `String`.
 */
function readNumber(text: string, pos: number): number {
  const start = pos
  let c = text.charCodeAt(pos)
  const negative = c === MINUS
  if (negative) c = text.charCodeAt(++pos)
  if (c < ZERO || c > NINE) return NaN
  let mantissa = 0
  let digits = 0 // significant digits so far
  let intDigits = 0
  if (c === ZERO) {
    c = text.charCodeAt(++pos)
    // JSON allows no leading zeros.
    if (c >= ZERO && c <= NINE) return NaN
  } else {
    do {
      mantissa = mantissa * 10 + (c - ZERO)
      digits++
      intDigits++
      c = text.charCodeAt(++pos)
    } while (c >= ZERO && c <= NINE)
  }
  let fraction = 0
  let leadingZeros = 0
  let lastDigit = -1
  if (c === DOT) {
    c = text.charCodeAt(++pos)
    if (c < ZERO || c > NINE) return NaN
    do {
      if (digits === 0 && c === ZERO) leadingZeros++
      else {
        mantissa = mantissa * 10 + (c - ZERO)
        digits++
      }
      fraction++
      lastDigit = c
      c = text.charCodeAt(++pos)
    } while (c >= ZERO && c <= NINE)
  }
  tokenEnd = pos
  const exponent = c === 0x65 || c === 0x45
  if (!exponent && !(negative && mantissa === 0)) {
    if (fraction === 0) {
      // Digits accumulate exactly while below 2^53.
      if (digits <= 16 && mantissa < EXACT) return negative ? -mantissa : mantissa
    } else if (lastDigit !== ZERO && (intDigits > 0 || leadingZeros <= 5)) {
      if (digits <= 15) {
        const value = mantissa / POW10[fraction]!
        return negative ? -value : value
      }
      // More than 17 digits never print; 16 or 17 are decided exactly unless a neighbour is too big.
      if (digits > 17) return NaN
      const value = shortestDecimal(text, start, pos, digits, fraction)
      if (value !== undefined) return negative ? -value : value
    } else if (lastDigit === ZERO) {
      return NaN // a trailing zero never prints
    }
  }
  // An exponent, a big integer, a tiny value, negative zero, a tie: compare with the print.
  if (exponent) {
    c = text.charCodeAt(++pos)
    if (c === 0x2b || c === MINUS) c = text.charCodeAt(++pos)
    if (c < ZERO || c > NINE) return NaN
    do c = text.charCodeAt(++pos)
    while (c >= ZERO && c <= NINE)
    tokenEnd = pos
  }
  const token = text.slice(start, pos)
  const value = Number(token)
  return String(value) === token ? value : NaN
}

/**
 * For a plain decimal token `text[start, end)` of 16 or 17 significant digits D and `fraction`
 * digits after the point (a non-zero last one): its value (magnitude) if `String` prints exactly
 * these digits for it, NaN if it prints others, undefined when undecided (the caller compares).
 */
function shortestDecimal(
  text: string,
  start: number,
  end: number,
  digits: number,
  fraction: number,
): number | undefined {
  if (fraction > 22) return undefined
  // D = high·10^8 + low, and D without its last digit (the shorter neighbour below).
  let high = 0
  let low = 0
  let shorter = 0
  let seen = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < ZERO || c > NINE || (seen === 0 && c === ZERO)) continue
    const d = c - ZERO
    if (seen < digits - 8) high = high * 10 + d
    else low = low * 10 + d
    if (seen < digits - 1) shorter = shorter * 10 + d
    seen++
  }
  if (shorter + 1 >= EXACT) return undefined
  const scale = POW10[fraction]!
  // D below 2^53 is a double, so D / 10^f is correctly rounded; above, it is a candidate
  // (rounded twice) that `nearestDouble` proves or corrects, else undefined (the caller compares).
  const value = high * 1e8 + low < EXACT ? (high * 1e8 + low) / scale : nearestDouble(high, low, scale)
  if (value === undefined) return undefined
  // A decimal one digit shorter rounding to the same double would be printed instead.
  const shorterScale = POW10[fraction - 1]!
  if (shorter / shorterScale === value || (shorter + 1) / shorterScale === value) return NaN
  // Printed digits are the nearest to the double: |D − value·10^f| < ½.
  const distance = Math.abs(residual(high, low, value, scale))
  if (distance < 0.5 - 2 ** -20) return value
  if (distance > 0.5 + 2 ** -20) return NaN
  return undefined
}

/**
 * D − value·10^f for D = high·10^8 + low of 16–17 digits, computed exactly but for a rounding
 * far below 2^-20: value·10^f = p + e exactly (Dekker's product), high·10^8 is exact (high·5^8
 * is below 2^53) and high·10^8 − p exact (Sterbenz: they are within a factor of two).
 */
function residual(high: number, low: number, value: number, scale: number): number {
  const p = value * scale
  return high * 1e8 - p + low - productError(value, scale, p)
}

/**
 * The double nearest to D / 10^f (what `Number` gives for the token), for D = high·10^8 + low at
 * or above 2^53 (16–17 digits), if found without doubt, else undefined. A candidate v is the
 * nearest when |D − v·10^f| < ½ − 2^-20: v's neighbours are at least v·2^-53 away (exactly that
 * below a power of two), and v·10^f ≥ D − ½ ≥ 2^53 − ½, so half a gap times 10^f is at least
 * ½ − 2^-55, more than D / 10^f is from v. Such a candidate is also the one the printed digits
 * need (the caller's nearest-digits test), so a value this does not find is left to `Number`.
 * The first candidate (D rounded, then divided) may be an ulp off; one correction by the
 * residual over 10^f lands on the nearest unless D / 10^f is almost halfway between two doubles.
 */
function nearestDouble(high: number, low: number, scale: number): number | undefined {
  let value = (high * 1e8 + low) / scale
  let r = residual(high, low, value, scale)
  if (!(Math.abs(r) < 0.5 - 2 ** -20)) {
    value += r / scale
    r = residual(high, low, value, scale)
    if (!(Math.abs(r) < 0.5 - 2 ** -20)) return undefined
  }
  return value
}

/** Veltkamp's split constant for doubles: 2^27 + 1. */
const SPLITTER = 134_217_729

/** The exact error of the product `a · b` rounded to `p` (Dekker's TwoProduct): a·b = p + error. */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a
  const aHigh = t - (t - a)
  const aLow = a - aHigh
  t = SPLITTER * b
  const bHigh = t - (t - b)
  const bLow = b - bHigh
  return aHigh * bHigh - p + aHigh * bLow + aLow * bHigh + aLow * bLow
}

/** The decimal number of `length` digits at `pos` (digits checked by the caller). */
function digitsAt(text: string, pos: number, length: number): number {
  let n = 0
  for (let i = 0; i < length; i++) n = n * 10 + (text.charCodeAt(pos + i) - ZERO)
  return n
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The last timestamp read and its epoch milliseconds (files written together share them). */
let lastTimestamp = ''
let lastTimestampMillis = NaN

/** Whether `text` has a digit at each of `pos + offsets`. */
function digitsAtAll(text: string, pos: number, offsets: readonly number[]): boolean {
  for (let i = 0; i < offsets.length; i++) {
    const c = text.charCodeAt(pos + offsets[i]!)
    if (c < ZERO || c > NINE) return false
  }
  return true
}

/** Offsets of the digits in `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (the opening quote at 0). */
const TIMESTAMP_DIGITS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23]

/**
 * The epoch milliseconds of the quoted timestamp at `pos` if `toISOString` prints it back
 * exactly (fields in range, a four-digit year from 1000), else NaN.
 */
function readTimestamp(text: string, pos: number): number {
  if (
    text.charCodeAt(pos) !== QUOTE ||
    text.charCodeAt(pos + 5) !== MINUS ||
    text.charCodeAt(pos + 8) !== MINUS ||
    text.charCodeAt(pos + 11) !== 0x54 || // T
    text.charCodeAt(pos + 14) !== 0x3a || // :
    text.charCodeAt(pos + 17) !== 0x3a ||
    text.charCodeAt(pos + 20) !== DOT ||
    text.charCodeAt(pos + 24) !== 0x5a || // Z
    text.charCodeAt(pos + 25) !== QUOTE
  )
    return NaN
  tokenEnd = pos + 26
  if (lastTimestamp.length === 24 && text.startsWith(lastTimestamp, pos + 1)) return lastTimestampMillis
  if (!digitsAtAll(text, pos, TIMESTAMP_DIGITS)) return NaN
  const year = digitsAt(text, pos + 1, 4)
  const month = digitsAt(text, pos + 6, 2)
  const day = digitsAt(text, pos + 9, 2)
  const hour = digitsAt(text, pos + 12, 2)
  const minute = digitsAt(text, pos + 15, 2)
  const second = digitsAt(text, pos + 18, 2)
  const millis = digitsAt(text, pos + 21, 3)
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return NaN
  lastTimestamp = text.slice(pos + 1, pos + 25)
  lastTimestampMillis =
    daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
  return lastTimestampMillis
}

/**
 * The string id of the quoted string at `pos` if `JSON.stringify` prints it back exactly (no
 * escape, control character or surrogate in it), it is not a timestamp (the reference would
 * hold it as one) and it is already in the string table; else -1 (a new string is left to the
 * reference, which adds it: a failed scan never touches the table).
 */
function readStringId(text: string, pos: number): number {
  if (text.charCodeAt(pos) !== QUOTE) return -1
  let end = pos + 1
  for (;;) {
    const c = text.charCodeAt(end)
    if (c === QUOTE) break
    if (c < 0x20 || c === BACKSLASH || (c >= 0xd800 && c <= 0xdfff) || Number.isNaN(c)) return -1
    end++
  }
  const value = text.slice(pos + 1, end)
  if (value.length === 24 && ISO_MILLIS.test(value)) return -1
  tokenEnd = end + 1
  return stringIds.get(value) ?? -1
}

/** Whether every value scanned by the last `scanSection` equalled minValues' at its position. */
let sectionEqualsMin = true
/** Whether every value scanned by the last `scanSection` was 0. */
let sectionAllZero = true

/**
 * Scans one section's `{…}` at `pos` into `scratch` at the section's slots (string ids after
 * the `base` numeric slots). `aliased`: the section shares minValues' slots (max equals min),
 * so each value must equal the one stored there. `zerosOnly`: null counts not stored, each
 * must be exactly 0. `min`: minValues' section, to note whether every value equals min's
 * (`sectionEqualsMin`). Returns the position after the `}`, or -1.
 */
function scanSection(
  text: string,
  pos: number,
  s: Section,
  base: number,
  o: { aliased: boolean; zerosOnly: boolean; min: Section | undefined },
): number {
  if (text.charCodeAt(pos) !== 0x7b) return -1
  pos++
  sectionEqualsMin = true
  sectionAllZero = true
  for (let i = 0; i < s.keys.length; i++) {
    if (i > 0) {
      if (text.charCodeAt(pos) !== COMMA) return -1
      pos++
    }
    const prefix = s.prefixes[i]!
    if (!at(text, pos, prefix)) return -1
    pos += prefix.length
    if (o.zerosOnly) {
      const next = text.charCodeAt(pos + 1)
      if (text.charCodeAt(pos) !== ZERO || (next !== COMMA && next !== CLOSE_BRACE)) return -1
      pos++
      continue
    }
    const kind = s.kinds[i]
    let value: number
    if (kind === STRING) value = readStringId(text, pos)
    else value = kind === TIMESTAMP ? readTimestamp(text, pos) : readNumber(text, pos)
    if (kind === STRING ? value < 0 : Number.isNaN(value)) return -1
    if (kind !== STRING && value !== 0) sectionAllZero = false
    pos = tokenEnd
    const slot = kind === STRING ? s.slots[i]! + base : s.slots[i]!
    if (o.aliased) {
      if (scratch[slot] !== value) return -1
    } else {
      if (
        o.min !== undefined &&
        scratch[kind === STRING ? o.min.slots[i]! + base : o.min.slots[i]!] !== value
      )
        sectionEqualsMin = false
      scratch[slot] = value
    }
  }
  if (text.charCodeAt(pos) !== CLOSE_BRACE) return -1
  return pos + 1
}

/** Whether `literal` is in `text` at `pos` (a loop: cheaper than `startsWith` for these short keys). */
function at(text: string, pos: number, literal: string): boolean {
  for (let i = 0; i < literal.length; i++)
    if (text.charCodeAt(pos + i) !== literal.charCodeAt(i)) return false
  return true
}

/**
 * The reference's packing of `text` if `text` has `shape`, else undefined. The "max equals
 * min" and "no nulls" properties are checked against the values as the reference derives them,
 * so a text whose values would give another shape is not taken for this one.
 */
function scanAgainst(text: string, shape: StatsShape): PackedStats | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined
  const base = shape.numberCount
  scratch.length = base + shape.stringCount
  let pos = 1
  let minScanned = false
  for (let m = 0; m < shape.order.length; m++) {
    const member = shape.order[m]!
    if (m > 0) {
      if (text.charCodeAt(pos) !== COMMA) return undefined
      pos++
    }
    const prefix = MEMBER_PREFIX[member]
    if (!at(text, pos, prefix)) return undefined
    pos += prefix.length
    if (member === 'numRecords') {
      const n = readNumber(text, pos)
      if (Number.isNaN(n)) return undefined
      scratch[0] = n
      pos = tokenEnd
      continue
    }
    const isMax = member === 'maxValues'
    // Max compared with min needs min scanned first (a text with max first goes to the reference).
    if (isMax && shape.maxMayAlias && !minScanned) return undefined
    pos = scanSection(text, pos, shape[member]!, base, {
      aliased: isMax && shape.maxEqualsMin,
      zerosOnly: member === 'nullCount' && shape.nullsAllZero,
      min: isMax && shape.maxMayAlias && !shape.maxEqualsMin ? shape.minValues : undefined,
    })
    if (pos < 0) return undefined
    if (member === 'minValues') minScanned = true
    // Values the reference would give the other shape ("max equals min", "no nulls").
    if (isMax && shape.maxMayAlias && !shape.maxEqualsMin && sectionEqualsMin) return undefined
    if (member === 'nullCount' && !shape.nullsAllZero && sectionAllZero) return undefined
  }
  if (text.charCodeAt(pos) !== CLOSE_BRACE || pos + 1 !== text.length) return undefined
  return { [SHAPE]: shape, [NUMBERS]: scratch.slice(), [STRINGS]: NO_STRINGS }
}

const MEMBER_PREFIX = {
  numRecords: '"numRecords":',
  minValues: '"minValues":',
  maxValues: '"maxValues":',
  nullCount: '"nullCount":',
} as const

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
  const maxMayAlias =
    minValues !== undefined &&
    maxValues !== undefined &&
    minValues.keys.length === maxValues.keys.length &&
    minValues.keys.every((k, i) => k === maxValues.keys[i] && minValues.kinds[i] === maxValues.kinds[i])
  return {
    order,
    minValues,
    maxValues,
    nullCount,
    numberCount: nextNumber,
    stringCount: nextString,
    maxMayAlias,
    maxEqualsMin,
    nullsAllZero,
  }
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
