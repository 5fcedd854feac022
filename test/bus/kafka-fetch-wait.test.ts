/**
 * A processor's fetch waits for `fetchMinBytes` (up to `fetchMaxWaitMs`), against a real broker:
 * while producers trickle in, it sends far fewer fetches than one answered at the first byte, and
 * still hands over every quote, in order; a live view keeps answering at the first byte. The
 * product's settings default to the bus's own defaults.
 */
import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { test } from 'node:test'
import type { QuoteBatch } from '../../src/bus/bus.ts'
import {
  DEFAULT_FETCH_MAX_WAIT_MS,
  DEFAULT_FETCH_MIN_BYTES,
  fetchMinBytesFor,
  KafkaBus,
} from '../../src/bus/kafka-bus.ts'
import { RAW_FETCH_CHANNEL } from '../../src/bus/raw-fetch.ts'
import { SETTINGS } from '../../src/config/settings.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import {
  kafkaBootstrap,
  quoteId,
  silentLogger,
  simulatedTicks,
  uniquePrefix,
  waitFor,
} from '../harness/kafka.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('the fetch settings default to the bus defaults', () => {
  const defaultOf = (key: string): unknown => SETTINGS.find((s) => s.key === key)?.default
  assert.equal(defaultOf('bus.fetchMinBytes'), DEFAULT_FETCH_MIN_BYTES)
  assert.equal(defaultOf('bus.fetchMaxWaitMs'), DEFAULT_FETCH_MAX_WAIT_MS)
})

test('a fetch never waits for more bytes than half of what one partition may return', () => {
  assert.equal(fetchMinBytesFor(131_072, 524_288), 131_072)
  assert.equal(fetchMinBytesFor(131_072, 65_536), 32_768)
  assert.equal(fetchMinBytesFor(131_072, 4_096), 2_048)
  assert.equal(fetchMinBytesFor(1, 4_096), 1)
})

test('while quotes trickle in, a processor waiting for fetchMinBytes sends far fewer fetches than one answered at the first byte, and gets every quote in order', async (t) => {
  const prefix = uniquePrefix()
  const busWith = (fetchMinBytes: number): KafkaBus =>
    new KafkaBus({
      brokers: [kafkaBootstrap()],
      topicPrefix: prefix,
      partitions: 2,
      replication: 1,
      logger: silentLogger,
      fetchMinBytes,
      fetchMaxWaitMs: 300,
    })
  const eager = busWith(1)
  const waiting = busWith(DEFAULT_FETCH_MIN_BYTES)
  t.after(async () => {
    await eager.close()
    await waiting.close()
  })
  await eager.start()
  // Fetch requests by the minBytes they asked for (the two consumers differ only in that).
  const fetches = new Map<number, number>()
  const onFetch = (message: unknown): void => {
    const min = (message as { minBytes?: number }).minBytes ?? -1
    fetches.set(min, (fetches.get(min) ?? 0) + 1)
  }
  subscribe(RAW_FETCH_CHANNEL, onFetch)
  t.after(() => unsubscribe(RAW_FETCH_CHANNEL, onFetch))

  const received = new Map<number, QuoteBatch[]>([
    [1, []],
    [DEFAULT_FETCH_MIN_BYTES, []],
  ])
  for (const [min, bus] of [
    [1, eager],
    [DEFAULT_FETCH_MIN_BYTES, waiting],
  ] as const) {
    const consumer = await bus.consume(`${prefix}-g${min}`, {
      onQuotes: (b) => void received.get(min)!.push(b),
      onDeadLetters: () => undefined,
      onAssigned: async () => new Map(),
      onRevoked: async () => undefined,
    })
    await waitFor(`consumer ${min} assigned`, () => consumer.assignment().length > 0)
  }
  const before = new Map(fetches)
  // ~3 s of small ticks (a few KB each, far below fetchMinBytes), one every 50 ms.
  const produced: string[] = []
  for (const tick of simulatedTicks(10, 60)) {
    for (const q of tick) produced.push(quoteId(q))
    await eager.publishQuotes(tick)
    await sleep(50)
  }
  const count = (min: number): number => received.get(min)!.reduce((n, b) => n + b.offsets.length, 0)
  await waitFor(
    'both consumers got every quote',
    () => count(1) >= produced.length && count(DEFAULT_FETCH_MIN_BYTES) >= produced.length,
  )
  const sent = (min: number): number => (fetches.get(min) ?? 0) - (before.get(min) ?? 0)
  t.diagnostic(`fetches: ${sent(DEFAULT_FETCH_MIN_BYTES)} waiting, ${sent(1)} at the first byte`)
  assert.ok(
    sent(DEFAULT_FETCH_MIN_BYTES) * 2 < sent(1),
    `waiting consumer sent ${sent(DEFAULT_FETCH_MIN_BYTES)} fetches, eager one ${sent(1)}`,
  )
  for (const batches of received.values()) {
    const seen = batches.flatMap((b) => quotesOf(b.items).map(quoteId))
    assert.deepEqual(new Set(seen), new Set(produced))
    assert.equal(seen.length, produced.length, 'each quote once')
  }
})
