/**
 * Queries: the query suite lives in `bench/query.ts` (its own benchmark: the engine beside DuckDB
 * reading the same files by hive glob). This section runs it as a child process and folds its
 * results into the report.
 *
 * What is read from its `--json` file (validated, anything else is kept verbatim under `raw`):
 * - `tables`: tables in this report's shape ({ title, columns, rows, notes }), printed as ours;
 * - `metrics`: numbers by name; the targets use `one_day_read_p50_ms`,
 *   `one_day_read_glob_p50_ms` and `dashboard_p50_ms` when present.
 * When it writes no such tables, its own stdout is printed instead.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { BenchContext, SectionResult, Table } from './report.ts'

const cell = z.union([z.string(), z.number(), z.null()])
const queryJson = z.object({
  tables: z
    .array(
      z.object({
        title: z.string(),
        columns: z.array(z.string()),
        rows: z.array(z.array(cell)),
        notes: z.array(z.string()).default([]),
      }),
    )
    .optional(),
  metrics: z.record(z.string(), z.number().nullable()).optional(),
})

const notMeasured = (started: number, reason: string, raw?: unknown): SectionResult => ({
  section: 'queries',
  title: 'Queries',
  seconds: (performance.now() - started) / 1000,
  tables: [
    {
      title: 'Queries (bench/query.ts)',
      columns: ['suite', 'result'],
      rows: [['query suite', reason]],
      notes: [],
    },
  ],
  metrics: {},
  ...(raw !== undefined && { raw }),
})

export async function queriesSection(ctx: BenchContext, benchDir: string): Promise<SectionResult> {
  const started = performance.now()
  const script = join(benchDir, 'query.ts')
  if (!existsSync(script)) return notMeasured(started, 'not measured: bench/query.ts does not exist yet')
  const jsonFile = join(ctx.tmp, 'query.json')
  const args = [script, ...(ctx.quick ? ['--quick'] : []), '--json', jsonFile]
  ctx.log(`queries: node bench/query.ts ${args.slice(1).join(' ')}`)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  // A hung child must not hang the whole run: quick runs are meant to take minutes.
  const limitMs = ctx.quick ? 5 * 60_000 : 90 * 60_000
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  clearTimeout(timer)
  if (exit.code !== 0) {
    return notMeasured(
      started,
      `failed: bench/query.ts exited with ${exit.code ?? exit.signal}${exit.signal === 'SIGKILL' ? ` (killed after ${limitMs / 60_000} min)` : ''}`,
      { stdout },
    )
  }
  if (!existsSync(jsonFile)) {
    return notMeasured(started, 'failed: bench/query.ts wrote no JSON (--json)', { stdout })
  }
  const raw: unknown = JSON.parse(readFileSync(jsonFile, 'utf8'))
  const parsed = queryJson.safeParse(raw)
  const tables: Table[] =
    parsed.success && parsed.data.tables !== undefined && parsed.data.tables.length > 0
      ? parsed.data.tables
      : [
          {
            title: 'Queries (bench/query.ts output)',
            columns: ['output'],
            rows: stdoutRows(stdout),
            notes: [],
          },
        ]
  return {
    section: 'queries',
    title: 'Queries',
    seconds: (performance.now() - started) / 1000,
    tables,
    metrics: parsed.success ? (parsed.data.metrics ?? {}) : {},
    raw,
  }
}

const stdoutRows = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => [line])
