import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatSseEvent } from '../../src/server/sse-connection.ts'
import { parseSseBlock } from './sse-client.ts'

test('an event is written as id, event and one data line per line of data', () => {
  assert.equal(
    formatSseEvent({ id: 7, event: 'quote', data: '{"a":1}' }),
    'id: 7\nevent: quote\ndata: {"a":1}\n\n',
  )
  assert.equal(formatSseEvent({ data: 'one\ntwo\r\nthree' }), 'data: one\ndata: two\ndata: three\n\n')
  const parsed = parseSseBlock(formatSseEvent({ id: 'x', event: 'e', data: 'a\nb' }).trimEnd())
  assert.deepEqual(parsed.event, { id: 'x', event: 'e', data: 'a\nb' })
})

test('an event name or id with a line break is refused, so data cannot forge fields', () => {
  assert.throws(() => formatSseEvent({ event: 'quote\ndata: forged', data: '' }), /line break/)
  assert.throws(() => formatSseEvent({ id: '1\r\nevent: reset', data: '' }), /line break/)
  assert.throws(() => formatSseEvent({ id: '1\u0000', data: '' }), /line break/)
})
