import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultPartitioner } from '@platformatic/kafka'
import { memoizedPartitioner } from '../../src/bus/kafka-bus.ts'

test('the remembered partitioner sends every key where the client default does, first time and again', () => {
  const remembered = memoizedPartitioner()
  const keys = Array.from({ length: 3_000 }, (_, i) => `source-${i % 7}:asset-${i}`)
  for (const round of [1, 2]) {
    for (const key of keys) {
      const message = { topic: 't', key, value: Buffer.from('{}') }
      const expected = defaultPartitioner(message as never, Buffer.from(key))
      assert.equal(remembered(message as never, Buffer.from(key)), expected, `${key}, round ${round}`)
    }
  }
})
