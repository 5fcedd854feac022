/**
 * One processor draining a filled topic with V8's GC trace: how many young- and old-generation
 * collections the drain costs, their pause time, and what a scavenge keeps alive, for comparing
 * V8 flags and allocation changes in the Kafka section.
 *
 *   node bench/kafka-drain-gc.ts [--quotes 300000] [--codec lz4] [--flags="--v8-pool-size=1 …"] [--tree DIR]
 *                                [--env KEY=VALUE]… [--gc-reasons]
 *
 * (`--tree`: another checkout's root to run instead of this one, as kafka-drain.ts's `--against`;
 * `--env`: processor settings, `CRYPTOVIZ_*` variables.)
 * Runs `cryptoviz process` with the image's flags for the `process` role plus `--flags` and
 * `--trace-gc`, until every quote is committed, then prints counts and times per kind of GC, and
 * where the resident set peaked: RSS sampled every 10 ms, with the log lines (commits, pauses)
 * and GC trace lines around the highest sample, to tell what was alive at that moment.
 * `--gc-reasons`: also what started each collection; with `--flags=--trace-incremental-marking`
 * why each old-generation marking started, with `--flags=--trace-gc-nvp` the bytes scavenges
 * promoted to the old generation.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { COMPILE_CACHE_ENV, NATIVE_MEMORY_ENV, RELAUNCHED_ENV } from '../src/cli/node-flags.ts'
import { startKafka } from '../test/harness/kafka-server.ts'
import { fillTopic, imageNodeArgs } from './kafka.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    codec: { type: 'string', default: 'lz4' },
    flags: { type: 'string', default: '' },
    tree: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'gc-reasons': { type: 'boolean', default: false },
  },
})
/** The product's native-memory environment (its relaunch sets it; the bench's children skip the relaunch), then `--env`. */
const settingsEnv: Record<string, string> = {
  ...NATIVE_MEMORY_ENV,
  ...Object.fromEntries(
    values.env.map((p) => {
      const at = p.indexOf('=')
      if (at <= 0) throw new Error(`--env ${p}: expected KEY=VALUE`)
      return [p.slice(0, at), p.slice(at + 1)]
    }),
  ),
}
/** Resident set now, MB (10^6 bytes), from /proc; NaN once the process has gone. */
const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? (Number(m[1]) * 1024) / 1e6 : Number.NaN
  } catch {
    return Number.NaN
  }
}
const n = Number(values.quotes)
const tmp = mkdtempSync(join(tmpdir(), 'kafka-drain-gc-'))
const kafka = await startKafka()
try {
  const filled = await fillTopic(kafka, n, values.codec as CompressionAlgorithmValue)
  const extra = values.flags.split(' ').filter((f) => f !== '')
  const child = spawn(
    process.execPath,
    [
      ...imageNodeArgs(),
      ...extra,
      '--trace-gc',
      resolve(values.tree ?? resolve(import.meta.dirname, '..'), 'src/cli/main.ts'),
      'process',
      ...['--broker', kafka.bootstrap, '--topic-prefix', filled.prefix, '--warehouse', join(tmp, 'wh')],
      ...['--group', `${filled.prefix}-gc`, '--port', '0', '--log-level', 'info', '--flush-idle-ms', '250'],
    ],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        [RELAUNCHED_ENV]: 'bench',
        ...COMPILE_CACHE_ENV,
        ...settingsEnv,
      },
    },
  )
  const t0 = performance.now()
  /** Every sample, log line and GC line, stamped with ms since the start. */
  const timeline: Array<{ ms: number; rss?: number; line?: string }> = []
  const sampler = setInterval(() => timeline.push({ ms: performance.now() - t0, rss: rssMb(child.pid!) }), 10)
  /** The process's own view of its memory (/stats: RSS, V8 heap, external = array buffers + native), every 50 ms. */
  let statsPoller: NodeJS.Timeout | undefined
  const pollStats = (url: string): void => {
    statsPoller = setInterval(() => {
      fetch(`${url}/stats`)
        .then((r) => r.json() as Promise<{ memory_mb?: unknown }>)
        .then((j) =>
          timeline.push({ ms: performance.now() - t0, line: `/stats ${JSON.stringify(j.memory_mb)}` }),
        )
        .catch(() => undefined)
    }, 50)
  }
  const gc: string[] = []
  let committed = 0
  let buffered = ''
  const done = new Promise<void>((resolveDone) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (committed < n) timeline.push({ ms: performance.now() - t0, line: line.slice(0, 200) })
        if (line.startsWith('{')) {
          const l = JSON.parse(line) as { msg: string; table?: string; rows?: number; url?: string }
          if (l.msg === 'CryptoViz is running' && l.url !== undefined) pollStats(l.url)
          if (l.msg === 'batch committed' && l.table === 'quotes') committed += l.rows ?? 0
          if (committed >= n) resolveDone()
        } else if (committed < n) gc.push(line)
      }
    })
  })
  await done
  clearInterval(sampler)
  clearInterval(statsPoller)
  child.kill('SIGTERM')
  // Lines start with `[pid:isolate]`: the first isolate is the main thread's, others the workers'.
  const isolates: string[] = []
  const kinds = new Map<string, { count: number; ms: number; fromMb: number; toMb: number }>()
  for (const line of gc) {
    const m =
      /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Minor Mark-Compact)\S* ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, pooled: [\d.]+ MB, ([\d.]+) \//.exec(
        line,
      )
    if (!m) continue
    if (!isolates.includes(m[1]!)) isolates.push(m[1]!)
    const key = `${isolates.indexOf(m[1]!) === 0 ? 'main' : 'worker'} ${m[2]}`
    const k = kinds.get(key) ?? { count: 0, ms: 0, fromMb: 0, toMb: 0 }
    k.count++
    k.ms += Number(m[5])
    k.fromMb += Number(m[3])
    k.toMb += Number(m[4])
    kinds.set(key, k)
  }
  console.log(`flags: ${extra.join(' ') || '(image flags)'}; ${gc.length} trace lines`)
  console.log('| thread, GC | count | pause ms | mean heap before → after MB |\n|---|---:|---:|---:|')
  for (const [kind, k] of kinds)
    console.log(
      `| ${kind} | ${k.count} | ${k.ms.toFixed(0)} | ${(k.fromMb / k.count).toFixed(1)} → ${(k.toMb / k.count).toFixed(1)} |`,
    )
  if (values['gc-reasons']) {
    // What started each collection (the end of a trace line: allocation failure, external memory
    // pressure, finalize incremental marking…), by thread kind and GC.
    const reasons = new Map<string, number>()
    for (const line of gc) {
      // With --flags=--trace-incremental-marking: why each old-generation marking started.
      const start = /\[IncrementalMarking\] Start \(([^)]*)\)/.exec(line)
      if (start !== null)
        reasons.set(`marking start: ${start[1]}`, (reasons.get(`marking start: ${start[1]}`) ?? 0) + 1)
      const m = /(Scavenge|Mark-Compact)\b.*\(average mu = [0-9.]+, current mu = [0-9.]+\) (.*?);?\s*$/.exec(
        line,
      )
      if (m === null) continue
      const key = `${m[1]}: ${m[2]}`
      reasons.set(key, (reasons.get(key) ?? 0) + 1)
    }
    for (const line of gc)
      if (line.includes('[IncrementalMarking] Start (')) console.log(line.replace(/^.*?ms: /, '  '))
    // With --flags=--trace-gc-nvp: bytes each young collection promoted to the old generation.
    // (Both isolates together: nvp lines do not say which isolate they are from.)
    let promoted = 0
    for (const line of gc) promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0)
    if (promoted > 0) console.log(`promoted by scavenges: ${(promoted / 1_048_576).toFixed(1)} MB`)
    console.log('\n| GC: reason | count |\n|---|---:|')
    for (const [key, count] of reasons) console.log(`| ${key} | ${count} |`)
  }
  const samples = timeline.filter((t) => t.rss !== undefined && Number.isFinite(t.rss))
  const peak = samples.reduce((a, b) => (b.rss! > a.rss! ? b : a), samples[0]!)
  console.log(`\nhighest RSS sample: ${peak.rss!.toFixed(0)} MB at ${peak.ms.toFixed(0)} ms; around it:`)
  let lastRss = 0
  for (const t of timeline) {
    // The whole run's log lines and RSS steps; GC lines only near the peak.
    const near = t.ms >= peak.ms - 600 && t.ms <= peak.ms + 200
    if (t.line !== undefined) {
      if (near || t.line.startsWith('{') || t.line.startsWith('/stats'))
        console.log(`  ${t.ms.toFixed(0).padStart(6)} ms  ${t.line}`)
    } else if (Math.abs(t.rss! - lastRss) >= (near ? 5 : 20) || t === peak) {
      console.log(
        `  ${t.ms.toFixed(0).padStart(6)} ms  RSS ${t.rss!.toFixed(0)} MB${t === peak ? '  <- peak' : ''}`,
      )
      lastRss = t.rss!
    }
  }
  await new Promise((r) => child.on('exit', r))
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}
