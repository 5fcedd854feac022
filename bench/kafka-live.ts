/**
 * The Kafka section's live rows alone, A/B: 2 producer processes (`bench/kafka-producer.ts`, the
 * collectors' `KafkaBus.publishQuotes` path) and 1 or 2 `cryptoviz process` children (image
 * flags) on one broker, produce → committed Parquet, for comparing two producing sides in the
 * same period on a shared machine.
 *
 *   node bench/kafka-live.ts [--quotes 1000000] [--processors 1,2] [--rounds 3] [--against DIR]
 *     [--codecs lz4,snappy,zstd]   (the topic's record-batch codecs, each run in turn; default the product's)
 *
 * Each round runs every processor count with this tree's producers, then (with `--against`,
 * another checkout's root, e.g. `git archive <commit> | tar -x -C DIR` with a `node_modules`
 * link) the same with that tree's producers; the processors are this tree's in both, so the
 * difference is the producing side's. One row per run: end-to-end quotes/s, the producers'
 * accepted rate, p50/p99 delay, processor peak RSS, and CPU µs per quote of producers, broker and
 * processors, with the 1-minute load average before the run; then each build's means.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { startKafka } from '../test/harness/kafka-server.ts'
import { endToEnd, imageNodeArgs, LIVE_QUOTES, type EndToEnd } from './kafka.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: String(LIVE_QUOTES) },
    processors: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
    /** Record-batch codecs of the topic (comma-separated), each run in turn; default the product's. */
    codecs: { type: 'string' },
  },
})
const n = Number(values.quotes)
const counts = values.processors.split(',').map(Number)
const codecs = (values.codecs?.split(',') ?? [undefined]) as (CompressionAlgorithmValue | undefined)[]
const trees: { name: string; script: string }[] = [
  { name: 'this', script: new URL('./kafka-producer.ts', import.meta.url).pathname },
  ...(values.against === undefined
    ? []
    : [{ name: 'against', script: join(resolve(values.against), 'bench/kafka-producer.ts') }]),
]
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!
const tmp = mkdtempSync(join(tmpdir(), 'kafka-live-'))
const ctx = { quick: false, tmp, log: (m: string) => process.stderr.write(`${m}\n`) }
const results = new Map<string, EndToEnd[]>()
const f = (v: number, digits = 0): string => v.toFixed(digits)

const kafka = await startKafka()
try {
  console.log(
    `${n.toLocaleString('en-US')} quotes, 2 producer processes, ${availableParallelism()} cores\n\n` +
      '| round | producers | codec | processors | load | quotes/s | produced/s | p50 ms | p99 ms | peak RSS MB | producers µs | broker µs | processors µs | total µs |\n' +
      '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  )
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const tree of trees) {
      for (const codec of codecs) {
        for (const count of counts) {
          const before = load()
          const r = await endToEnd(ctx, kafka, count, n, imageNodeArgs(), tree.script, codec)
          const key = `${tree.name} ${codec ?? 'default'} ${count}`
          results.set(key, [...(results.get(key) ?? []), r])
          const total = r.cpuUs.producers + r.cpuUs.broker + r.cpuUs.processors
          console.log(
            `| ${round} | ${tree.name} | ${codec ?? 'default'} | ${count} | ${before} | ${f(r.quotesPerS)} | ${f(r.producedPerS)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.peakRssMb)} | ${f(r.cpuUs.producers, 2)} | ${f(r.cpuUs.broker, 2)} | ${f(r.cpuUs.processors, 2)} | ${f(total, 2)} |`,
          )
        }
      }
    }
  }
  console.log(
    '\n| producers | codec | processors | mean quotes/s | mean producers µs | mean broker µs | mean processors µs | mean total µs |',
  )
  console.log('|---|---|---:|---:|---:|---:|---:|---:|')
  const mean = (rs: EndToEnd[], v: (r: EndToEnd) => number): number =>
    rs.reduce((s, r) => s + v(r), 0) / rs.length
  for (const [key, rs] of results) {
    const [tree, codec, count] = key.split(' ')
    console.log(
      `| ${tree} | ${codec} | ${count} | ${f(mean(rs, (r) => r.quotesPerS))} | ${f(
        mean(rs, (r) => r.cpuUs.producers),
        2,
      )} | ${f(
        mean(rs, (r) => r.cpuUs.broker),
        2,
      )} | ${f(
        mean(rs, (r) => r.cpuUs.processors),
        2,
      )} | ${f(
        mean(rs, (r) => r.cpuUs.producers + r.cpuUs.broker + r.cpuUs.processors),
        2,
      )} |`,
    )
  }
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}
