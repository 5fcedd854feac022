import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteWriter } from 'hyparquet-writer'
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js'
import { definitionLevels, writeHybrid } from '../../../src/lake/parquet/rle-hybrid.ts'
import { readerOf } from './reader.ts'

const hybrid = (values: Int32Array, bitWidth: number): Uint8Array => {
  const out = new ByteWriter(256)
  writeHybrid(out, values, bitWidth)
  return out.getBytes()
}

test('an all-equal run is one RLE run: a varint header and the value', () => {
  const bytes = hybrid(new Int32Array(1000).fill(5), 3)
  assert.deepEqual([...bytes], [0xd0, 0x0f, 5]) // (1000 << 1) as a varint, then one byte of value
  const decoded = new Int32Array(1000)
  readRleBitPackedHybrid(readerOf(bytes), 3, decoded, bytes.length)
  assert.ok(decoded.every((v) => v === 5))
})

test('mixed values round-trip through the hybrid encoding at their bit width', () => {
  const values = Int32Array.from({ length: 77 }, (_, i) => (i * 7) % 13)
  const bytes = hybrid(values, 4)
  const decoded = new Int32Array(values.length)
  readRleBitPackedHybrid(readerOf(bytes), 4, decoded, bytes.length)
  assert.deepEqual(decoded, values)
})

test('definition levels are length-prefixed, 1 for a value and 0 for a null, from the given row', () => {
  const nulls = Uint8Array.from([1, 0, 0, 1, 0, 1, 1, 0])
  const bytes = definitionLevels(nulls, 2, 5)
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true), bytes.length - 4)
  const levels = new Int32Array(5)
  readRleBitPackedHybrid(readerOf(bytes), 1, levels)
  assert.deepEqual([...levels], [1, 0, 1, 0, 0])
  const none = new Int32Array(4)
  readRleBitPackedHybrid(readerOf(definitionLevels(undefined, 0, 4)), 1, none)
  assert.deepEqual([...none], [1, 1, 1, 1])
})
