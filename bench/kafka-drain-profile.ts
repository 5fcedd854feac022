/**
 * One processor draining a filled topic under the CPU profiler: where its main thread's time
 * goes, by function (self time), for the Kafka section's ingest work.
 *
 *   node bench/kafka-drain-profile.ts [--quotes 300000] [--codec lz4] [--top 40]
 *
 * Profiles every thread (main, encoder worker) under a temporary folder and prints each one's top
 * functions by self time.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { startKafka } from '../test/harness/kafka-server.ts'
import { drain, fillTopic, imageNodeArgs } from './kafka.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    codec: { type: 'string', default: 'lz4' },
    top: { type: 'string', default: '40' },
  },
})
const n = Number(values.quotes)
const tmp = mkdtempSync(join(tmpdir(), 'kafka-drain-profile-'))
const profiles = join(tmp, 'profiles')
const ctx = { quick: false, tmp, log: (m: string) => process.stderr.write(`${m}\n`) }
const kafka = await startKafka()
try {
  const filled = await fillTopic(kafka, n, values.codec as CompressionAlgorithmValue)
  const nodeArgs = [...imageNodeArgs(), '--cpu-prof', `--cpu-prof-dir=${profiles}`]
  const d = await drain(ctx, kafka.bootstrap, filled.prefix, n, nodeArgs, false)
  ctx.log(`${Math.round(d.quotesPerS)} quotes/s, main thread ${d.mainCpuUs.toFixed(2)} µs/quote (profiled)`)
  await new Promise((r) => setTimeout(r, 1_000))
  // One profile per thread: the main thread's, then the encoder worker's.
  const files = readdirSync(profiles)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
      samples: number[]
      timeDeltas: number[]
    }
    const byId = new Map(profile.nodes.map((node) => [node.id, node]))
    const self = new Map<string, number>()
    let total = 0
    profile.samples.forEach((id, i) => {
      const f = byId.get(id)!.callFrame
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
      self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i]!)
      total += profile.timeDeltas[i]!
    })
    console.log(`\n**${file}** (${(total / 1e6).toFixed(1)} s sampled)\n`)
    console.log('| self % | function |\n|---:|---|')
    for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
      console.log(`| ${((us / total) * 100).toFixed(1)} | ${key} |`)
  }
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}
