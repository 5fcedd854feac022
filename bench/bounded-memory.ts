/**
 * Bounded memory of the batch commands, one command for every figure of docs/benchmarks.md
 * "Bounded memory" (follow-up): peak RSS (kernel VmHWM, sampled every 50 ms; the PID survives the
 * V8-flags relaunch) and seconds of `generate --commit-every 30` on 20 assets × 6 h (14,400
 * files) and 1,000 assets × 50 min (100,000 files), `optimize` of both, and the heap a loaded
 * snapshot of the 100,000-file table holds before and after OPTIMIZE (bench/state-memory.ts).
 *
 *   node bench/bounded-memory.ts [--root DIR] [--memory-limit-mb N] [--quick] [--generate-only] [--dir DIR]
 *
 * `--root` runs another checkout's CLI (e.g. an older commit extracted with `git archive`, with a
 * `node_modules` link): run it alternately with and without to compare before and after in the
 * same period. `--quick` skips the 100,000-file table; `--generate-only` skips `optimize` (and the
 * snapshot after it), for quicker before/after pairs of `generate`. Prints one table and a JSON
 * line.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { NATIVE_MEMORY_ENV, nodeFlags } from '../src/cli/node-flags.ts'
import { procStatus } from './cryptoviz-child.ts'
import { formatTable, type Cell } from './report.ts'

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    'memory-limit-mb': { type: 'string' },
    quick: { type: 'boolean', default: false },
    'generate-only': { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
})
const root = resolve(values.root ?? new URL('..', import.meta.url).pathname)
const main = join(root, 'src', 'cli', 'main.ts')
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' }
if (values['memory-limit-mb'] !== undefined) env['CRYPTOVIZ_MEMORY_LIMIT_MB'] = values['memory-limit-mb']

interface Run {
  seconds: number
  peakRssMb: number
  last: Record<string, unknown>
}

/** Runs the CLI, sampling the child's VmHWM until it exits; fails on a non-zero exit. */
function cli(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const started = performance.now()
    const child = spawn(process.execPath, [main, ...args, '--log-level', 'warn'], { env })
    let stdout = ''
    let stderr = ''
    let peak = 0
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    const timer = setInterval(() => {
      const s = child.pid === undefined ? undefined : procStatus(child.pid)
      if (s !== undefined && Number.isFinite(s.peakRssMb)) peak = Math.max(peak, s.peakRssMb)
    }, 50)
    child.on('exit', (code) => {
      clearInterval(timer)
      if (code !== 0) return fail(new Error(`${args[0]} exited ${code}: ${stderr}`))
      done({
        seconds: (performance.now() - started) / 1000,
        peakRssMb: Math.round(peak),
        last: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>,
      })
    })
  })
}

/** bench/state-memory.ts of the same checkout, in a fresh process with the product's V8 flags. */
function snapshotHeap(warehouse: string): Record<string, unknown> {
  const r = spawnSync(
    process.execPath,
    [...nodeFlags(0), '--expose-gc', join(root, 'bench', 'state-memory.ts'), '--warehouse', warehouse],
    { encoding: 'utf8', env: { ...NATIVE_MEMORY_ENV, ...env } },
  )
  if (r.status !== 0) return { error: r.stderr.slice(-300) }
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>
}

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'cryptoviz-bounded-memory-'))
const load = [loadavg()[0]!]
const rows: Cell[][] = []
const metrics: Record<string, unknown> = { root, memoryLimitMb: values['memory-limit-mb'] ?? null }
try {
  const tables = [
    { name: '20 assets × 6 h', assets: 20, days: 0.25, key: 'files14k' },
    ...(values.quick
      ? []
      : [{ name: '1,000 assets × 50 min', assets: 1000, days: 0.0347, key: 'files100k' }]),
  ]
  for (const t of tables) {
    const warehouse = join(dir, t.key)
    const gen = await cli([
      ...['generate', '--warehouse', warehouse, '--assets', String(t.assets), '--days', String(t.days)],
      ...['--interval', '30', '--commit-every', '30', '--end', '2024-06-01T00:00:00Z'],
    ])
    rows.push([
      `generate --commit-every 30, ${t.name}`,
      gen.last['files'] as number,
      gen.peakRssMb,
      gen.seconds,
    ])
    const before = snapshotHeap(join(warehouse))
    if (values['generate-only']) {
      metrics[t.key] = { generate: gen, snapshotBefore: before }
      load.push(loadavg()[0]!)
      continue
    }
    const opt = await cli(['optimize', '--warehouse', warehouse])
    rows.push([`optimize, ${t.name}`, opt.last['filesRemoved'] as number, opt.peakRssMb, opt.seconds])
    const after = snapshotHeap(join(warehouse))
    metrics[t.key] = { generate: gen, optimize: opt, snapshotBefore: before, snapshotAfter: after }
    load.push(loadavg()[0]!)
  }
} finally {
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true })
}
metrics['load1m'] = load
process.stdout.write(
  `${formatTable({
    title: `Bounded memory (${root}${values['memory-limit-mb'] ? `, memory limit ${values['memory-limit-mb']} MB` : ''})`,
    columns: ['command', 'files', 'peak RSS MB', 'seconds'],
    rows: rows.map((r) => [r[0]!, r[1]!, r[2]!, Math.round((r[3] as number) * 10) / 10]),
    notes: [`load average (1 min) along the run: ${load.map((l) => l.toFixed(1)).join(', ')}`],
  })}\n${JSON.stringify(metrics)}\n`,
)
