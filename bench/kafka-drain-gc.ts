/**
 * One processor draining a filled topic with V8's GC trace: how many young- and old-generation
 * collections the drain costs, their pause time, and what a scavenge keeps alive, for comparing
 * V8 flags and allocation changes in the Kafka section.
 *
 *   node bench/kafka-drain-gc.ts [--quotes 300000] [--codec lz4] [--flags "--v8-pool-size=1 …"]
 *
 * Runs `cryptoviz process` with the image's flags for the `process` role plus `--flags` and
 * `--trace-gc`, until every quote is committed, then prints counts and times per kind of GC.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CompressionAlgorithmValue } from '@platformatic/kafka'
import { COMPILE_CACHE_ENV, RELAUNCHED_ENV } from '../src/cli/node-flags.ts'
import { startKafka } from '../test/harness/kafka-server.ts'
import { fillTopic, imageNodeArgs } from './kafka.ts'

const { values } = parseArgs({
  options: {
    quotes: { type: 'string', default: '300000' },
    codec: { type: 'string', default: 'lz4' },
    flags: { type: 'string', default: '' },
  },
})
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
      resolve(import.meta.dirname, '../src/cli/main.ts'),
      'process',
      ...['--broker', kafka.bootstrap, '--topic-prefix', filled.prefix, '--warehouse', join(tmp, 'wh')],
      ...['--group', `${filled.prefix}-gc`, '--port', '0', '--log-level', 'info', '--flush-idle-ms', '250'],
    ],
    { env: { ...process.env, NODE_OPTIONS: '', [RELAUNCHED_ENV]: 'bench', ...COMPILE_CACHE_ENV } },
  )
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
        if (line.startsWith('{')) {
          const l = JSON.parse(line) as { msg: string; table?: string; rows?: number }
          if (l.msg === 'batch committed' && l.table === 'quotes') committed += l.rows ?? 0
          if (committed >= n) resolveDone()
        } else if (committed < n) gc.push(line)
      }
    })
  })
  await done
  child.kill('SIGTERM')
  const kinds = new Map<string, { count: number; ms: number }>()
  for (const line of gc) {
    const m =
      /: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Compact \(reduce\))[^,]*?,? ?[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, pooled: [\d.]+ MB, ([\d.]+) \/ ([\d.]+) ms/.exec(
        line,
      ) ?? /: (\S+(?: \S+)?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \/ ([\d.]+) ms/.exec(line)
    if (!m) continue
    const k = kinds.get(m[1]!) ?? { count: 0, ms: 0 }
    k.count++
    k.ms += Number(m[2])
    kinds.set(m[1]!, k)
  }
  console.log(`flags: ${extra.join(' ') || '(image flags)'}; ${gc.length} trace lines`)
  console.log('| GC | count | pause ms |\n|---|---:|---:|')
  for (const [kind, k] of kinds) console.log(`| ${kind} | ${k.count} | ${k.ms.toFixed(0)} |`)
  for (const line of gc.filter((l) => l.includes('Mark')).slice(0, 12)) console.log(line)
  await new Promise((r) => child.on('exit', r))
} finally {
  await kafka.stop()
  rmSync(tmp, { recursive: true, force: true })
}
