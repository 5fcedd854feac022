import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readPlain } from 'hyparquet/src/plain.js'
import { plainBytes } from '../../../src/lake/parquet/plain.ts'
import { readerOf } from './reader.ts'

test('PLAIN doubles, floats and int32 decode to the same values', () => {
  const doubles = [1.5, -0, Number.MAX_VALUE, -1e-300]
  assert.deepEqual(
    [...readPlain(readerOf(plainBytes('double', Float64Array.from(doubles))), 'DOUBLE', 4, undefined)],
    doubles,
  )
  assert.deepEqual([...readPlain(readerOf(plainBytes('float', [0.5, -2])), 'FLOAT', 2, undefined)], [0.5, -2])
  assert.deepEqual(
    [...readPlain(readerOf(plainBytes('int32', [1, -1, 2 ** 31 - 1])), 'INT32', 3, undefined)],
    [1, -1, 2 ** 31 - 1],
  )
})

test('PLAIN int64 writes safe integers, negative ones included, as 64-bit two’s complement', () => {
  const values = [0, 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1_700_000_000_123_456]
  const decoded = readPlain(readerOf(plainBytes('int64', values)), 'INT64', values.length, undefined)
  assert.deepEqual([...decoded].map(Number), values)
})

test('PLAIN booleans are bit-packed, least significant bit first', () => {
  const values = [true, false, false, true, true, false, true, false, true]
  const bytes = plainBytes('boolean', values)
  assert.deepEqual([...bytes], [0b01011001, 0b1])
  assert.deepEqual([...readPlain(readerOf(bytes), 'BOOLEAN', values.length, undefined)], values)
})

test('PLAIN strings are length-prefixed UTF-8, multi-byte characters counted in bytes', () => {
  const values = ['bitcoin', '', 'ĸ€🚀']
  const decoded = readPlain(readerOf(plainBytes('string', values)), 'BYTE_ARRAY', values.length, undefined)
  assert.deepEqual(
    [...decoded].map((b) => new TextDecoder().decode(b as Uint8Array)),
    values,
  )
})
