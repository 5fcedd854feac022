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
  assert.equal(timeParam.safeParse('').success, false)
})

test('only times whose microseconds a number holds exactly are accepted', () => {
  assert.equal(timeParam.safeParse('1969-12-31T23:59:59Z').success, false)
  assert.equal(timeParam.safeParse('2256-01-01').success, false)
  assert.equal(timeParam.safeParse('99999999999999').success, false, 'more than 13 digits of milliseconds')
  assert.equal(timeParam.safeParse('2255-06-04').success, true)
  assert.equal(timeParam.parse('1970-01-01'), 0)
})

test('asOf is a version number or a time', () => {
  assert.deepEqual(asOfParam.parse('12'), { version: 12 })
  assert.deepEqual(asOfParam.parse('2024-01-02T00:00:00Z'), { timestamp: Date.UTC(2024, 0, 2) })
  assert.equal(asOfParam.safeParse('1234567890123456').success, false, 'a version beyond 15 digits')
  assert.equal(asOfParam.safeParse('-1').success, false)
})
