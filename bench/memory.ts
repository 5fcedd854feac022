/**
 * Memory: peak resident memory of `cryptoviz start` (1) during a sustained simulated ingest aimed at
 * 100,000 quotes/s and (2) as an API server under concurrent query load over a generated table.
 *
 * The requested ingest rate is not assumed: the achieved rate comes from the process's own /stats
 * counters over the measured window and is reported beside the memory figure. Peak RSS is the
 * kernel's high-water mark (VmHWM), so no spike between samples is missed.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { generateHistory } from '../src/cli/generate.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { simulatedAssets } from '../src/sources/simulated-assets.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { BENCH_SEED, BENCH_START } from './dataset.ts'
import { cpuSeconds, getJson, procStatus, startChild } from './cryptoviz-child.ts'
import { ratio, summarize, type BenchContext, type SectionResult, type Table } from './report.ts'

const statsSchema = z.object({
  records_received: z.number(),
  records_written: z.number(),
  buffered: z.number(),
  flush_errors: z.number(),
  batches: z.number(),
  files: z.number(),
})

const DAY = 86_400_000_000

/** Samples RSS of `pid` every `everyMs` until stopped; returns the samples (MB). */
function sampleRss(pid: number, everyMs: number): { stop(): number[] } {
  const samples: number[] = []
  const timer = setInterval(() => {
    const s = procStatus(pid)
    if (s !== undefined) samples.push(s.rssMb)
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      return samples
    },
  }
}

async function sustainedIngest(
  ctx: BenchContext,
): Promise<{ table: Table; metrics: Record<string, number | null> }> {
  const assets = 1_000
  const intervalMs = 10
  const target = (assets * 1000) / intervalMs
  const warmupMs = 3_000
  const windowMs = ctx.quick ? 15_000 : 60_000
  ctx.log(`memory: sustained ingest, ${assets} assets every ${intervalMs} ms for ${windowMs / 1000} s`)
  const child = await startChild([
    '--warehouse',
    join(ctx.tmp, 'memory-ingest'),
    '--sim-assets',
    String(assets),
    '--sim-interval-ms',
    String(intervalMs),
  ])
  try {
    await sleep(warmupMs)
    const sampler = sampleRss(child.pid, 250)
    const cpu0 = cpuSeconds(child.pid) ?? NaN
    const t0 = performance.now()
    const before = statsSchema.parse(await getJson(`${child.url}/stats`))
    await sleep(windowMs)
    const after = statsSchema.parse(await getJson(`${child.url}/stats`))
    const seconds = (performance.now() - t0) / 1000
    const cpu = ((cpuSeconds(child.pid) ?? NaN) - cpu0) / seconds
    const rss = sampler.stop()
    const peak = procStatus(child.pid)?.peakRssMb ?? NaN
    const shutdown = await child.stop(120_000)
    const received = (after.records_received - before.records_received) / seconds
    const written = (after.records_written - before.records_written) / seconds
    const rssS = summarize(rss)
    return {
      table: {
        title: `Memory: cryptoviz start during sustained ingest (target ${target.toLocaleString('en-US')} quotes/s)`,
        columns: ['measure', 'value'],
        rows: [
          ['requested rate, quotes/s', target],
          ['achieved: received by the processor, quotes/s', received],
          ['achieved: committed to Parquet, quotes/s', written],
          ['achieved / requested', ratio(received, target)],
          ['buffered (uncommitted) at window end, quotes', after.buffered],
          ['commits in window', after.batches - before.batches],
          [
            'quotes per data file (mean)',
            ratio(after.records_written - before.records_written, after.files - before.files),
          ],
          ['flush errors', after.flush_errors],
          ['CPU used, cores (of 2)', cpu],
          ['data files written since start', after.files],
          ['RSS at window start, MB', rss[0] ?? null],
          ['RSS at window end, MB', rss[rss.length - 1] ?? null],
          ['RSS p50 during window, MB', rssS.median],
          ['peak RSS (VmHWM), MB', peak],
          ['graceful shutdown (SIGTERM → exit), s', shutdown.ms / 1000],
          ['exit code', shutdown.code],
        ],
        notes: [
          `cryptoviz start --sim-assets ${assets} --sim-interval-ms ${intervalMs}, defaults otherwise ` +
            `(micro-batches of 50,000 quotes or 30 s); ${windowMs / 1000} s measured after ${warmupMs / 1000} s of warm-up.`,
          'Rates are differences of the /stats counters over the window; "received" falls short of the request ' +
            'when the collector cannot tick every 10 ms (each tick and each commit run on the one event loop).',
        ],
      },
      metrics: {
        embedded_peak_rss_mb: peak,
        embedded_rss_p50_mb: rssS.median,
        embedded_requested_quotes_per_s: target,
        embedded_received_quotes_per_s: received,
        embedded_written_quotes_per_s: written,
        embedded_cpu_cores: cpu,
      },
    }
  } finally {
    await child.stop(5_000)
  }
}

async function queryLoad(
  ctx: BenchContext,
): Promise<{ table: Table; metrics: Record<string, number | null> }> {
  const assets = ctx.quick ? 20 : 100
  const days = ctx.quick ? 7 : 30
  const clients = 8
  const windowMs = ctx.quick ? 10_000 : 30_000
  const dir = join(ctx.tmp, 'memory-query')
  ctx.log(`memory: generating ${assets} assets × ${days} days at 60 s for the query load`)
  const end = BENCH_START + days * DAY
  const warehouse = await openWarehouse(new LocalStore(dir))
  const generated = await generateHistory(warehouse.quotes, {
    assets,
    days,
    intervalSeconds: 60,
    seed: BENCH_SEED,
    end,
    compression: 'snappy',
  })
  const slugs = simulatedAssets(assets).map((a) => a.slug)
  const child = await startChild([
    '--warehouse',
    dir,
    // The simulator ticks once at start and then stays quiet: this part measures the API alone.
    '--sim-assets',
    '1',
    '--sim-interval-ms',
    '3600000',
    '--rate-limit-rps',
    '0',
  ])
  try {
    await sleep(1_000)
    const idle = procStatus(child.pid)?.rssMb ?? NaN
    const sampler = sampleRss(child.pid, 250)
    const latencies: number[] = []
    let errors = 0
    let rows = 0
    let n = 0
    const stopAt = performance.now() + windowMs
    const worker = async (): Promise<void> => {
      while (performance.now() < stopAt) {
        // A deterministic spread of (asset, day) pairs: every client reads different files.
        const i = n++
        const slug = slugs[(i * 7) % slugs.length] as string
        const dayStart = (BENCH_START + ((i * 3) % days) * DAY) / 1000
        const t0 = performance.now()
        const res = await fetch(
          `${child.url}/api/v1/quotes?crypto=${slug}&start=${dayStart}&end=${dayStart + DAY / 1000 - 1}&limit=100000`,
        )
        const body = await res.text()
        latencies.push(performance.now() - t0)
        if (res.ok) rows += (JSON.parse(body) as { count: number }).count
        else errors++
      }
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: clients }, worker))
    const seconds = (performance.now() - t0) / 1000
    const rss = summarize(sampler.stop())
    const peak = procStatus(child.pid)?.peakRssMb ?? NaN
    const lat = summarize(latencies)
    return {
      table: {
        title: `Memory: API server under query load (${clients} concurrent clients, ${windowMs / 1000} s)`,
        columns: ['measure', 'value'],
        rows: [
          ['table', `${generated.rows.toLocaleString('en-US')} quotes, ${generated.files} files`],
          ['requests', latencies.length],
          ['requests/s', latencies.length / seconds],
          ['rows per response (mean)', latencies.length > 0 ? rows / (latencies.length - errors) : null],
          ['errors', errors],
          ['latency p50, ms', lat.median],
          ['latency p95, ms', lat.p95],
          ['RSS idle before load, MB', idle],
          ['RSS p50 under load, MB', rss.median],
          ['peak RSS (VmHWM), MB', peak],
        ],
        notes: [
          `Each request reads one asset's full day (GET /api/v1/quotes?crypto=…&start=…&end=…): ` +
            `${assets} assets × ${days} days at 60 s generated with the cryptoviz generate writer.`,
          'The load generator runs in the benchmark process on the same 2 cores as the server.',
        ],
      },
      metrics: {
        api_peak_rss_mb: peak,
        api_load_requests_per_s: latencies.length / seconds,
        api_load_p50_ms: lat.median,
        api_load_p95_ms: lat.p95,
      },
    }
  } finally {
    await child.stop(10_000)
  }
}

export async function memorySection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const ingest = await sustainedIngest(ctx)
  const query = await queryLoad(ctx)
  return {
    section: 'memory',
    title: 'Memory',
    seconds: (performance.now() - started) / 1000,
    tables: [ingest.table, query.table],
    metrics: { ...ingest.metrics, ...query.metrics },
  }
}
