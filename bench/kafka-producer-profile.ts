/**
 * The producing side of the Kafka section measured alone: one broker, `bench/kafka-producer.ts`
 * processes publishing through `KafkaBus.publishQuotes` (no processor), with each producer's and
 * the broker's CPU time per quote, and optionally the first producer under the CPU profiler
 * (its top functions by self time).
 *
 *   node bench/kafka-producer-profile.ts [--quotes 300000] [--producers 2] [--rounds 1] [--profile] [--top 40]
 *     [--node-args="--max-semi-space-size=32"]   (options for the producers' node)
 *     [--codecs lz4,snappy]   (record-batch codecs, each run in turn; default the bus's)
 *     [--base /path/to/other/tree]   (A/B: also run that tree's bench/kafka-producer.ts, interleaved)
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { startKafka } from '../test/harness/kafka-server.ts'
import { cpuSeconds } from './cryptoviz-child.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    producers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '40' },
    base: { type: 'string' },
    /** Record-batch codecs to compare (comma-separated), each run in turn; default the bus's. */
    codecs: { type: 'string' },
    /** Options for the producers' `node` (space-separated), e.g. V8 flags. */
    'node-args': { type: 'string', default: '' },
  },
})
const n = Number(values.quotes)
const count = Number(values.producers)
const tmp = mkdtempSync(join(tmpdir(), 'kafka-producer-profile-'))
const profiles = join(tmp, 'profiles')
const OWN_SCRIPT = new URL('./kafka-producer.ts', import.meta.url).pathname

interface Result {
  produced: number
  seconds: number
  cpuSeconds: number
  userSeconds?: number
  threads?: Record<string, number>
  /** The producing window, µs on the monotonic clock. */
  window?: [string, string]
}

/** The profiled producer's producing window, to cut its profile to it. */
let profiledWindow: [number, number] | undefined

/** Runs `count` producers of `script` (the first profiled when asked); rate and CPU per quote. */
async function run(
  bootstrap: string,
  brokerPid: number,
  script: string,
  profile: boolean,
  codec: string | undefined,
): Promise<{ perS: number; producerUs: number; brokerUs: number }> {
  const prefix = `bench-producer-${Date.now()}`
  const children = Array.from({ length: count }, (_, i) => {
    const share = Math.floor(n / count) + (i < n % count ? 1 : 0)
    const nodeArgs = [
      ...values['node-args'].split(' ').filter((a) => a !== ''),
      ...(profile && i === 0 ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []),
    ]
    return spawn(
      process.execPath,
      [
        ...nodeArgs,
        script,
        bootstrap,
        prefix,
        String(share),
        String(3 + i),
        ...(codec === undefined ? [] : [codec]),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    )
  })
  try {
    const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]())
    for (const l of lines) if ((await l.next()).value !== 'ready') throw new Error('a producer did not start')
    const broker0 = cpuSeconds(brokerPid) ?? Number.NaN
    for (const c of children) c.stdin!.write('go\n')
    const done: Result[] = await Promise.all(
      lines.map(async (l) => JSON.parse(String((await l.next()).value)) as Result),
    )
    const broker = (cpuSeconds(brokerPid) ?? Number.NaN) - broker0
    if (profile && done[0]!.window) profiledWindow = [Number(done[0]!.window[0]), Number(done[0]!.window[1])]
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(0)))),
    )
    const produced = done.reduce((s, r) => s + r.produced, 0)
    const split = new Map<string, number>()
    for (const r of done)
      for (const [k, v] of Object.entries(r.threads ?? {})) split.set(k, (split.get(k) ?? 0) + v)
    const user = done.reduce((s, r) => s + (r.userSeconds ?? Number.NaN), 0)
    process.stderr.write(
      `producers' CPU µs/quote by thread: ${[...split].map(([k, v]) => `${k} ${((v * 1e6) / produced).toFixed(2)}`).join(', ')}; user ${((user * 1e6) / produced).toFixed(2)}\n`,
    )
    return {
      perS: produced / Math.max(...done.map((r) => r.seconds)),
      producerUs: (done.reduce((s, r) => s + r.cpuSeconds, 0) * 1e6) / produced,
      brokerUs: (broker * 1e6) / produced,
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  }
}

function printProfiles(): void {
  for (const file of readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
      startTime: number
      samples: number[]
      timeDeltas: number[]
    }
    const [from, to] = profiledWindow ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
    let at = profile.startTime
    const byId = new Map(profile.nodes.map((node) => [node.id, node]))
    const self = new Map<string, number>()
    let total = 0
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i]!
      if (at < from || at > to) return
      const f = byId.get(id)!.callFrame
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
      self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i]!)
      total += profile.timeDeltas[i]!
    })
    console.log(`\n**${file}** (${(total / 1e6).toFixed(1)} s sampled while producing)\n`)
    console.log('| self % | function |\n|---:|---|')
    for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
      console.log(`| ${((us / total) * 100).toFixed(1)} | ${key} |`)
  }
}

const kafka = await startKafka()
try {
  const trees =
    values.base === undefined
      ? [['this', OWN_SCRIPT]]
      : [
          ['base', join(values.base, 'bench/kafka-producer.ts')],
          ['this', OWN_SCRIPT],
        ]
  const codecs = values.codecs?.split(',') ?? [undefined]
  console.log(
    '| round | tree | codec | load | produced/s | producers µs/quote | broker µs/quote |\n|---|---|---|---:|---:|---:|---:|',
  )
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [name, script] of trees) {
      for (const codec of codecs) {
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
        const profiled = values.profile && round === 1 && name === 'this' && codec === codecs[0]
        const r = await run(kafka.bootstrap, kafka.pid, script!, profiled, codec)
        console.log(
          `| ${round} | ${name} | ${codec ?? 'default'} | ${load} | ${Math.round(r.perS)} | ${r.producerUs.toFixed(2)} | ${r.brokerUs.toFixed(2)} |`,
        )
      }
    }
  }
  if (values.profile) printProfiles()
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}
