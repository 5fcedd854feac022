import { test } from 'node:test'
import assert from 'node:assert/strict'
import { asOfParam, timeParam } from '../../src/server/params.ts'

test('times accept dates, date-times with offsets, microseconds and epoch milliseconds', () => {
  assert.equal(timeParam.parse('2024-01-02'), Date.UTC(2024, 0, 2) * 1000)
  assert.equal(timeParam.parse('2024-01-02T03:04:05Z'), Date.UTC(2024, 0, 2, 3, 4, 5) * 1000)
  assert.equal(
    timeParam.parse('2024-01-02T03:04:05.123456Z'),
    Date.UTC(2024, 0, 2, 3, 4, 5, 123) * 1000 + 456,
  )
  assert.equal(timeParam.parse('2024-01-02T05:04:05+02:00'), Date.UTC(2024, 0, 2, 3, 4, 5) * 1000)
  assert.equal(timeParam.parse('1700000000000'), 1_700_000_000_000_000)
})

test('a malformed time is refused', () => {
  assert.equal(timeParam.safeParse('yesterday').success, false)
  assert.equal(timeParam.safeParse('2024-13-45').success, false)
})

test('asOf is a version number or a time', () => {
  assert.deepEqual(asOfParam.parse('12'), { version: 12 })
  assert.deepEqual(asOfParam.parse('2024-01-02T00:00:00Z'), { timestamp: Date.UTC(2024, 0, 2) })
})
