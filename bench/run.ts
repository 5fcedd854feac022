/**
 * `npm run bench [-- --quick] [--only ingest,storage] [--json out.json] [--markdown out.md]`: runs
 * the benchmark sections in order, prints each table as it completes, then the targets and the
 * headline table, and optionally writes everything as JSON (for tracking) and Markdown (for
 * docs/benchmarks.md).
 *
 * Invariants: a failing section is reported as failed and the others still run (exit code 1 at
 * the end); every scratch file lives under one temporary folder that is removed on exit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  formatMarkdown,
  formatTable,
  SECTION_NAMES,
  type BenchContext,
  type SectionName,
  type SectionResult,
  type Table,
} from './report.ts'
import { headlineTable, targetsTable } from './targets.ts'

const USAGE = `Usage: node bench/run.ts [--quick] [--only ${SECTION_NAMES.join(',')}] [--json FILE] [--markdown FILE]

  --quick      small datasets and short windows (under 2 minutes in all)
  --only       comma-separated sections to run (default: all)
  --json       write every result, the machine and the command as JSON
  --markdown   write the tables as Markdown (the body of docs/benchmarks.md)`

const benchDir = dirname(fileURLToPath(import.meta.url))

function parse(): { quick: boolean; only: SectionName[]; json?: string; markdown?: string } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const only = values.only === undefined ? [...SECTION_NAMES] : values.only.split(',').map((s) => s.trim())
  const unknown = only.filter((s) => !(SECTION_NAMES as readonly string[]).includes(s))
  if (unknown.length > 0) {
    process.stderr.write(`unknown section(s): ${unknown.join(', ')}\n${USAGE}\n`)
    process.exit(2)
  }
  return {
    quick: values.quick,
    only: SECTION_NAMES.filter((s) => only.includes(s)),
    ...(values.json !== undefined && { json: values.json }),
    ...(values.markdown !== undefined && { markdown: values.markdown }),
  }
}

export interface Machine {
  cores: number
  cpu: string
  memory_gb: number
  node: string
  os: string
  load_average_1m: number | null
}

function machine(): Machine {
  let load: number | null = null
  try {
    load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  } catch {
    // Not Linux: no load average to report.
  }
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 1e8) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    load_average_1m: load,
  }
}

/**
 * Sections are imported when they run, so a module that does not load (the tree is shared and
 * changing) fails only its own section.
 */
async function runSection(name: SectionName, ctx: BenchContext): Promise<SectionResult> {
  switch (name) {
    case 'ingest':
      return (await import('./ingest.ts')).ingestSection(ctx)
    case 'lake':
      return (await import('./lake.ts')).lakeSection(ctx)
    case 'kafka':
      return (await import('./kafka.ts')).kafkaSection(ctx)
    case 'freshness':
      return (await import('./freshness.ts')).freshnessSection(ctx)
    case 'queries':
      return (await import('./queries.ts')).queriesSection(ctx, benchDir)
    case 'storage':
      return (await import('./storage.ts')).storageSection(ctx)
    case 'memory':
      return (await import('./memory.ts')).memorySection(ctx)
    case 'scaling':
      return (await import('./scaling.ts')).scalingSection(ctx)
    case 'objectstore':
      return (await import('./object-store.ts')).objectStoreSection(ctx)
    case 'dashboard':
      return (await import('./dashboard.ts')).dashboardSection(ctx)
    case 'maintenance':
      return (await import('./maintenance.ts')).maintenanceSection(ctx)
  }
}

async function main(): Promise<void> {
  const o = parse()
  const command = `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim()
  const tmp = mkdtempSync(join(tmpdir(), 'cryptoviz-bench-'))
  const ctx: BenchContext = {
    quick: o.quick,
    tmp,
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  }
  const started = performance.now()
  const m = machine()
  const date = new Date().toISOString()
  process.stdout.write(
    `CryptoViz benchmarks${o.quick ? ' (quick)' : ''}: ${date}\n` +
      `${m.cores} cores, ${m.cpu}, ${m.memory_gb} GB RAM, Node ${m.node}, ${m.os}, load ${m.load_average_1m ?? '?'}\n\n`,
  )
  const sections: SectionResult[] = []
  const failures: { section: SectionName; error: string }[] = []
  const exitCleanly = (): void => rmSync(tmp, { recursive: true, force: true })
  process.once('SIGINT', () => {
    exitCleanly()
    process.exit(130)
  })
  try {
    for (const name of o.only) {
      let result: SectionResult
      try {
        result = await runSection(name, ctx)
      } catch (e) {
        const error = e instanceof Error ? (e.stack ?? e.message) : String(e)
        failures.push({ section: name, error })
        result = {
          section: name,
          title: name,
          seconds: 0,
          tables: [{ title: name, columns: ['result'], rows: [[`failed: ${firstLine(error)}`]], notes: [] }],
          metrics: {},
        }
        process.stderr.write(`[bench] ${name} failed:\n${error}\n`)
      }
      sections.push(result)
      for (const t of result.tables) process.stdout.write(`${formatTable(t)}\n\n`)
    }
  } finally {
    exitCleanly()
  }

  const metrics = Object.assign({}, ...sections.map((s) => s.metrics)) as Record<string, number | null>
  const verdicts: Table[] = o.only.length > 1 ? [targetsTable(metrics), headlineTable(metrics)] : []
  for (const t of verdicts) process.stdout.write(`${formatTable(t)}\n\n`)
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(`done in ${seconds.toFixed(1)} s\n`)

  if (o.json !== undefined) {
    const doc = {
      format: 'cryptoviz-bench/1',
      date,
      command,
      quick: o.quick,
      seconds,
      machine: m,
      sections,
      metrics,
      verdicts,
      failures,
    }
    writeFileSync(o.json, `${JSON.stringify(doc, null, 2)}\n`)
  }
  if (o.markdown !== undefined) {
    const blocks = [
      `Run ${date} with \`${command}\` in ${seconds.toFixed(0)} s.`,
      `Machine: ${m.cores} cores (${m.cpu}), ${m.memory_gb} GB RAM, Node ${m.node}, ${m.os}; 1-minute load average at start ${m.load_average_1m ?? 'unknown'}.`,
      ...verdicts.map(formatMarkdown),
      ...sections.flatMap((s) => [`### ${s.title}`, ...s.tables.map(formatMarkdown)]),
    ]
    writeFileSync(o.markdown, `${blocks.join('\n\n')}\n`)
  }
  if (failures.length > 0) process.exitCode = 1
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s

await main()
