/**
 * DELTA_BINARY_PACKED for INT64 columns (timestamps): sorted values whose deltas pack into a byte
 * or two instead of eight. Read by Spark ≥ 3.3, Trino, DuckDB, arrow-rs, pyarrow and Polars.
 *
 * The layout is hyparquet-writer's (blocks of 128 values in 4 miniblocks of 32), and the bytes are
 * exactly its `deltaBinaryPack` bytes (test/lake/parquet/delta-binary-packed.test.ts). Values
 * within ±2^52 whose range is at most 2^52 (every timestamp column) are packed with plain double
 * arithmetic, exact in that range: hyparquet-writer's INT64 path makes several BigInts per value,
 * which were most of the encoder thread's garbage. Other values take that path.
 */
import { ByteWriter } from 'hyparquet-writer'
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js'

const BLOCK_SIZE = 128
const MINIBLOCKS_PER_BLOCK = 4
const VALUES_PER_MINIBLOCK = BLOCK_SIZE / MINIBLOCKS_PER_BLOCK
/** Bound of the values and of their range for the double path: every delta and sum stays exact. */
const EXACT_BOUND = 2 ** 52
const TWO_POW_32 = 2 ** 32

/** The values (safe integers held as doubles) DELTA_BINARY_PACKED as INT64. */
export function deltaBinaryPackedInt64(values: Float64Array): Uint8Array {
  const out = new ByteWriter(values.length * 2 + 64)
  if (fitsDoubles(values)) packDoubles(out, values)
  else {
    const big = new BigInt64Array(values.length)
    for (let i = 0; i < values.length; i++) big[i] = BigInt(values[i]!)
    deltaBinaryPack(out, big, 'INT64')
  }
  return out.getBytes()
}

/** Whether every value is an integer within ±2^52 and their range is at most 2^52. */
function fitsDoubles(values: Float64Array): boolean {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isInteger(v) || v > EXACT_BOUND || v < -EXACT_BOUND) return false
    if (v < min) min = v
    if (v > max) max = v
  }
  return values.length === 0 || max - min <= EXACT_BOUND
}

/** ULEB128 of a non-negative integer below 2^54 (exact in doubles). */
function appendUleb(out: ByteWriter, v: number): void {
  while (v >= 0x80) {
    const low = v % 0x80
    out.appendUint8(low + 0x80)
    v = (v - low) / 0x80
  }
  out.appendUint8(v)
}

/** Zigzag then ULEB128, as `appendZigZag` of the same value as a BigInt. */
const appendZigZag = (out: ByteWriter, v: number): void => appendUleb(out, v < 0 ? -v * 2 - 1 : v * 2)

/** Bits needed for a non-negative integer below 2^53. */
function bitWidth(v: number): number {
  if (v < TWO_POW_32) return 32 - Math.clz32(v)
  return 64 - Math.clz32(Math.floor(v / TWO_POW_32))
}

function packDoubles(out: ByteWriter, values: Float64Array): void {
  const count = values.length
  out.appendVarInt(BLOCK_SIZE)
  out.appendVarInt(MINIBLOCKS_PER_BLOCK)
  out.appendVarInt(count)
  appendZigZag(out, count === 0 ? 0 : values[0]!)
  const deltas = new Float64Array(BLOCK_SIZE)
  const widths = new Uint8Array(MINIBLOCKS_PER_BLOCK)
  for (let index = 1; index < count; index += BLOCK_SIZE) {
    const size = Math.min(BLOCK_SIZE, count - index)
    let minDelta = 0
    for (let i = 0; i < size; i++) {
      const d = values[index + i]! - values[index + i - 1]!
      deltas[i] = d
      if (i === 0 || d < minDelta) minDelta = d
    }
    appendZigZag(out, minDelta)
    for (let mb = 0; mb < MINIBLOCKS_PER_BLOCK; mb++) {
      const end = Math.min((mb + 1) * VALUES_PER_MINIBLOCK, size)
      let max = 0
      for (let i = mb * VALUES_PER_MINIBLOCK; i < end; i++)
        if (deltas[i]! - minDelta > max) max = deltas[i]! - minDelta
      widths[mb] = bitWidth(max)
    }
    out.appendBytes(widths)
    for (let mb = 0; mb < MINIBLOCKS_PER_BLOCK; mb++) {
      const width = widths[mb]!
      if (width === 0) continue
      const start = mb * VALUES_PER_MINIBLOCK
      // Little-endian bit packing with an accumulator below 2^40 (fewer than 8 pending bits plus
      // at most 32 new ones), so every step is exact in a double.
      let pending = 0
      let pendingBits = 0
      for (let i = 0; i < VALUES_PER_MINIBLOCK; i++) {
        const adjusted = start + i < size ? deltas[start + i]! - minDelta : 0
        const low = adjusted % TWO_POW_32
        const parts = width > 32 ? 2 : 1
        for (let p = 0; p < parts; p++) {
          const bits = p === 0 ? Math.min(width, 32) : width - 32
          const chunk = p === 0 ? low : (adjusted - low) / TWO_POW_32
          pending += chunk * 2 ** pendingBits
          pendingBits += bits
          while (pendingBits >= 8) {
            const byte = pending % 256
            out.appendUint8(byte)
            pending = (pending - byte) / 256
            pendingBits -= 8
          }
        }
      }
    }
  }
}
