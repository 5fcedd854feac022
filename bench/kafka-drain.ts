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
 *
 * `--live`: instead of draining a filled topic, each run gives the processor a fresh topic while
 * 2 producer processes (`bench/kafka-producer.ts`, as the Kafka section's live rows) publish
 * `--quotes` into it at their full rate on the same cores: the rows are the processor's CPU per
 * quote live, the produce → committed delay (p50/p99, from the committed files' `ts`, late by up
 * to one 100 ms poll), the rate and the peak RSS, per build, interleaved the same way.
 * `--live-rate Q` (with `--live`): this process publishes instead, `Q` quotes/s in small publishes
 * every 50 ms (as collectors trickle quotes in), through `KafkaBus.publishQuotes`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { pino } from 'pino'
import { KafkaBus } from '../src/bus/kafka-bus.ts'
import { COMPILE_CACHE_ENV, NATIVE_MEMORY_ENV, RELAUNCHED_ENV } from '../src/cli/node-flags.ts'
import { DeltaTable, type AddFile } from '../src/lake/index.ts'
import { readRows } from '../src/lake/scan.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { CryptovizProcess, type LogLine } from '../test/harness/cryptoviz-process.ts'
import { startKafka } from '../test/harness/kafka-server.ts'
import { cpuSeconds, procStatus } from './cryptoviz-child.ts'
import { drain, fillTopic, imageNodeArgs, mainThreadCpuSeconds, type Drain } from './kafka.ts'
import { benchQuotes } from './kafka-producer.ts'
import { percentile } from './report.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    codecs: { type: 'string', default: 'lz4,zstd' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'against-env': { type: 'string', multiple: true, default: [] },
    live: { type: 'boolean', default: false },
    'live-rate': { type: 'string' },
  },
})
const n = Number(values.quotes)
const rounds = Number(values.rounds)
const codecs = values.codecs.split(',') as CompressionAlgorithmValue[]
/**
 * `KEY=VALUE` arguments as an environment, over the native-memory environment the product's
 * relaunch gives every process (`MALLOC_ARENA_MAX=2`; the bench turns the relaunch off, so it
 * sets it here: without it a drain peaked ~10 MB higher, docs/benchmarks.md follow-up 2026-12-01).
 */
const envOf = (pairs: readonly string[]): Record<string, string> => ({
  ...NATIVE_MEMORY_ENV,
  ...Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=')
      if (at <= 0) throw new Error(`--env ${p}: expected KEY=VALUE`)
      return [p.slice(0, at), p.slice(at + 1)]
    }),
  ),
})
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

/** Producing processes in a live run (as the Kafka section's live rows). */
const LIVE_PRODUCERS = 2
const PRODUCER_SCRIPT = new URL('./kafka-producer.ts', import.meta.url).pathname
/** `--live-rate`: one publish per this many ms. */
const TRICKLE_TICK_MS = 50

interface Live {
  quotesPerS: number
  cpuUs: number
  mainCpuUs: number
  p50Ms: number
  p99Ms: number
  peakRssMb: number
  /** Quote commits the run took (flushes on rows, bytes, idle input or the interval). */
  commits: number
}

/**
 * One processor of `build` on a fresh topic while `LIVE_PRODUCERS` processes publish `n` quotes
 * into it; measured from the producers' start signal until every quote is committed.
 */
async function live(
  bootstrap: string,
  codec: CompressionAlgorithmValue,
  build: (typeof builds)[number],
): Promise<Live> {
  const prefix = `bench-live-${codec}-${Date.now()}`
  const warehouse = mkdtempSync(join(tmp, 'kafka-live-'))
  const child = new CryptovizProcess(
    [
      'process',
      ...['--broker', bootstrap, '--topic-prefix', prefix, '--warehouse', warehouse],
      ...['--group', `${prefix}-g`, '--port', '0', '--log-level', 'info', '--flush-idle-ms', '250'],
    ],
    { NODE_OPTIONS: '', [RELAUNCHED_ENV]: 'bench', ...COMPILE_CACHE_ENV, ...build.env },
    build.nodeArgs,
    build.entry,
  )
  const producers: ReturnType<typeof spawn>[] = []
  const trickle = values['live-rate'] === undefined ? undefined : Number(values['live-rate'])
  const publisher =
    trickle === undefined
      ? undefined
      : new KafkaBus({
          brokers: [bootstrap],
          topicPrefix: prefix,
          partitions: 6,
          replication: 1,
          logger: pino({ level: 'silent' }),
          compression: codec,
        })
  try {
    await child.waitForLog((l) => l.msg.startsWith('partitions assigned'), 60_000)
    await publisher?.start()
    const results: Promise<unknown>[] = []
    for (let i = 0; trickle === undefined && i < LIVE_PRODUCERS; i++) {
      const share = Math.floor(n / LIVE_PRODUCERS) + (i < n % LIVE_PRODUCERS ? 1 : 0)
      const p = spawn(
        process.execPath,
        [PRODUCER_SCRIPT, bootstrap, prefix, String(share), String(3 + i), codec],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      )
      producers.push(p)
      const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]()
      const ready = await lines.next()
      if (ready.value !== 'ready') throw new Error(`producer ${i} did not start: ${String(ready.value)}`)
      results.push(lines.next())
    }
    if (publisher !== undefined && trickle !== undefined) {
      const sample = benchQuotes(n, 3)
      const perTick = Math.max(1, Math.round((trickle * TRICKLE_TICK_MS) / 1000))
      results.push(
        (async () => {
          let next = performance.now()
          for (let i = 0; i < sample.length; i += perTick) {
            const chunk = sample.slice(i, i + perTick)
            const now = Date.now() * 1000
            for (let k = 0; k < chunk.length; k++) chunk[k]!.ts = now + k
            await publisher.publishQuotes(chunk)
            next += TRICKLE_TICK_MS
            await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())))
          }
        })(),
      )
    }
    const pid = child.child.pid!
    const committedRows = (): number =>
      child.logs
        .filter((l: LogLine) => l.msg === 'batch committed' && l['table'] === 'quotes')
        .reduce((k, l) => k + Number(l['rows']), 0)
    const delays: number[] = []
    const seen = new Set<string>()
    let table: DeltaTable | undefined
    let polling = true
    const poller = (async () => {
      while (polling) {
        table ??= await DeltaTable.open(new LocalStore(join(warehouse, 'quotes'))).catch(() => undefined)
        if (table) {
          const fresh: AddFile[] = (await table.snapshot()).files().filter((f) => !seen.has(f.path))
          const at = Date.now()
          if (fresh.length > 0) {
            for (const f of fresh) seen.add(f.path)
            const rows = await readRows(table.store, await table.snapshot(), {
              files: fresh,
              columns: ['ts'],
            })
            for (const r of rows) delays.push(at - Number(r['ts']) / 1000)
          }
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const cpu0 = cpuSeconds(pid) ?? Number.NaN
    const main0 = mainThreadCpuSeconds(pid)
    const t0 = performance.now()
    for (const p of producers) p.stdin!.write('go\n')
    await Promise.all(results)
    const deadline = Date.now() + 300_000
    while ((committedRows() < n || delays.length < n) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    const seconds = (performance.now() - t0) / 1000
    const cpu = (cpuSeconds(pid) ?? Number.NaN) - cpu0
    const mainCpu = mainThreadCpuSeconds(pid) - main0
    polling = false
    await poller
    if (committedRows() < n) throw new Error(`live: only ${committedRows()} of ${n} committed`)
    return {
      quotesPerS: n / seconds,
      cpuUs: (cpu * 1e6) / n,
      mainCpuUs: (mainCpu * 1e6) / n,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      peakRssMb: procStatus(pid)?.peakRssMb ?? Number.NaN,
      commits: child.logs.filter((l: LogLine) => l.msg === 'batch committed' && l['table'] === 'quotes')
        .length,
    }
  } finally {
    for (const p of producers) if (p.exitCode === null) p.kill('SIGKILL')
    await publisher?.close()
    child.child.kill('SIGTERM')
    await child.exited
  }
}
const tmp = mkdtempSync(join(tmpdir(), 'kafka-drain-'))
const ctx = { quick: false, tmp, log: (m: string) => process.stderr.write(`${m}\n`) }
const kafka = await startKafka()
const rows: { codec: string; build: string; load: number; d: Drain }[] = []
const liveRows: { codec: string; build: string; load: number; l: Live }[] = []
try {
  for (const codec of values.live ? codecs : []) {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? builds : [...builds].reverse()
      for (const b of order) {
        const load = load1()
        const l = await live(kafka.bootstrap, codec, b)
        ctx.log(
          `live ${codec} ${b.name}: ${Math.round(l.quotesPerS)} quotes/s, ${l.cpuUs.toFixed(2)} µs/quote, main thread ${l.mainCpuUs.toFixed(2)}, p50 ${Math.round(l.p50Ms)} ms, p99 ${Math.round(l.p99Ms)} ms, ${Math.round(l.peakRssMb)} MB`,
        )
        liveRows.push({ codec, build: b.name, load, l })
      }
    }
  }
  for (const codec of values.live ? [] : codecs) {
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
if (values.live) {
  console.log(
    `\n**One processor live, ${values['live-rate'] === undefined ? `${LIVE_PRODUCERS} producer processes publishing` : `${values['live-rate']} quotes/s trickling in, in all`} ${n.toLocaleString('en-US')} quotes (image flags)**\n`,
  )
  console.log(
    '| codec | build | load 1m | quotes/s | processor CPU µs/quote | main thread µs/quote | p50 ms | p99 ms | peak RSS MB | commits |',
  )
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  const line = (codec: string, build: string, load: string, l: Live): void =>
    console.log(
      `| ${codec} | ${build} | ${load} | ${fmt(l.quotesPerS)} | ${fmt(l.cpuUs, 2)} | ${fmt(l.mainCpuUs, 2)} | ${fmt(l.p50Ms)} | ${fmt(l.p99Ms)} | ${fmt(l.peakRssMb)} | ${fmt(l.commits, 1)} |`,
    )
  for (const r of liveRows) line(r.codec, r.build, fmt(r.load, 2), r.l)
  for (const codec of codecs)
    for (const b of builds) {
      const mine = liveRows.filter((r) => r.codec === codec && r.build === b.name).map((r) => r.l)
      const mean = (f: (l: Live) => number): number => mine.reduce((s, l) => s + f(l), 0) / mine.length
      line(codec, `**${b.name} mean of ${mine.length}**`, '', {
        quotesPerS: mean((l) => l.quotesPerS),
        cpuUs: mean((l) => l.cpuUs),
        mainCpuUs: mean((l) => l.mainCpuUs),
        p50Ms: mean((l) => l.p50Ms),
        p99Ms: mean((l) => l.p99Ms),
        peakRssMb: Math.max(...mine.map((l) => l.peakRssMb)),
        commits: mean((l) => l.commits),
      })
    }
  process.exit(0)
}
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
