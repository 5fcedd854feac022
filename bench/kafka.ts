/**
 * Kafka ingest, measured so that the producer is not the ceiling being measured:
 * - the broker's own produce and consume rates for the same messages (the client alone, in this
 *   process): the ceiling of anything built on it, measured in the same run;
 * - the processor's own rate: a topic filled beforehand, drained by one `cryptoviz process` into
 *   committed Parquet, with its peak RSS while it runs flat out;
 * - end to end, live: `PRODUCERS` separate producing processes (`bench/kafka-producer.ts`, the
 *   collectors' `KafkaBus.publishQuotes` path) and 1 or 2 `cryptoviz process` children running at
 *   the same time, with the produce → committed delay (p50/p99) and the processors' peak RSS.
 *
 * The broker is the tests' real Apache Kafka (KRaft, one node, from the cached Maven jars).
 * Everything shares this machine's cores, so the live figures are what one machine does with all
 * the roles on it. Each quote's `ts` is its produce time; a poller in this process lists the table
 * every 100 ms, notes when each file is first seen and counts its rows from its stats; once every
 * quote is committed the files' `ts` are read, so a delay is "first seen committed − produced",
 * late by up to one poll, and the measuring costs the measured roles almost no CPU. Peak RSS is the kernel's high-water mark (VmHWM).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Consumer, type CompressionAlgorithmValue } from '@platformatic/kafka'
import { pino } from 'pino'
import { KafkaBus } from '../src/bus/kafka-bus.ts'
import { COMPILE_CACHE_ENV, NATIVE_MEMORY_ENV, nodeFlags, RELAUNCHED_ENV } from '../src/cli/node-flags.ts'
import { SETTINGS } from '../src/config/settings.ts'
import { DeltaTable, type AddFile } from '../src/lake/index.ts'
import { fileStats } from '../src/lake/file-stats.ts'
import { readRows } from '../src/lake/scan.ts'
import type { Quote } from '../src/model/quote.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { CryptovizProcess, type LogLine } from '../test/harness/cryptoviz-process.ts'
import { startKafka, type KafkaServer } from '../test/harness/kafka-server.ts'
import { cpuSeconds, procStatus } from './cryptoviz-child.ts'
import { benchQuotes, inChunks } from './kafka-producer.ts'
import { percentile, round, type BenchContext, type SectionResult } from './report.ts'

const PARTITIONS = 6
/** Quotes of a live run (`bench/run.ts`, `bench/kafka-live.ts`). */
export const LIVE_QUOTES = 1_000_000
/** Producing processes in the live runs. */
const PRODUCERS = 2
const PRODUCER_SCRIPT = new URL('./kafka-producer.ts', import.meta.url).pathname
/** The topics' codec: the product's default (`bus.compression`), as the producers use it. */
const CODEC = SETTINGS.find((s) => s.key === 'bus.compression')!.default as CompressionAlgorithmValue
/** Codecs of the codec table: the default first, then the others worth having (snappy: least CPU, zstd: fewest bytes). */
const CODECS_COMPARED: CompressionAlgorithmValue[] = [...new Set([CODEC, 'lz4', 'snappy', 'zstd'] as const)]

/** The V8 options a `cryptoviz process` runs with (src/cli/node-flags.ts; the image's too). */
export const imageNodeArgs = (): string[] => nodeFlags(0, 'process')

async function brokerRates(
  bootstrap: string,
  sample: Quote[],
): Promise<{ produce: number; consume: number }> {
  const prefix = `bench-raw-${Date.now()}`
  // The collectors' producer (`KafkaBus.publishQuotes`: idempotent, our record batches), alone in
  // this process: the broker's produce rate for these messages from one client.
  const bus = new KafkaBus({
    brokers: [bootstrap],
    topicPrefix: prefix,
    partitions: PARTITIONS,
    replication: 1,
    logger: pino({ level: 'silent' }),
    compression: CODEC,
  })
  await bus.start()
  const topic = bus.quotesTopic
  const t0 = performance.now()
  await inChunks(sample, (chunk) => bus.publishQuotes(chunk))
  const produce = sample.length / ((performance.now() - t0) / 1000)
  await bus.close()
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
    if (++seen >= sample.length) break
  }
  const consume = seen / ((performance.now() - t1) / 1000)
  await stream.close()
  await consumer.close(true)
  return { produce, consume }
}

interface Producers {
  /** Starts every producer at once; resolves with the aggregate rate when all are done. */
  go(): Promise<{ producedPerS: number; cpuSeconds: number }>
  kill(): void
}

/** `count` producing processes, `total` quotes between them, each ready (quotes built, connected). */
async function startProducers(
  bootstrap: string,
  prefix: string,
  total: number,
  count: number,
  codec: CompressionAlgorithmValue = CODEC,
  /** Another tree's `bench/kafka-producer.ts` (its producing side) for A/B comparisons. */
  script = PRODUCER_SCRIPT,
): Promise<Producers> {
  const children: ChildProcess[] = []
  const results: Promise<{ produced: number; seconds: number; cpuSeconds: number }>[] = []
  const ready: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const share = Math.floor(total / count) + (i < total % count ? 1 : 0)
    const child = spawn(process.execPath, [script, bootstrap, prefix, String(share), String(3 + i), codec], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    children.push(child)
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    ready.push(
      lines.next().then((l) => {
        if (l.value !== 'ready') throw new Error(`producer ${i} did not start: ${String(l.value)}`)
      }),
    )
    results.push(
      ready[i]!.then(async () => {
        const l = await lines.next()
        if (l.done) throw new Error(`producer ${i} exited without a result`)
        return JSON.parse(l.value) as { produced: number; seconds: number; cpuSeconds: number }
      }),
    )
  }
  await Promise.all(ready)
  return {
    go: async () => {
      for (const c of children) c.stdin!.write('go\n')
      const done = await Promise.all(results)
      const produced = done.reduce((n, r) => n + r.produced, 0)
      return {
        producedPerS: produced / Math.max(...done.map((r) => r.seconds)),
        cpuSeconds: done.reduce((n, r) => n + r.cpuSeconds, 0),
      }
    },
    kill: () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    },
  }
}

/** `count` processors in one group; `nodeArgs` undefined: Node's defaults. */
function processors(
  bootstrap: string,
  prefix: string,
  warehouse: string,
  count: number,
  nodeArgs: readonly string[] | undefined,
  group = `${prefix}-g`,
  entry?: string,
  env: Readonly<Record<string, string>> = {},
): CryptovizProcess[] {
  return Array.from(
    { length: count },
    () =>
      new CryptovizProcess(
        [
          'process',
          ...['--broker', bootstrap, '--topic-prefix', prefix, '--warehouse', warehouse],
          ...['--group', group, '--port', '0', '--log-level', 'info', '--flush-idle-ms', '250'],
        ],
        // Exactly `nodeArgs`: the relaunch with CryptoViz's own flags is turned off (its compile
        // cache and malloc arenas kept, as the relaunch would set them).
        { NODE_OPTIONS: '', [RELAUNCHED_ENV]: 'bench', ...COMPILE_CACHE_ENV, ...NATIVE_MEMORY_ENV, ...env },
        nodeArgs ?? [],
        entry,
      ),
  )
}

async function stopAll(children: readonly CryptovizProcess[]): Promise<void> {
  for (const c of children) c.child.kill('SIGTERM')
  await Promise.all(children.map((c) => c.exited))
}

const peakRssOf = (children: readonly CryptovizProcess[]): number =>
  Math.max(...children.map((c) => procStatus(c.child.pid!)?.peakRssMb ?? Number.NaN))

const committedRows = (c: CryptovizProcess): number =>
  c.logs
    .filter((l) => l.msg === 'batch committed' && l['table'] === 'quotes')
    .reduce((n, l) => n + Number(l['rows']), 0)

export interface Drain {
  quotesPerS: number
  peakRssMb: number
  /** NaN when not measured. */
  idleRssMb: number
  /** The processor's CPU time per quote from its assignment to its last commit, µs. */
  cpuUs: number
  /** The same for its main (JavaScript) thread alone: the thread that bounds its rate, µs. */
  mainCpuUs: number
  /**
   * CPU per quote of its threads by kind, µs: `MainThread`, `V8Worker` (the garbage collector's
   * helpers and the optimizing compiler), `WorkerThread` (the Parquet encoder), the rest as `other`.
   */
  threadCpuUs: Record<string, number>
  /** Times the processor paused its partitions at the buffer bound, and its quote commits' mean time, ms. */
  pauses: number
  commits: number
  commitMs: number
}

/** CPU seconds of each kind of thread of `pid` (by the thread's name; see `Drain.threadCpuUs`). */
function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))
        const kind = name
        const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
        out.set(kind, (out.get(kind) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100)
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    // The process ended.
  }
  return out
}

/** CPU seconds (user + system) of a process's main thread, from /proc/<pid>/task/<pid>/stat. */
export function mainThreadCpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

interface Filled {
  prefix: string
  /** CPU time per quote of the producing processes and of the broker while they filled the topic, µs. */
  producersCpuUs: number
  brokerCpuUs: number
}

/** Fills a topic with `n` quotes (record batches in `codec`) for `drain`. */
export async function fillTopic(
  kafka: KafkaServer,
  n: number,
  codec: CompressionAlgorithmValue = CODEC,
): Promise<Filled> {
  const prefix = `bench-drain-${codec}-${Date.now()}`
  const producers = await startProducers(kafka.bootstrap, prefix, n, PRODUCERS, codec)
  try {
    const broker0 = cpuSeconds(kafka.pid) ?? Number.NaN
    const produced = await producers.go()
    const broker = (cpuSeconds(kafka.pid) ?? Number.NaN) - broker0
    return { prefix, producersCpuUs: (produced.cpuSeconds * 1e6) / n, brokerCpuUs: (broker * 1e6) / n }
  } finally {
    producers.kill()
  }
}

/**
 * The processor's own rate: `n` quotes already in the topic `prefix`, one `cryptoviz process`
 * (its own group and warehouse) from its partitions' assignment to the commit of the last quote
 * (times from its own log lines). Before it, its idle footprint: the same process on an empty topic.
 */
export async function drain(
  ctx: BenchContext,
  bootstrap: string,
  prefix: string,
  n: number,
  nodeArgs: readonly string[] | undefined,
  measureIdle = true,
  /** Another tree's `src/cli/main.ts` to run instead of this one's (A/B comparisons). */
  entry?: string,
  /** Settings for the processor (`CRYPTOVIZ_*` variables), e.g. other buffer bounds. */
  env: Readonly<Record<string, string>> = {},
): Promise<Drain> {
  const run = `${prefix}-${nodeArgs === undefined ? 'defaults' : 'image'}`
  let idleRssMb = Number.NaN
  if (measureIdle) {
    const [idle] = processors(
      bootstrap,
      `${run}-idle`,
      mkdtempSync(join(ctx.tmp, 'kafka-idle-')),
      1,
      nodeArgs,
    )
    try {
      await idle!.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)
      await new Promise((r) => setTimeout(r, 2_000))
      idleRssMb = procStatus(idle!.child.pid!)?.peakRssMb ?? Number.NaN
    } finally {
      await stopAll([idle!])
    }
  }
  const warehouse = mkdtempSync(join(ctx.tmp, 'kafka-drain-'))
  const children = processors(bootstrap, prefix, warehouse, 1, nodeArgs, `${run}-g-${Date.now()}`, entry, env)
  const [child] = children
  try {
    const assigned = await child!.waitForLog((l) => l.msg.startsWith('partitions assigned'), 60_000)
    const cpu0 = cpuSeconds(child!.child.pid!) ?? Number.NaN
    const main0 = mainThreadCpuSeconds(child!.child.pid!)
    const threads0 = threadCpuSeconds(child!.child.pid!)
    const deadline = Date.now() + 300_000
    while (committedRows(child!) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    if (committedRows(child!) < n) throw new Error(`drain: only ${committedRows(child!)} of ${n} committed`)
    const cpu = (cpuSeconds(child!.child.pid!) ?? Number.NaN) - cpu0
    const mainCpu = mainThreadCpuSeconds(child!.child.pid!) - main0
    const threadCpuUs: Record<string, number> = {}
    for (const [kind, seconds] of threadCpuSeconds(child!.child.pid!))
      threadCpuUs[kind] = ((seconds - (threads0.get(kind) ?? 0)) * 1e6) / n
    const last = child!.logs.filter((l: LogLine) => l.msg === 'batch committed').at(-1)!
    const commits = child!.logs.filter((l: LogLine) => l.msg === 'batch committed' && l['table'] === 'quotes')
    const seconds = (Number(last['time']) - Number(assigned['time'])) / 1000
    return {
      quotesPerS: n / seconds,
      peakRssMb: peakRssOf(children),
      idleRssMb,
      cpuUs: (cpu * 1e6) / n,
      mainCpuUs: (mainCpu * 1e6) / n,
      threadCpuUs,
      pauses: child!.logs.filter((l: LogLine) => l.msg.startsWith('buffer bound reached')).length,
      commits: commits.length,
      commitMs: commits.reduce((t, l) => t + Number(l['ms']), 0) / commits.length,
    }
  } finally {
    await stopAll(children)
  }
}

export interface EndToEnd {
  processors: number
  /** The rate the producing processes got their quotes accepted at, all together. */
  producedPerS: number
  quotesPerS: number
  p50Ms: number
  p99Ms: number
  peakRssMb: number
  /** CPU time per quote, µs, of each side while the run lasted. */
  cpuUs: { producers: number; broker: number; processors: number }
}

export async function endToEnd(
  ctx: BenchContext,
  kafka: KafkaServer,
  count: number,
  n: number,
  nodeArgs: readonly string[],
  /** Another tree's `bench/kafka-producer.ts` for the producers (A/B of the producing side). */
  producerScript = PRODUCER_SCRIPT,
  /** The topic's record-batch codec (the producers'); default the product's. */
  codec: CompressionAlgorithmValue = CODEC,
): Promise<EndToEnd> {
  const bootstrap = kafka.bootstrap
  const prefix = `bench-${count}-${Date.now()}`
  const warehouse = mkdtempSync(join(ctx.tmp, `kafka-${count}-`))
  const children = processors(bootstrap, prefix, warehouse, count, nodeArgs)
  let producers: Producers | undefined
  try {
    await Promise.all(children.map((c) => c.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)))
    // Every member holds its partitions before the clock starts.
    await new Promise((r) => setTimeout(r, 1_500))
    producers = await startProducers(bootstrap, prefix, n, PRODUCERS, codec, producerScript)
    // While the clock runs the poller only lists the table and counts rows from each new file's
    // stats; the files' `ts` are read once the clock has stopped. Reading them as they came
    // (Parquet decoding in this process) cost 1.2–1.9 µs of CPU per quote on the cores the
    // measured roles share.
    let table: DeltaTable | undefined
    const firstSeen = new Map<string, { file: AddFile; at: number }>()
    let committed = 0
    let polling = true
    const poller = (async () => {
      while (polling) {
        table ??= await DeltaTable.open(new LocalStore(join(warehouse, 'quotes'))).catch(() => undefined)
        if (table) {
          const snap = await table.snapshot()
          const at = Date.now()
          for (const f of snap.files()) {
            if (firstSeen.has(f.path)) continue
            firstSeen.set(f.path, { file: f, at })
            committed += fileStats(f)?.numRecords ?? 0
          }
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const cpuOf = (pids: number[]): number => pids.reduce((s, pid) => s + (cpuSeconds(pid) ?? Number.NaN), 0)
    const processorPids = children.map((c) => c.child.pid!)
    const cpu0 = { broker: cpuOf([kafka.pid]), processors: cpuOf(processorPids) }
    const t0 = performance.now()
    const produced = await producers.go()
    const deadline = Date.now() + 300_000
    while (committed < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const seconds = (performance.now() - t0) / 1000
    const perQuote = (s: number): number => (s * 1e6) / n
    const cpuUs = {
      producers: perQuote(produced.cpuSeconds),
      broker: perQuote(cpuOf([kafka.pid]) - cpu0.broker),
      processors: perQuote(cpuOf(processorPids) - cpu0.processors),
    }
    polling = false
    await poller
    const delays: number[] = []
    if (table) {
      const snap = await table.snapshot()
      for (const { file, at } of firstSeen.values()) {
        const rows = await readRows(table.store, snap, { files: [file], columns: ['ts'] })
        for (const r of rows) delays.push(at - Number(r['ts']) / 1000)
      }
    }
    if (committed < n) throw new Error(`only ${committed} of ${n} quotes committed in 300 s`)
    return {
      processors: count,
      producedPerS: produced.producedPerS,
      cpuUs,
      quotesPerS: n / seconds,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      peakRssMb: peakRssOf(children),
    }
  } finally {
    producers?.kill()
    await stopAll(children)
  }
}

export async function kafkaSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const n = ctx.quick ? 60_000 : 300_000
  // The live runs last long enough for a sustained rate: 300k quotes at ~100k/s are 3 s, of which
  // the processes' warm-up (JIT) and the last batch's commit take a third.
  const liveN = ctx.quick ? 60_000 : LIVE_QUOTES
  ctx.log('kafka: starting a broker')
  const kafka = await startKafka()
  try {
    ctx.log(`kafka: broker produce/consume rate with ${n.toLocaleString('en-US')} quotes`)
    const raw = await brokerRates(kafka.bootstrap, benchQuotes(n, 3))
    const image = imageNodeArgs()
    ctx.log('kafka: one processor draining a filled topic, with Node defaults and the image options')
    const filled = await fillTopic(kafka, n)
    const plain = await drain(ctx, kafka.bootstrap, filled.prefix, n, undefined)
    const own = await drain(ctx, kafka.bootstrap, filled.prefix, n, image)
    const runs: EndToEnd[] = []
    for (const count of [1, 2]) {
      ctx.log(`kafka: live, ${PRODUCERS} producers and ${count} processor(s)`)
      runs.push(await endToEnd(ctx, kafka, count, liveN, image))
    }
    const codecs: { codec: CompressionAlgorithmValue; filled: Filled; drained: Drain }[] = []
    for (const codec of CODECS_COMPARED) {
      ctx.log(`kafka: topic filled and drained with ${codec} record batches`)
      const f = codec === CODEC ? filled : await fillTopic(kafka, n, codec)
      const drained = await drain(ctx, kafka.bootstrap, f.prefix, n, image, false)
      codecs.push({ codec, filled: f, drained })
    }
    return {
      section: 'kafka',
      title: 'Kafka ingest',
      seconds: (performance.now() - started) / 1000,
      tables: [
        {
          title: `Kafka ingest: ${n.toLocaleString('en-US')} quotes (live: ${liveN.toLocaleString('en-US')}), produce → committed Parquet (${PARTITIONS} partitions)`,
          columns: [
            'path',
            'produced/s',
            'quotes/s',
            'p50 delay ms',
            'p99 delay ms',
            'processor peak RSS MB',
          ],
          rows: [
            [
              `broker alone: idempotent produce (${CODEC}), one client`,
              round(raw.produce),
              null,
              null,
              null,
              null,
            ],
            ['broker alone: consume from earliest, one client', null, round(raw.consume), null, null, null],
            ...[
              { label: 'Node defaults', d: plain },
              { label: 'image flags', d: own },
            ].map(({ label, d }) => [
              `1 × cryptoviz process draining a filled topic, ${label} (idle ${round(d.idleRssMb)} MB)`,
              null,
              round(d.quotesPerS),
              null,
              null,
              round(d.peakRssMb),
            ]),
            ...runs.map((r) => [
              `live: ${PRODUCERS} producer processes → ${r.processors} × cryptoviz process → Delta (image flags)`,
              round(r.producedPerS),
              round(r.quotesPerS),
              round(r.p50Ms),
              round(r.p99Ms),
              round(r.peakRssMb),
            ]),
          ],
          notes: [
            'One Apache Kafka 4.3.1 broker (KRaft) on this machine, the same as the tests use; broker, producers and processors share its cores.',
            "Broker rows: the same quotes published by the collectors' producer (KafkaBus.publishQuotes), then consumed by the client's consumer, alone in the bench process: the ceiling of one client and the broker.",
            "Draining: the topic is filled first; quotes/s from the processor's partition assignment to its last commit (its own log times): what one processor does when it has a core and a backlog. Idle: the same process on an empty topic.",
            `Live: ${PRODUCERS} producing processes (bench/kafka-producer.ts, the collectors' KafkaBus path: JSON, ${CODEC}, idempotent) and the processors run at once; quotes/s from the first produce until every quote is in committed Parquet, as seen by a poller listing the table every 100 ms. "produced/s": the producers' aggregate accepted rate.`,
            "Delay: first seen committed − the quote's produce time (its `ts`), late by up to one poll.",
            "Peak RSS: the kernel's high-water mark (VmHWM) of the processor process, MB (10^6 bytes).",
            `The image (like every CryptoViz process, src/cli/node-flags.ts) runs \`node ${image.join(' ')} src/cli/main.ts\` (V8 otherwise sizes its young generation from the host's memory and lets the old generation grow up to 4× between full collections); the live runs use the same flags.`,
          ],
        },
        {
          title: 'Kafka ingest, live runs: CPU time per quote on each side',
          columns: [
            'run',
            'producers µs',
            'broker µs',
            'processors µs',
            'total µs',
            'all roles on 2 cores, quotes/s',
          ],
          rows: runs.map((r) => {
            const total = r.cpuUs.producers + r.cpuUs.broker + r.cpuUs.processors
            return [
              `${PRODUCERS} producers → ${r.processors} × cryptoviz process`,
              round(r.cpuUs.producers),
              round(r.cpuUs.broker),
              round(r.cpuUs.processors),
              round(total),
              round((availableParallelism() * 1e6) / total),
            ]
          }),
          notes: [
            'CPU time (user + system, every thread) of each side from the first produce to the last commit, divided by the quotes: producers from their own process.cpuUsage(), broker and processors from /proc/<pid>/stat.',
            `The last column is this machine's ${availableParallelism()} cores divided by the total: the most quotes/s all roles together could reach on it, whatever the processor does.`,
          ],
        },
        {
          title: 'Kafka ingest: record-batch codec, CPU time per quote of each role (fill, then drain)',
          columns: [
            'codec',
            'producers µs',
            'broker µs (produce)',
            'processor µs (drain)',
            'total µs',
            'drain quotes/s',
            'processor peak RSS MB',
          ],
          rows: codecs.map(({ codec, filled: f, drained: d }) => [
            codec === CODEC ? `${codec} (default)` : codec,
            round(f.producersCpuUs),
            round(f.brokerCpuUs),
            round(d.cpuUs),
            round(f.producersCpuUs + f.brokerCpuUs + d.cpuUs),
            round(d.quotesPerS),
            round(d.peakRssMb),
          ]),
          notes: [
            `${PRODUCERS} producer processes fill a topic with the ${n.toLocaleString('en-US')} quotes in record batches of the codec, then one cryptoviz process (image flags) drains it; CPU time (user + system) per quote of each side while it works: producers from process.cpuUsage(), broker and processor from /proc/<pid>/stat.`,
            "The default row drains the first table's topic again (its producer and broker figures are from filling it); the other codecs' topics are filled and drained after it, in the same run.",
          ],
        },
      ],
      metrics: {
        kafka_quotes_per_s: runs[0]?.quotesPerS ?? null,
        kafka_2p_quotes_per_s: runs[1]?.quotesPerS ?? null,
        kafka_drain_quotes_per_s: own.quotesPerS,
        kafka_drain_cpu_us_per_quote: own.cpuUs,
        kafka_drain_peak_rss_mb: own.peakRssMb,
        kafka_idle_rss_mb: own.idleRssMb,
        kafka_drain_defaults_quotes_per_s: plain.quotesPerS,
        kafka_drain_defaults_peak_rss_mb: plain.peakRssMb,
        kafka_idle_defaults_rss_mb: plain.idleRssMb,
        kafka_p50_ms: runs[0]?.p50Ms ?? null,
        kafka_p99_ms: runs[0]?.p99Ms ?? null,
        kafka_peak_rss_mb: runs[0]?.peakRssMb ?? null,
        kafka_cpu_us_per_quote: runs[0]
          ? runs[0].cpuUs.producers + runs[0].cpuUs.broker + runs[0].cpuUs.processors
          : null,
        kafka_processor_cpu_us_per_quote: runs[0]?.cpuUs.processors ?? null,
        broker_produce_per_s: raw.produce,
        broker_consume_per_s: raw.consume,
      },
    }
  } finally {
    await kafka.stop()
  }
}
