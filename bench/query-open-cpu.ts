/**
 * `node bench/query-open-cpu.ts [--rounds N] [--baseline CHECKOUT] [--table DIR]`: the CPU time
 * (user + system, steadier than wall time on a shared machine) and wall time of
 * `DeltaTable.open` of the full-size query table in fresh processes, this checkout and
 * optionally a baseline checkout (its `src/`, with `node_modules`) interleaved round by round, with the load averages. The open
 * alone (no DuckDB): the part of the cold read this code owns. Nothing here writes to the table.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FULL_SIZE_QUOTES_TABLE } from './query-dataset.ts'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    table: { type: 'string', default: FULL_SIZE_QUOTES_TABLE },
    child: { type: 'string' },
  },
  strict: true,
})

if (values.child !== undefined) {
  // The child opens the table with the code of the checkout it is given.
  const { DeltaTable } = await import(join(values.child, 'src', 'lake', 'index.ts'))
  const { LocalStore } = await import(join(values.child, 'src', 'storage', 'local-store.ts'))
  const cpu = process.cpuUsage()
  const started = performance.now()
  await DeltaTable.open(new LocalStore(resolve(values.table)))
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  process.stdout.write(JSON.stringify({ wall, cpu: (used.user + used.system) / 1000 }))
} else {
  const checkouts: [string, string][] = [['this checkout', REPO]]
  if (values.baseline !== undefined) checkouts.unshift(['baseline', resolve(values.baseline)])
  const results = new Map(checkouts.map(([label]) => [label, { wall: [] as number[], cpu: [] as number[] }]))
  const loads: number[] = []
  for (let round = 0; round < Number(values.rounds); round++) {
    loads.push(loadavg()[0]!)
    for (const [label, dir] of checkouts) {
      const out = execFileSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', dir, '--table', resolve(values.table)],
        { encoding: 'utf8' },
      )
      const r = JSON.parse(out) as { wall: number; cpu: number }
      results.get(label)!.wall.push(r.wall)
      results.get(label)!.cpu.push(r.cpu)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  for (const [label, r] of results)
    process.stdout.write(
      `${label}: open CPU median ${median(r.cpu).toFixed(0)} ms (${r.cpu.map((x) => x.toFixed(0)).join(', ')}), ` +
        `wall median ${median(r.wall).toFixed(0)} ms\n`,
    )
  process.stdout.write(`1-minute load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}\n`)
}
