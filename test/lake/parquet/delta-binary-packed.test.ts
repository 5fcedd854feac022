import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js'
import { deltaBinaryPackedInt64 } from '../../../src/lake/parquet/delta-binary-packed.ts'
import { readerOf } from './reader.ts'

test('timestamps one minute apart pack into far fewer than eight bytes each and round-trip', () => {
  const start = 1_700_000_000_000_000
  const values = Float64Array.from({ length: 1000 }, (_, i) => start + i * 60_000_000)
  const bytes = deltaBinaryPackedInt64(values)
  assert.ok(bytes.length < values.length, `${bytes.length} bytes for ${values.length} values`)
  const decoded = new BigInt64Array(values.length)
  deltaBinaryUnpack(readerOf(bytes), values.length, decoded)
  assert.deepEqual([...decoded].map(Number), [...values])
})

test('unsorted and negative values round-trip too', () => {
  const values = Float64Array.from([5, -3, 2 ** 52, 0, -(2 ** 40), 7])
  const decoded = new BigInt64Array(values.length)
  deltaBinaryUnpack(readerOf(deltaBinaryPackedInt64(values)), values.length, decoded)
  assert.deepEqual([...decoded].map(Number), [...values])
})
