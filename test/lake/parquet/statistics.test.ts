import { test } from 'node:test'
import assert from 'node:assert/strict'
import { minMax } from '../../../src/lake/parquet/statistics.ts'

test('min and max of numbers, NaN ignored', () => {
  assert.deepEqual(minMax('double', Float64Array.from([3, NaN, -2, 10])), { min: -2, max: 10 })
  assert.deepEqual(minMax('double', Float64Array.from([NaN])), {})
})

test('a range touching zero has min -0 and max +0, as Parquet orders them', () => {
  const r = minMax('double', Float64Array.from([0, 0]))
  assert.ok(Object.is(r.min, -0) && Object.is(r.max, 0))
})

test('float bounds are the stored (rounded) values', () => {
  assert.deepEqual(minMax('float', Float64Array.from([0.1, 0.2])), {
    min: Math.fround(0.1),
    max: Math.fround(0.2),
  })
})

test('strings, booleans and empty chunks get no bounds', () => {
  assert.deepEqual(minMax('string', ['a', 'b']), {})
  assert.deepEqual(minMax('boolean', [true]), {})
  assert.deepEqual(minMax('int64', new Float64Array(0)), {})
})
