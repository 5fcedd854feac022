/**
 * Dictionary encoding: a PLAIN dictionary page of the distinct values and RLE_DICTIONARY indices
 * in the data page, chosen only when it clearly pays (few distinct values: symbols, names,
 * constant columns).
 */
import { ByteWriter } from 'hyparquet-writer'
import { writeHybrid } from './rle-hybrid.ts'

export interface Dictionary {
  /** Distinct values, in first-seen order. */
  entries: unknown[]
  /** For each value, its position in `entries`. */
  indexes: Int32Array
}

/**
 * Dictionary-encodes the values when that clearly pays (few distinct values); undefined
 * otherwise. A short sample rejects mostly-unique columns (prices, timestamps) cheaply.
 */
export function tryDictionary(values: ArrayLike<unknown>, numeric: boolean): Dictionary | undefined {
  const n = values.length
  if (n === 0) return undefined
  const sample = Math.min(n, 64)
  const seen = new Set<unknown>()
  for (let i = 0; i < sample; i++) seen.add(values[i])
  if (seen.size > sample * 0.75 && n > 16) return undefined
  const limit = numeric ? Math.max(16, n >>> 2) : Math.max(16, n >>> 1)
  const map = new Map<unknown, number>()
  const entries: unknown[] = []
  const indexes = new Int32Array(n)
  let prev: unknown = undefined
  let prevIndex = -1
  for (let i = 0; i < n; i++) {
    const v = values[i]
    // Map keys (and ===) equate -0 with 0: a dictionary would lose the sign, PLAIN keeps it.
    if (numeric && v === 0 && 1 / (v as number) < 0) return undefined
    // Runs of one value (constant or sorted columns) skip the map lookup.
    if (prevIndex >= 0 && v === prev) {
      indexes[i] = prevIndex
      continue
    }
    let k = map.get(v)
    if (k === undefined) {
      k = entries.length
      if (k >= limit) return undefined
      entries.push(v)
      map.set(v, k)
    }
    indexes[i] = k
    prev = v
    prevIndex = k
  }
  return { entries, indexes }
}

/** The RLE_DICTIONARY data of a page: one byte of bit width, then the indices RLE/bit-packed. */
export function dictionaryIndexes(dict: Dictionary): Uint8Array {
  const bitWidth = Math.max(1, Math.ceil(Math.log2(dict.entries.length)))
  const out = new ByteWriter(((dict.indexes.length * bitWidth) >>> 3) + 64)
  out.appendUint8(bitWidth)
  if (dict.indexes.length > 0) writeHybrid(out, dict.indexes, bitWidth)
  return out.getBytes()
}
