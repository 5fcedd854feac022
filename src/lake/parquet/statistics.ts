/**
 * Column-chunk statistics: min and max of numeric columns, as Parquet orders them (readers prune
 * row groups and files with them). Strings and booleans get only a null count.
 */
import type { ColumnKind } from './plain.ts'

/** Min and max of the non-null values; empty when there are none, for strings and booleans, or when all are NaN. */
export function minMax(kind: ColumnKind, values: ArrayLike<unknown>): { min?: number; max?: number } {
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
