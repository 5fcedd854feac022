/**
 * `cryptoviz start`'s peak RSS at its top ingest rate, over several runs in a row, with a timeline
 * of where the peak comes from: the same command as the memory section
 * (`--sim-assets 1000 --sim-interval-ms 10`, defaults otherwise), run `--runs` times.
 *
 *   node bench/memory-start.ts [--runs 5] [--window-s 15] [--timeline] [--node-args='--flag …'] [--env='K=V …'] [-- start flags]
 *
 * Per run: the rates received and committed (differences of /stats over the window), the peak RSS
 * (VmHWM), and what the process said about its memory at the sample nearest the peak (V8 heap
 * used and total, external buffers; the rest of RSS is native: DuckDB, Node, code). `--timeline`
 * also prints every sample. The 1-minute load average is printed before each run: on a shared
 * machine a run is only comparable with runs of the same period.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { cpuSeconds, getJson, procStatus, startChild } from './cryptoviz-child.ts'

const statsSchema = z.object({
  records_received: z.number(),
  records_written: z.number(),
  batches: z.number(),
  files: z.number(),
  pauses: z.number(),
  memory_mb: z.object({
    rss: z.number(),
    heap_used: z.number(),
    heap_total: z.number(),
    external: z.number(),
  }),
  maintenance_running: z.number().optional(),
})

interface Sample {
  s: number
  rssMb: number
  heapUsed: number
  heapTotal: number
  external: number
  batches: number
  written: number
  maintenance: number
}

export interface StartRun {
  load1: number
  receivedPerS: number
  writtenPerS: number
  /** CPU time (user + system, every thread) per committed quote over the window, µs. */
  cpuUsPerQuote: number
  peakRssMb: number
  /** The sample nearest the peak (by RSS). */
  atPeak: Sample | undefined
  /** Quote commits in the window: median and max duration, ms (from the processor's log lines). */
  commitMsP50: number
  commitMsMax: number
  /** Times the processor paused the bus (buffer bound reached while a commit ran) in the window. */
  pauses: number
  samples: Sample[]
}

/** One `start` run: warm-up, then `windowS` seconds measured. */
export async function measureStart(o: {
  windowS: number
  warmupS: number
  extra: readonly string[]
  nodeArgs?: readonly string[]
  env?: Record<string, string>
  dir: string
}): Promise<StartRun> {
  const load1 = loadavg()[0] ?? NaN
  const child = await startChild(
    ['--warehouse', o.dir, '--sim-assets', '1000', '--sim-interval-ms', '10', ...o.extra],
    o.nodeArgs,
  )
  const samples: Sample[] = []
  const t0 = performance.now()
  let sampling = true
  // /stats samples: each one is an HTTP request to the busy process, so every 250 ms at most.
  const sampler = (async () => {
    while (sampling) {
      try {
        const st = statsSchema.parse(await getJson(`${child.url}/stats`))
        samples.push({
          s: (performance.now() - t0) / 1000,
          rssMb: procStatus(child.pid)?.rssMb ?? NaN,
          heapUsed: st.memory_mb.heap_used,
          heapTotal: st.memory_mb.heap_total,
          external: st.memory_mb.external,
          batches: st.batches,
          written: st.records_written,
          maintenance: st.maintenance_running ?? 0,
        })
      } catch {
        // the process is stopping
      }
      await sleep(250)
    }
  })()
  try {
    await sleep(o.warmupS * 1000)
    const before = statsSchema.parse(await getJson(`${child.url}/stats`))
    const cpu0 = cpuSeconds(child.pid) ?? NaN
    const w0 = performance.now()
    await sleep(o.windowS * 1000)
    const after = statsSchema.parse(await getJson(`${child.url}/stats`))
    const seconds = (performance.now() - w0) / 1000
    const cpu = (cpuSeconds(child.pid) ?? NaN) - cpu0
    const peakRssMb = procStatus(child.pid)?.peakRssMb ?? NaN
    sampling = false
    await sampler
    const commits = child.proc.logs
      .filter((l) => l['table'] === 'quotes' && typeof l['ms'] === 'number' && typeof l['files'] === 'number')
      .map((l) => l['ms'] as number)
      .sort((a, b) => a - b)
    const atPeak = samples.reduce<Sample | undefined>((m, x) => (m && m.rssMb >= x.rssMb ? m : x), undefined)
    return {
      load1,
      receivedPerS: (after.records_received - before.records_received) / seconds,
      writtenPerS: (after.records_written - before.records_written) / seconds,
      cpuUsPerQuote: (cpu * 1e6) / (after.records_written - before.records_written),
      peakRssMb,
      atPeak,
      commitMsP50: commits[Math.floor(commits.length / 2)] ?? NaN,
      commitMsMax: commits.at(-1) ?? NaN,
      pauses: after.pauses - before.pauses,
      samples,
    }
  } finally {
    sampling = false
    await child.stop(120_000)
  }
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US')

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      'window-s': { type: 'string', default: '15' },
      'warmup-s': { type: 'string', default: '3' },
      timeline: { type: 'boolean', default: false },
      'node-args': { type: 'string', default: '' },
      env: { type: 'string', default: '' },
    },
    allowPositionals: true,
  })
  const runs = Number(values.runs)
  console.log(
    '| run | load 1m | received/s | committed/s | peak RSS MB | at peak: RSS / heap used / heap total / external MB | commits | commit ms p50 / max | CPU µs per quote | pauses |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  for (let i = 1; i <= runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'cv-memory-start-'))
    try {
      const r = await measureStart({
        windowS: Number(values['window-s']),
        warmupS: Number(values['warmup-s']),
        extra: positionals,
        nodeArgs: values['node-args'].split(' ').filter((a) => a !== ''),
        env: Object.fromEntries(
          values.env
            .split(' ')
            .filter((a) => a.includes('='))
            .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
        ),
        dir,
      })
      const p = r.atPeak
      console.log(
        `| ${i} | ${r.load1.toFixed(2)} | ${f0(r.receivedPerS)} | ${f0(r.writtenPerS)} | ${r.peakRssMb.toFixed(1)} | ` +
          (p
            ? `${f0(p.rssMb)} / ${p.heapUsed} / ${p.heapTotal} / ${p.external} (t=${p.s.toFixed(1)} s)`
            : '—') +
          ` | ${r.samples.at(-1)?.batches ?? '—'} | ${f0(r.commitMsP50)} / ${f0(r.commitMsMax)} | ${r.cpuUsPerQuote.toFixed(1)} | ${r.pauses} |`,
      )
      if (values.timeline) {
        for (const x of r.samples) {
          console.log(
            `  t=${x.s.toFixed(1)} rss=${f0(x.rssMb)} heap=${x.heapUsed}/${x.heapTotal} ext=${x.external} ` +
              `batches=${x.batches} written=${x.written} maint=${x.maintenance}`,
          )
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
