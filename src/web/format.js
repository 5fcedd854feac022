// @ts-check
/**
 * How the dashboard writes numbers and times: one set of Intl formatters, so every panel shows a
 * price, a percentage or a byte count the same way. Missing values (null) are written as a dash,
 * never as 0. Times are UTC, like the API.
 */

const DASH = '—'

const usd = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
})
// Sub-dollar assets need significant digits, not cents.
const usdSmall = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 4,
})
const usdCompact = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  notation: 'compact',
  maximumFractionDigits: 2,
})
const percentFormat = new Intl.NumberFormat(undefined, {
  style: 'percent',
  signDisplay: 'exceptZero',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
})
const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
const BYTE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte']
const byteFormats = BYTE_UNITS.map(
  (unit) => new Intl.NumberFormat(undefined, { style: 'unit', unit, maximumFractionDigits: 1 }),
)
const timeFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: 'UTC',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: 'UTC',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})
/** @typedef {number | null | undefined} MaybeNumber */

/** @param {MaybeNumber} v */
export const price = (v) => (v == null ? DASH : (Math.abs(v) >= 1 ? usd : usdSmall).format(v))

/** Large dollar amounts: $1.24T, $16.8B. @param {MaybeNumber} v */
export const money = (v) => (v == null ? DASH : usdCompact.format(v))

/** A percentage given in percent units (1.5 → "+1.50%"). @param {MaybeNumber} v */
export const percent = (v) => (v == null ? DASH : percentFormat.format(v / 100))

/** @param {MaybeNumber} v */
export const integer = (v) => (v == null ? DASH : integerFormat.format(v))

/** Decimal units (kB = 1000 bytes), as Intl names them. @param {MaybeNumber} v */
export function bytes(v) {
  if (v == null) return DASH
  if (Math.abs(v) < 1000) return `${integerFormat.format(v)} B`
  let unit = 0
  while (Math.abs(v) >= 1000 && unit < BYTE_UNITS.length - 1) {
    v /= 1000
    unit += 1
  }
  return /** @type {Intl.NumberFormat} */ (byteFormats[unit]).format(v)
}

/** @param {string | number | Date | null | undefined} t */
const toDate = (t) => (t == null ? undefined : new Date(t))

/** "09:26:28" @param {string | number | Date | null | undefined} t */
export const time = (t) => (t == null ? DASH : timeFormat.format(toDate(t)))

/** "11/28/2026, 09:26:28" in the browser's locale. @param {string | number | Date | null | undefined} t */
export const dateTime = (t) => (t == null ? DASH : dateTimeFormat.format(toDate(t)))

/**
 * Which way a change went, as a CSS class; changes smaller than `epsilon` (what rounds to 0.00 on
 * screen) are flat, so a shown "0.00%" is never coloured.
 * @param {MaybeNumber} v
 * @param {number} [epsilon]
 */
export const trend = (v, epsilon = 0) =>
  v == null || Math.abs(v) <= epsilon ? 'flat' : v > 0 ? 'up' : 'down'
