/**
 * `node bench/query-stats-scan.ts [--table DIR] [--runs N] [--baseline CHECKOUT]`: the stats
 * packing of a table's checkpoint alone (the largest part of a cold open), in this process: the
 * CPU time (less noisy than wall time on a shared machine) of the first pass (cold JIT, as in a
 * fresh server) and of the warm passes, with how many texts the scan
 * decided itself. `--baseline` runs the same on another checkout's packer in the same process,
 * interleaved pass by pass (before/after in the same period). Nothing here writes to the table.
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeCheckpoint } from '../src/lake/checkpoint.ts'
import { FULL_SIZE_QUOTES_TABLE } from './query-dataset.ts'

const { values } = parseArgs({
  options: {
    table: { type: 'string', default: FULL_SIZE_QUOTES_TABLE },
    runs: { type: 'string', default: '5' },
    baseline: { type: 'string' },
  },
  strict: true,
})
const log = join(resolve(values.table), '_delta_log')
const last = JSON.parse(readFileSync(join(log, '_last_checkpoint'), 'utf8')) as { version: number }
const name = `${String(last.version).padStart(20, '0')}.checkpoint.parquet`
const texts: string[] = []
for (const a of await decodeCheckpoint(new Uint8Array(readFileSync(join(log, name)))))
  if ('add' in a && typeof a.add.stats === 'string') texts.push(a.add.stats)

type Packer = { packStats(t: string): unknown; scanStats(t: string): unknown }
const packers: [string, Packer][] = [['this checkout', await import('../src/lake/packed-stats.ts')]]
if (values.baseline !== undefined)
  packers.unshift([
    'baseline',
    (await import(join(resolve(values.baseline), 'src', 'lake', 'packed-stats.ts'))) as Packer,
  ])

const results = new Map<string, number[]>(packers.map(([n]) => [n, []]))
for (let run = 0; run < Number(values.runs); run++) {
  for (const [label, packer] of packers) {
    const started = process.cpuUsage()
    for (const t of texts) packer.packStats(t)
    const used = process.cpuUsage(started)
    results.get(label)!.push((used.user + used.system) / 1000)
  }
}
for (const [label, packer] of packers) {
  let decided = 0
  for (const t of texts) if (packer.scanStats(t) !== undefined) decided++
  const ms = results.get(label)!
  const warm = ms.slice(1).sort((a, b) => a - b)
  process.stdout.write(
    `${label}: ${texts.length} texts, scan decided ${decided}; CPU first pass ${ms[0]!.toFixed(0)} ms, ` +
      `warm median ${warm[Math.floor(warm.length / 2)]?.toFixed(0) ?? '-'} ms\n`,
  )
}
process.stdout.write(
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
)
