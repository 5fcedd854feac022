/**
 * Kafka ingest: end-to-end quotes/s from produce to committed Parquet with 1 and 2 `cryptoviz
 * process` children, the produce → committed delay (p50/p99), the processors' peak RSS, and beside
 * them the broker's own produce and consume rates measured in the same run (the ceiling).
 *
 * The broker is the tests' real Apache Kafka (KRaft, one node, from the cached Maven jars). Each
 * quote's `ts` is its produce time; a poller in this process lists the table every 100 ms and
 * reads the `ts` of each newly committed file, so a delay is "first seen committed − produced",
 * late by up to one poll.
 */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { Consumer, Producer } from '@platformatic/kafka'
import { pino } from 'pino'
import { KafkaBus } from '../src/bus/kafka-bus.ts'
import { encodeQuote, quoteKey } from '../src/bus/quote-message.ts'
import { DeltaTable, type AddFile } from '../src/lake/index.ts'
import { readRows } from '../src/lake/scan.ts'
import type { Quote } from '../src/model/quote.ts'
import { MarketSimulator } from '../src/sources/simulated.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { CryptovizProcess } from '../test/harness/cryptoviz-process.ts'
import { startKafka } from '../test/harness/kafka-server.ts'
import { procStatus } from './cryptoviz-child.ts'
import { percentile, round, type BenchContext, type SectionResult } from './report.ts'

const PARTITIONS = 6
const CHUNK = 5_000
const IN_FLIGHT = 4
const silent = pino({ level: 'silent' })

/** `n` simulated quotes over 200 assets; `ts` is overwritten at produce time. */
function quotes(n: number): Quote[] {
  const sim = new MarketSimulator({ assets: 200, seed: 3, startTs: Date.UTC(2024, 0, 1) * 1000 })
  const out: Quote[] = []
  for (let i = 0; out.length < n; i++) out.push(...sim.tick(Date.UTC(2024, 0, 1) * 1000 + i * 1_000_000))
  return out.slice(0, n)
}

/** Sends `items` in chunks, `IN_FLIGHT` chunks at a time; `send` stamps and publishes a chunk. */
async function inChunks<T>(items: readonly T[], send: (chunk: T[]) => Promise<unknown>): Promise<void> {
  let flight: Promise<unknown>[] = []
  for (let i = 0; i < items.length; i += CHUNK) {
    flight.push(send(items.slice(i, i + CHUNK)))
    if (flight.length >= IN_FLIGHT) {
      await Promise.all(flight)
      flight = []
    }
  }
  await Promise.all(flight)
}

async function brokerRates(
  bootstrap: string,
  sample: Quote[],
): Promise<{ produce: number; consume: number }> {
  const topic = `bench-raw-${Date.now()}`
  const admin = new (await import('@platformatic/kafka')).Admin({
    clientId: 'bench-admin',
    bootstrapBrokers: [bootstrap],
  })
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })
  await admin.close()
  const messages = sample.map((q) => ({ topic, key: Buffer.from(quoteKey(q)), value: encodeQuote(q) }))
  const producer = new Producer({
    clientId: 'bench-raw',
    bootstrapBrokers: [bootstrap],
    idempotent: true,
    compression: 'lz4',
  })
  const t0 = performance.now()
  await inChunks(messages, (chunk) => producer.send({ messages: chunk }))
  const produce = messages.length / ((performance.now() - t0) / 1000)
  await producer.close()
  const consumer = new Consumer({
    clientId: 'bench-raw-c',
    groupId: `bench-raw-${Date.now()}`,
    bootstrapBrokers: [bootstrap],
  })
  const t1 = performance.now()
  const stream = await consumer.consume({
    topics: [topic],
    mode: 'earliest',
    autocommit: false,
    maxBytesPerPartition: 1_048_576,
  })
  let seen = 0
  for await (const message of stream) {
    void message
    if (++seen >= messages.length) break
  }
  const consume = seen / ((performance.now() - t1) / 1000)
  await stream.close()
  await consumer.close(true)
  return { produce, consume }
}

interface EndToEnd {
  processors: number
  /** The rate the producer (KafkaBus in this process) sent at: the input side's own ceiling. */
  producedPerS: number
  quotesPerS: number
  p50Ms: number
  p99Ms: number
  peakRssMb: number
}

async function endToEnd(
  ctx: BenchContext,
  bootstrap: string,
  processors: number,
  sample: Quote[],
): Promise<EndToEnd> {
  const prefix = `bench-${processors}-${Date.now()}`
  const warehouse = mkdtempSync(join(ctx.tmp, `kafka-${processors}-`))
  const bus = new KafkaBus({
    brokers: [bootstrap],
    topicPrefix: prefix,
    partitions: PARTITIONS,
    replication: 1,
    logger: silent,
  })
  await bus.start()
  const children = Array.from(
    { length: processors },
    () =>
      new CryptovizProcess([
        'process',
        ...[
          '--broker',
          bootstrap,
          '--topic-prefix',
          prefix,
          '--warehouse',
          warehouse,
          '--group',
          `${prefix}-g`,
        ],
        ...['--port', '0', '--log-level', 'info', '--flush-idle-ms', '250'],
      ]),
  )
  try {
    await Promise.all(children.map((c) => c.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)))
    // Both members hold their partitions before the clock starts.
    await new Promise((r) => setTimeout(r, 1_500))
    const delays: number[] = []
    let table: DeltaTable | undefined
    const seen = new Set<string>()
    let committed = 0
    let polling = true
    const poller = (async () => {
      while (polling) {
        table ??= await DeltaTable.open(new LocalStore(join(warehouse, 'quotes'))).catch(() => undefined)
        if (table) {
          const snap = await table.snapshot()
          const fresh: AddFile[] = snap.files().filter((f) => !seen.has(f.path))
          const at = Date.now()
          if (fresh.length > 0) {
            for (const f of fresh) seen.add(f.path)
            const rows = await readRows(table.store, snap, { files: fresh, columns: ['ts'] })
            for (const r of rows) delays.push(at - Number(r['ts']) / 1000)
            committed += rows.length
          }
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const t0 = performance.now()
    let stamp = 0
    await inChunks(sample, (chunk) => {
      const now = Date.now() * 1000
      return bus.publishQuotes(chunk.map((q) => ({ ...q, ts: now + (stamp++ % 1000) })))
    })
    const producedPerS = sample.length / ((performance.now() - t0) / 1000)
    const deadline = Date.now() + 300_000
    while (committed < sample.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const seconds = (performance.now() - t0) / 1000
    polling = false
    await poller
    if (committed < sample.length)
      throw new Error(`only ${committed} of ${sample.length} quotes committed in 300 s`)
    const peak = Math.max(...children.map((c) => procStatus(c.child.pid!)?.peakRssMb ?? Number.NaN))
    return {
      processors,
      producedPerS,
      quotesPerS: sample.length / seconds,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      peakRssMb: peak,
    }
  } finally {
    for (const c of children) c.child.kill('SIGTERM')
    await Promise.all(children.map((c) => c.exited))
    await bus.close()
  }
}

export async function kafkaSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const n = ctx.quick ? 60_000 : 300_000
  ctx.log('kafka: starting a broker')
  const kafka = await startKafka()
  try {
    const sample = quotes(n)
    ctx.log(`kafka: broker produce/consume rate with ${n.toLocaleString('en-US')} quotes`)
    const raw = await brokerRates(kafka.bootstrap, sample)
    const runs: EndToEnd[] = []
    for (const processors of [1, 2]) {
      ctx.log(`kafka: end to end with ${processors} processor(s)`)
      runs.push(await endToEnd(ctx, kafka.bootstrap, processors, sample))
    }
    return {
      section: 'kafka',
      title: 'Kafka ingest',
      seconds: (performance.now() - started) / 1000,
      tables: [
        {
          title: `Kafka ingest: ${n.toLocaleString('en-US')} quotes, produce → committed Parquet (${PARTITIONS} partitions)`,
          columns: [
            'path',
            'produced/s',
            'quotes/s',
            'p50 delay ms',
            'p99 delay ms',
            'processor peak RSS MB',
          ],
          rows: [
            ['broker alone: idempotent produce (lz4)', null, round(raw.produce), null, null, null],
            ['broker alone: consume from earliest', null, round(raw.consume), null, null, null],
            ...runs.map((r) => [
              `CryptoViz: KafkaBus → ${r.processors} × cryptoviz process → Delta`,
              round(r.producedPerS),
              round(r.quotesPerS),
              round(r.p50Ms),
              round(r.p99Ms),
              round(r.peakRssMb),
            ]),
          ],
          notes: [
            'One Apache Kafka 4.3.1 broker (KRaft) on this machine, the same as the tests use; producer and processors share its 2 cores.',
            'End to end: from the first produce until every quote is in committed Parquet, as seen by a poller listing the table every 100 ms. "produced/s": how fast the KafkaBus producer in the bench process got the same quotes accepted (JSON encoding included).',
            "Delay: first seen committed − the quote's produce time (its `ts`), late by up to one poll.",
            'The broker rows are the ceiling: the same messages, produced and consumed by the client alone.',
          ],
        },
      ],
      metrics: {
        kafka_quotes_per_s: runs[0]?.quotesPerS ?? null,
        kafka_2p_quotes_per_s: runs[1]?.quotesPerS ?? null,
        kafka_p50_ms: runs[0]?.p50Ms ?? null,
        kafka_p99_ms: runs[0]?.p99Ms ?? null,
        kafka_peak_rss_mb: runs[0]?.peakRssMb ?? null,
        broker_produce_per_s: raw.produce,
        broker_consume_per_s: raw.consume,
      },
    }
  } finally {
    await kafka.stop()
  }
}
