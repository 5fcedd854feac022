/**
 * A small predicate language over partition values, for maintenance commands
 * (`optimize --where "day >= '2024-05-01' AND crypto = 'bitcoin'"`).
 *
 * Grammar: `<column> <op> '<literal>'` terms joined by `AND` (case-insensitive); ops are
 * `= != <> < <= > >=`. Comparison is on the partition values' strings (ISO dates and zero-padded
 * numbers order correctly as strings). A null partition value matches no comparison.
 *
 * Date shorthand: on a table partitioned by `year`, `month`, `day`, the column `date` — and `day`
 * compared with a full `YYYY-MM-DD` literal — means the partition's calendar date
 * `year-month-day`, so `day >= '2024-05-01'` selects every day from that date on.
 */
import { CryptoVizError } from '../errors.ts'

export type PartitionValues = Record<string, string | null>
export type PartitionPredicate = (values: PartitionValues) => boolean

const TERM = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=|!=|<>|<=|>=|<|>)\s*'((?:[^']|'')*)'\s*$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

const COMPARE: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
}

const bad = (message: string): CryptoVizError =>
  new CryptoVizError('INVALID_ARGUMENT', message, { kind: 'user' })

/** Parses `text` against the table's partition columns; throws INVALID_ARGUMENT on anything else. */
export function parsePartitionPredicate(
  text: string,
  partitionColumns: readonly string[],
): PartitionPredicate {
  const columns = new Set(partitionColumns)
  const hasDate = columns.has('year') && columns.has('month') && columns.has('day')
  const terms = text.split(/\s+AND\s+/i).map((part): PartitionPredicate => {
    const m = TERM.exec(part)
    if (!m)
      throw bad(`cannot parse partition predicate term ${JSON.stringify(part.trim())}: use column op 'value'`)
    const [, column, op, raw] = m as unknown as [string, string, string, string]
    const literal = raw.replaceAll("''", "'")
    const test = COMPARE[op]!
    const asDate = hasDate && (column === 'date' || (column === 'day' && ISO_DATE.test(literal)))
    if (asDate) {
      return (v) => {
        if (v['year'] == null || v['month'] == null || v['day'] == null) return false
        return test(compare(`${v['year']}-${v['month']}-${v['day']}`, literal))
      }
    }
    if (!columns.has(column)) {
      throw bad(
        `"${column}" is not a partition column (partition columns: ${[...columns].join(', ') || 'none'})`,
      )
    }
    return (v) => {
      const value = v[column]
      return value != null && test(compare(value, literal))
    }
  })
  return (values) => terms.every((t) => t(values))
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
