/**
 * A producing process for the Kafka benchmark (`bench/kafka.ts`), so that the producer is not
 * the bench process itself: `node bench/kafka-producer.ts BOOTSTRAP PREFIX COUNT SEED [CODEC]`
 * (CODEC: the topics' record-batch compression, default the bus's).
 *
 * It builds a sample of quotes (`SAMPLE_QUOTES`, sent over and over) and connects first, prints `ready`, waits for a line on stdin (the start
 * signal, so every producer starts together), then publishes through `KafkaBus.publishQuotes`
 * (the collectors' path: JSON encoding, the bus's codec, idempotent producer), `CHUNK` quotes per call with
 * `IN_FLIGHT` calls outstanding, each quote's `ts` stamped with its produce time. It ends by
 * printing `{"produced": n, "seconds": s, "cpuSeconds": c, "window": [from, to]}` (c: its CPU time while
 * producing; from, to: the producing window on the monotonic clock in µs, the CPU profiler's, so a
 * profile can be cut to it).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { allowedCompressionsAlgorithms, type CompressionAlgorithmValue } from '@platformatic/kafka'
import { KafkaBus } from '../src/bus/kafka-bus.ts'
import type { Quote } from '../src/model/quote.ts'
import { MarketSimulator } from '../src/sources/simulated.ts'

const CHUNK = 5_000
const IN_FLIGHT = 4
/**
 * Distinct quotes a producer builds beforehand and sends over and over (stamped anew each time).
 * A collector holds a tick's quotes, not the run's: a sample of every quote to send (300k quote
 * objects, ~100 MB) sat in the producer's old generation and every major GC marked it, ~2 µs of
 * V8 worker-thread CPU per quote that was the bench's own. Twice the quotes in flight, so no quote
 * object is in two chunks being sent at once.
 */
const SAMPLE_QUOTES = 2 * CHUNK * IN_FLIGHT

/** CPU seconds (user + system) of this process's threads by name (Linux; empty elsewhere). */
function threadCpuSeconds(): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100)
    }
  } catch {
    // Not Linux, or a thread ended during the listing: no split.
  }
  return out
}

/** `n` simulated quotes over 200 assets; `ts` is overwritten at produce time. */
export function benchQuotes(n: number, seed: number): Quote[] {
  const start = Date.UTC(2024, 0, 1) * 1000
  const sim = new MarketSimulator({ assets: 200, seed, startTs: start })
  const out: Quote[] = []
  for (let i = 0; out.length < n; i++) out.push(...sim.tick(start + i * 1_000_000))
  return out.slice(0, n)
}

/** Sends `items` in chunks, `IN_FLIGHT` chunks at a time; `send` stamps and publishes a chunk. */
export async function inChunks<T>(
  items: readonly T[],
  send: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  await inFlight(cycled(items, items.length), send)
}

/** `total` items in chunks of `CHUNK`, taken from `sample` in turn, over again when it runs out. */
export function* cycled<T>(sample: readonly T[], total: number): Generator<T[]> {
  for (let sent = 0; sent < total;) {
    const chunk: T[] = []
    while (chunk.length < CHUNK && sent < total) chunk.push(sample[sent++ % sample.length]!)
    yield chunk
  }
}

/** Sends `chunks`, `IN_FLIGHT` at a time. */
async function inFlight<T>(chunks: Iterable<T[]>, send: (chunk: T[]) => Promise<unknown>): Promise<void> {
  let flight: Promise<unknown>[] = []
  for (const chunk of chunks) {
    flight.push(send(chunk))
    if (flight.length >= IN_FLIGHT) {
      await Promise.all(flight)
      flight = []
    }
  }
  await Promise.all(flight)
}

async function main(): Promise<void> {
  const [bootstrap, prefix, count, seed, codec] = process.argv.slice(2)
  if (bootstrap === undefined || prefix === undefined || count === undefined || seed === undefined) {
    throw new Error('usage: node bench/kafka-producer.ts BOOTSTRAP PREFIX COUNT SEED [CODEC]')
  }
  const codecs: readonly string[] = allowedCompressionsAlgorithms
  if (codec !== undefined && !codecs.includes(codec)) {
    throw new Error(`CODEC must be one of ${codecs.join(', ')}`)
  }
  const total = Number(count)
  const sample = benchQuotes(Math.min(total, SAMPLE_QUOTES), Number(seed))
  const bus = new KafkaBus({
    brokers: [bootstrap],
    topicPrefix: prefix,
    partitions: 6,
    replication: 1,
    logger: pino({ level: 'silent' }),
    ...(codec !== undefined && { compression: codec as CompressionAlgorithmValue }),
  })
  await bus.start()
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  process.stdout.write('ready\n')
  await lines.next()
  const t0 = performance.now()
  const window0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpuSeconds()
  let stamp = 0
  await inFlight(cycled(sample, total), (chunk) => {
    const now = Date.now() * 1000
    // Stamped in place: each quote is sent once, and a copy per quote would be the bench's own
    // cost counted as the producer's.
    for (const q of chunk) q.ts = now + (stamp++ % 1000)
    return bus.publishQuotes(chunk)
  })
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const threads: Record<string, number> = {}
  for (const [name, seconds] of threadCpuSeconds()) threads[name] = seconds - (threads0.get(name) ?? 0)
  const window1 = process.hrtime.bigint()
  await bus.close()
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  process.stdout.write(
    `${JSON.stringify({ produced: total, seconds, cpuSeconds, userSeconds: cpu.user / 1e6, threads, window: [String(window0 / 1000n), String(window1 / 1000n)] })}\n`,
  )
  process.exit(0)
}

if (import.meta.main) await main()
