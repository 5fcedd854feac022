import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { KafkaBus } from '../../src/bus/kafka-bus.ts'
import { kafkaBootstrap, simulatedTicks, uniquePrefix, waitFor } from '../harness/kafka.ts'

test('a batch the broker refuses for good is logged once per attempt at error level, /health degraded, and the send ends with the bus', async () => {
  const lines: Array<{ level: number; msg: string }> = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string })
      done()
    },
  })
  const bus = new KafkaBus({
    brokers: [kafkaBootstrap()],
    topicPrefix: uniquePrefix(),
    partitions: 1,
    replication: 1,
    logger: pino({ level: 'info' }, sink),
  })
  await bus.start()
  const [quotes] = simulatedTicks(1, 1)
  // Over the broker's message.max.bytes (1 MiB by default) even compressed: refused, not retriable.
  const huge = { ...quotes![0]!, name: randomBytes(3_000_000).toString('base64') }
  const sent = bus.publishQuotes([huge])
  sent.catch(() => undefined)
  try {
    await waitFor('two refused attempts', () => lines.filter((l) => l.level === 50).length >= 2, 30_000)
    assert.equal(bus.health().status, 'degraded')
  } finally {
    await bus.close()
  }
  await assert.rejects(sent)
  const refused = lines.filter((l) => l.msg.startsWith('the broker refused a batch'))
  assert.ok(refused.length >= 2)
  assert.ok(refused.every((l) => l.level === 50))
  // Not also reported as a transient failure being retried.
  assert.deepEqual(
    lines.filter((l) => l.msg === 'broker produce failed; retrying'),
    [],
  )
})
