import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js'
import { ByteWriter } from 'hyparquet-writer'
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js'
import { deltaBinaryPackedInt64 } from '../../../src/lake/parquet/delta-binary-packed.ts'
import { mulberry32 } from '../../../src/sources/mulberry32.ts'
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

test('the double path writes exactly the bytes of hyparquet-writer’s BigInt path, on timestamps, edges and random values', () => {
  const random = mulberry32(52)
  const bigIntBytes = (values: Float64Array): Uint8Array => {
    const out = new ByteWriter(64)
    deltaBinaryPack(
      out,
      BigInt64Array.from(values, (v) => BigInt(v)),
      'INT64',
    )
    return out.getBytes()
  }
  const T = 1_700_000_000_000_000
  const cases: Float64Array[] = [
    new Float64Array(0),
    Float64Array.from([T]),
    Float64Array.from([T, T]),
    Float64Array.from([0, 2 ** 52]),
    Float64Array.from([0, 2 ** 52, 0, 2 ** 52, 2 ** 51, 1]),
    Float64Array.from([-(2 ** 52), 0]),
    Float64Array.from([2 ** 52, -(2 ** 52) + 2 ** 51, 5]),
    Float64Array.from([2 ** 32 - 1, 0, 2 ** 32, 1, 2 ** 33 + 7, 3]),
    Float64Array.from({ length: 1000 }, (_, i) => T + i * 60_000_000),
  ]
  for (const n of [2, 31, 32, 33, 127, 128, 129, 130, 255, 256, 257, 1_000, 5_000]) {
    const sorted = Float64Array.from({ length: n }, () => T + Math.floor(random() * 86_400_000_000)).sort()
    cases.push(sorted)
    cases.push(Float64Array.from({ length: n }, () => Math.floor((random() - 0.5) * 2 ** 53)))
    cases.push(Float64Array.from({ length: n }, () => Math.floor(random() * 2 ** Math.floor(random() * 53))))
    cases.push(Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? T : T + 1)))
  }
  for (const values of cases) {
    assert.deepEqual(
      deltaBinaryPackedInt64(values),
      bigIntBytes(values),
      `${values.length} values from ${values[0]}`,
    )
  }
  // Out of the double path's range (±2^52, range ≤ 2^52): the BigInt path, still the same bytes.
  const wide = Float64Array.from([-(2 ** 53) + 1, 2 ** 53 - 1, 0])
  assert.deepEqual(deltaBinaryPackedInt64(wide), bigIntBytes(wide))
})
