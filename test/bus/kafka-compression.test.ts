/**
 * Against a real Kafka broker: the bus compresses the record batches it produces with the codec it
 * is given (`bus.compression`), and a consumer reads back every codec, whatever it produces itself.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compressionsAlgorithms, Consumer, type CompressionAlgorithmValue } from '@platformatic/kafka'
import { KafkaBus } from '../../src/bus/kafka-bus.ts'
import { quotesOf } from '../../src/model/quote-chunk.ts'
import type { Quote } from '../../src/model/quote.ts'
import {
  kafkaBootstrap,
  quoteId,
  silentLogger,
  simulatedTicks,
  uniquePrefix,
  waitFor,
} from '../harness/kafka.ts'

const CODEC_BITS = 0b111

/** The codec bits of every record batch in partition 0 of `topic`, read from the broker as stored. */
async function batchCodecs(topic: string): Promise<number[]> {
  const consumer = new Consumer({
    clientId: 'codec-check',
    groupId: `codec-check-${topic}`,
    bootstrapBrokers: [kafkaBootstrap()],
  })
  try {
    const metadata = await consumer.metadata({ topics: [topic] })
    const t = metadata.topics.get(topic)!
    const response = await consumer.fetch({
      node: t.partitions[0]!.leader,
      topics: [
        {
          topicId: t.id,
          partitions: [
            {
              partition: 0,
              fetchOffset: 0n,
              partitionMaxBytes: 1_048_576,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1_048_576,
    })
    return (response.responses[0]?.partitions[0]?.records ?? []).map((b) => b.attributes & CODEC_BITS)
  } finally {
    await consumer.close(true)
  }
}

for (const codec of ['snappy', 'zstd', 'lz4', 'gzip', 'none'] as CompressionAlgorithmValue[]) {
  test(`batches produced with ${codec} carry its codec and are read back whole`, async () => {
    const prefix = uniquePrefix()
    const bus = new KafkaBus({
      brokers: [kafkaBootstrap()],
      topicPrefix: prefix,
      partitions: 1,
      replication: 1,
      logger: silentLogger,
      compression: codec,
    })
    await bus.start()
    const sent: Quote[] = [...simulatedTicks(50, 40)].flat()
    await bus.publishQuotes(sent)
    const codecs = await batchCodecs(bus.quotesTopic)
    assert.ok(codecs.length > 0, 'batches stored')
    assert.deepEqual(new Set(codecs), new Set([compressionsAlgorithms[codec].bitmask]))

    const received: Quote[] = []
    const consumer = await bus.consume(`${prefix}-g`, {
      onQuotes: (b) => received.push(...quotesOf(b.items)),
      onDeadLetters: () => assert.fail('no dead letter expected'),
      onAssigned: async () => new Map(),
      onRevoked: async () => undefined,
    })
    await waitFor('every quote read back', () => received.length >= sent.length, 60_000)
    await consumer.close()
    await bus.close()
    assert.deepEqual(received.map(quoteId), sent.map(quoteId))
    assert.deepEqual(received, sent)
  })
}
