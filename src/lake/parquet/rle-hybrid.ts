/**
 * The RLE/bit-packed hybrid encoding: definition levels of OPTIONAL columns and dictionary
 * indices. The common all-equal case (a column without nulls, a constant column) is one RLE run
 * of a few bytes instead of a bit-packed run per eight values.
 */
import { ByteWriter } from 'hyparquet-writer'
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js'

/** RLE/bit-packed hybrid of `values` at `bitWidth`, with the all-equal case as a single RLE run. */
export function writeHybrid(out: ByteWriter, values: Uint8Array | Int32Array, bitWidth: number): void {
  const first = values[0]
  let same = true
  for (let i = 1; i < values.length && same; i++) if (values[i] !== first) same = false
  if (same && values.length > 0) {
    out.appendVarInt(values.length << 1)
    for (let b = 0; b < (bitWidth + 7) >>> 3; b++) out.appendUint8((first! >>> (b * 8)) & 0xff)
    return
  }
  writeRleBitPackedHybrid(out, values, bitWidth)
}

/**
 * Definition levels of rows [start, start + count) of an OPTIONAL column as a data page v1 holds
 * them: a 4-byte length, then the levels (1 = value present, 0 = null) at bit width 1.
 */
export function definitionLevels(nulls: Uint8Array | undefined, start: number, count: number): Uint8Array {
  if (!nulls && count > 0) return everyValuePresent(count)
  const levels = new Uint8Array(count)
  if (nulls) for (let i = 0; i < count; i++) levels[i] = nulls[start + i] ? 0 : 1
  else levels.fill(1)
  const out = new ByteWriter(nulls ? (count >>> 3) + 64 : 16)
  out.appendUint32(0)
  writeHybrid(out, levels, 1)
  out.view.setUint32(0, out.offset - 4, true)
  return out.getBytes()
}

/** `definitionLevels` of `count` rows without a null: one RLE run of 1s (what `writeHybrid` writes). */
function everyValuePresent(count: number): Uint8Array {
  const out = new ByteWriter(16)
  out.appendUint32(0)
  out.appendVarInt(count << 1)
  out.appendUint8(1)
  out.view.setUint32(0, out.offset - 4, true)
  return out.getBytes()
}
