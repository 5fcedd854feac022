/**
 * One processor draining a filled topic, A/B: the quick, repeatable form of the Kafka section's
 * drain rows, for comparing two builds in the same period on a shared machine.
 *
 *   node bench/kafka-drain.ts [--quotes 300000] [--codecs lz4,zstd] [--rounds 3] [--against DIR]
 *                             [--env KEY=VALUE]… [--against-env KEY=VALUE]…
 *
 * Each codec's topic is filled once (2 producer processes), then drained `--rounds` times by one
 * `cryptoviz process` with the image's V8 flags, alternating this tree and `--against` (another
 * checkout's root, e.g. `git archive <commit> | tar -x -C DIR` with a `node_modules` link), so
 * both see the same load, each with its own V8 flags for the `process` role. Prints one row per drain (quotes/s, processor CPU µs per quote, the main
 * thread's CPU µs per quote (the thread that bounds the rate; less sensitive to load), peak RSS)
 * and each build's mean, with the 1-minute load average before each drain.
 * `--env` / `--against-env` give one build's processor settings (`CRYPTOVIZ_*` variables, e.g.
 * `CRYPTOVIZ_MAX_BUFFER_ROWS=200000`), so two settings can be compared on one tree
 * (`--against .`). `--quotes 1000000` measures a longer drain, where startup and the last
 * commit's tail weigh less.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { startKafka } from '../test/harness/kafka-server.ts'
import { drain, fillTopic, imageNodeArgs, type Drain } from './kafka.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    codecs: { type: 'string', default: 'lz4,zstd' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'against-env': { type: 'string', multiple: true, default: [] },
  },
})
const n = Number(values.quotes)
const rounds = Number(values.rounds)
const codecs = values.codecs.split(',') as CompressionAlgorithmValue[]
/** `KEY=VALUE` arguments as an environment. */
const envOf = (pairs: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=')
      if (at <= 0) throw new Error(`--env ${p}: expected KEY=VALUE`)
      return [p.slice(0, at), p.slice(at + 1)]
    }),
  )
/** Each build runs with its own V8 flags for the `process` role (its src/cli/node-flags.ts). */
const builds: { name: string; entry: string | undefined; nodeArgs: string[]; env: Record<string, string> }[] =
  [{ name: 'this tree', entry: undefined, nodeArgs: imageNodeArgs(), env: envOf(values.env) }]
if (values.against) {
  const flags = (await import(resolve(values.against, 'src/cli/node-flags.ts'))) as {
    nodeFlags: (memoryLimitMb: number, command?: string) => string[]
  }
  builds.push({
    name: values.against,
    entry: resolve(values.against, 'src/cli/main.ts'),
    nodeArgs: flags.nodeFlags(0, 'process'),
    env: envOf(values['against-env']),
  })
}

const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
const tmp = mkdtempSync(join(tmpdir(), 'kafka-drain-'))
const ctx = { quick: false, tmp, log: (m: string) => process.stderr.write(`${m}\n`) }
const kafka = await startKafka()
const rows: { codec: string; build: string; load: number; d: Drain }[] = []
try {
  for (const codec of codecs) {
    ctx.log(`filling a topic with ${n} quotes in ${codec} record batches`)
    const filled = await fillTopic(kafka, n, codec)
    for (let r = 0; r < rounds; r++) {
      // Alternate which build goes first, so neither always follows the fill.
      const order = r % 2 === 0 ? builds : [...builds].reverse()
      for (const b of order) {
        const load = load1()
        const d = await drain(ctx, kafka.bootstrap, filled.prefix, n, b.nodeArgs, false, b.entry, b.env)
        ctx.log(
          `${codec} ${b.name}: ${Math.round(d.quotesPerS)} quotes/s, ${d.cpuUs.toFixed(2)} µs/quote, main thread ${d.mainCpuUs.toFixed(2)} µs/quote, threads ${JSON.stringify(d.threadCpuUs)}, ${d.pauses} pauses, ${d.commits} commits of ${Math.round(d.commitMs)} ms`,
        )
        rows.push({ codec, build: b.name, load, d })
      }
    }
  }
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}

const fmt = (x: number, digits = 0): string => x.toFixed(digits)
console.log(`\n**One processor draining ${n.toLocaleString('en-US')} quotes (image flags)**\n`)
console.log(
  '| codec | build | load 1m | quotes/s | processor CPU µs/quote | main thread µs/quote | GC + compiler threads µs/quote | encoder thread µs/quote | peak RSS MB |',
)
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|')
const gcUs = (d: Drain): number => d.threadCpuUs['V8Worker'] ?? 0
const encoderUs = (d: Drain): number => d.threadCpuUs['WorkerThread'] ?? 0
for (const r of rows)
  console.log(
    `| ${r.codec} | ${r.build} | ${fmt(r.load, 2)} | ${fmt(r.d.quotesPerS)} | ${fmt(r.d.cpuUs, 2)} | ${fmt(r.d.mainCpuUs, 2)} | ${fmt(gcUs(r.d), 2)} | ${fmt(encoderUs(r.d), 2)} | ${fmt(r.d.peakRssMb)} |`,
  )
for (const codec of codecs)
  for (const b of builds) {
    const mine = rows.filter((r) => r.codec === codec && r.build === b.name).map((r) => r.d)
    const mean = (f: (d: Drain) => number): number => mine.reduce((s, d) => s + f(d), 0) / mine.length
    console.log(
      `| ${codec} | **${b.name} mean of ${mine.length}** | | ${fmt(mean((d) => d.quotesPerS))} | ${fmt(
        mean((d) => d.cpuUs),
        2,
      )} | ${fmt(
        mean((d) => d.mainCpuUs),
        2,
      )} | ${fmt(mean(gcUs), 2)} | ${fmt(mean(encoderUs), 2)} | ${fmt(Math.max(...mine.map((d) => d.peakRssMb)))} |`,
    )
  }
