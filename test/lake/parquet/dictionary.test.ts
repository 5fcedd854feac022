import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js'
import { dictionaryIndexes, tryDictionary } from '../../../src/lake/parquet/dictionary.ts'
import { readerOf } from './reader.ts'

test('few distinct values make a dictionary in first-seen order, with an index per value', () => {
  const values = ['btc', 'eth', 'btc', 'sol', 'eth', 'btc']
  const dict = tryDictionary(values, false)
  assert.deepEqual(dict?.entries, ['btc', 'eth', 'sol'])
  assert.deepEqual([...(dict?.indexes ?? [])], [0, 1, 0, 2, 1, 0])
})

test('mostly unique values, and a numeric -0 (whose sign a dictionary would lose), make none', () => {
  assert.equal(
    tryDictionary(
      Float64Array.from({ length: 1000 }, (_, i) => i * 1.5),
      true,
    ),
    undefined,
  )
  assert.equal(tryDictionary(Float64Array.from([1, 1, 1, -0, 1]), true), undefined)
  assert.equal(tryDictionary([], false), undefined)
})

test('the indices of a page are a bit-width byte then the RLE/bit-packed indices', () => {
  const dict = tryDictionary(
    Array.from({ length: 100 }, (_, i) => `s${i % 5}`),
    false,
  )!
  const bytes = dictionaryIndexes(dict)
  assert.equal(bytes[0], 3) // five entries need three bits
  const decoded = new Int32Array(dict.indexes.length)
  readRleBitPackedHybrid({ ...readerOf(bytes), offset: 1 }, 3, decoded, bytes.length - 1)
  assert.deepEqual(decoded, dict.indexes)
})
