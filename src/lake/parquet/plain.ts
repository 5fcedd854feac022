/**
 * PLAIN encoding (Parquet's baseline): little-endian fixed-width numbers, bit-packed booleans,
 * and length-prefixed UTF-8 strings. Used for dictionary pages and for columns that neither
 * dictionary-encode nor delta-encode.
 *
 * Invariant: numbers arrive as JS numbers already validated for their physical type; INT64 values
 * are safe integers (written as two 32-bit words, without BigInt). Little-endian hosts only
 * (checked once by the encoder).
 */

/** The physical kinds of column the encoder writes. */
export type ColumnKind = 'int64' | 'int32' | 'double' | 'float' | 'boolean' | 'string'

/** The values in PLAIN encoding for the column's physical type (a view when possible). */
export function plainBytes(kind: ColumnKind, values: ArrayLike<unknown>): Uint8Array {
  switch (kind) {
    case 'double': {
      const f = values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>)
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength)
    }
    case 'float':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer)
    case 'int32':
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer)
    case 'int64': {
      // Safe integers as two little-endian 32-bit words each, without BigInt.
      const n = values.length
      const words = new Uint32Array(n * 2)
      for (let i = 0; i < n; i++) {
        const x = values[i] as number
        const hi = Math.floor(x / 4294967296)
        words[2 * i] = x - hi * 4294967296
        words[2 * i + 1] = hi >>> 0
      }
      return new Uint8Array(words.buffer)
    }
    case 'boolean': {
      const bytes = new Uint8Array((values.length + 7) >>> 3)
      for (let i = 0; i < values.length; i++) if (values[i]) bytes[i >>> 3]! |= 1 << (i & 7)
      return bytes
    }
    case 'string': {
      let max = 0
      for (let i = 0; i < values.length; i++) max += 4 + (values[i] as string).length * 3
      const buf = Buffer.allocUnsafe(max)
      let pos = 0
      for (let i = 0; i < values.length; i++) {
        const len = buf.write(values[i] as string, pos + 4, 'utf8')
        buf.writeUInt32LE(len, pos)
        pos += 4 + len
      }
      return buf.subarray(0, pos)
    }
  }
}
