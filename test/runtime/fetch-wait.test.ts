/**
 * A processor's fetch wait (`fetchWaitFor`): the `bus.fetchMaxWaitMs` setting, capped at half of
 * `processor.flushIdleMs` so a trickle between two fetches never looks like idle input.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/config.ts'
import { fetchWaitFor } from '../../src/runtime/bus.ts'

const configWith = (flags: Record<string, string>) => loadConfig({ flags, env: {} })

test('the fetch wait is the setting when the idle flush is more than twice as long', () => {
  assert.equal(fetchWaitFor(configWith({})), 250)
  assert.equal(fetchWaitFor(configWith({ 'fetch-max-wait-ms': '700', 'flush-idle-ms': '5000' })), 700)
})

test('the fetch wait never exceeds half of the idle flush', () => {
  assert.equal(fetchWaitFor(configWith({ 'flush-idle-ms': '250' })), 125)
  assert.equal(fetchWaitFor(configWith({ 'fetch-max-wait-ms': '5000', 'flush-idle-ms': '2000' })), 1000)
  assert.equal(fetchWaitFor(configWith({ 'flush-idle-ms': '1' })), 1)
})
