import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { pino } from 'pino'
import { isPretty, prettyDestination, prettyLine } from '../../src/cli/log-lines.ts'

test('a pino record becomes a readable line: time, level, component, message, then fields', () => {
  const time = Date.UTC(2026, 0, 2, 3, 4, 5)
  const line = prettyLine(
    JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: 'h',
      component: 'processor',
      version: 5,
      note: 'a b',
      msg: 'batch committed',
    }),
  )
  assert.equal(line, '03:04:05 INFO  processor batch committed  version=5 note="a b"')
  assert.equal(prettyLine('not json'), 'not json')
  const err = prettyLine(
    JSON.stringify({
      level: 50,
      time,
      msg: 'failed',
      err: { message: 'boom', stack: 'Error: boom\n    at x' },
    }),
  )
  assert.match(err, /^03:04:05 ERROR failed\n {2}Error: boom/)
})

test('auto is pretty on a terminal and JSON when piped; the destination writes whole lines', async () => {
  assert.equal(isPretty('auto', true), true)
  assert.equal(isPretty('auto', false), false)
  assert.equal(isPretty('json', true), false)
  assert.equal(isPretty('pretty', false), true)
  const out = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => (text += c.toString()))
  const logger = pino({ level: 'info' }, prettyDestination(out, false))
  logger.warn({ source: 'coingecko' }, 'source poll failed')
  logger.info('second')
  await new Promise((r) => setImmediate(r))
  const lines = text.trimEnd().split('\n')
  assert.equal(lines.length, 2)
  assert.match(lines[0]!, /^\d{2}:\d{2}:\d{2} WARN {2}source poll failed {2}source=coingecko$/)
  assert.match(lines[1]!, /INFO {2}second$/)
})
