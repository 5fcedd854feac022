/**
 * Scaling: how ingest time and query time grow with the table, along two axes: rows (at a fixed
 * 100 assets) and assets (at a roughly fixed row count). Each point is a fresh table written by
 * the `cryptoviz generate` writer (one commit per day, one file per asset and day), then read
 * through the query engine: a cold table open (log replay) and a one-day read of one asset.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { generateHistory } from '../src/cli/generate.ts'
import { DeltaTable } from '../src/lake/index.ts'
import { DuckDb } from '../src/query/duckdb.ts'
import { QueryEngine } from '../src/query/engine.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { BENCH_SEED, BENCH_START } from './dataset.ts'
import { summarize, timeRuns, type BenchContext, type Cell, type SectionResult } from './report.ts'

const DAY = 86_400_000_000
const INTERVAL_SECONDS = 60

interface Point {
  assets: number
  days: number
}

interface Measured {
  point: Point
  rows: number
  files: number
  commits: number
  bytes: number
  ingestS: number
  openMs: number
  readP50Ms: number
  readP95Ms: number
  readRows: number
}

async function measure(ctx: BenchContext, point: Point, index: number, reads: number): Promise<Measured> {
  const dir = join(ctx.tmp, `scaling-${index}`)
  const end = BENCH_START + Math.round(point.days * DAY)
  ctx.log(`scaling: ${point.assets} assets × ${point.days} days at ${INTERVAL_SECONDS} s`)
  try {
    const warehouse = await openWarehouse(new LocalStore(dir))
    const t0 = performance.now()
    const g = await generateHistory(warehouse.quotes, {
      assets: point.assets,
      days: point.days,
      intervalSeconds: INTERVAL_SECONDS,
      seed: BENCH_SEED,
      end,
      compression: 'snappy',
    })
    const ingestS = (performance.now() - t0) / 1000

    const store = new LocalStore(dir).child('quotes')
    const open = await timeRuns(3, async () => {
      await (await DeltaTable.open(store)).snapshot()
    })
    const table = await DeltaTable.open(store)
    const duckdb = await DuckDb.open()
    try {
      const engine = new QueryEngine({ table, duckdb })
      // The middle day of the table (the whole table when it is shorter than a day).
      const start = BENCH_START + Math.floor(point.days / 2) * DAY
      const q = { crypto: 'bitcoin', start, end: Math.min(start + DAY, end) - 1 }
      let readRows = 0
      const read = await timeRuns(
        reads,
        async () => {
          readRows = (await engine.readRange(q)).rows.length
        },
        2,
      )
      const r = summarize(read)
      return {
        point,
        rows: g.rows,
        files: g.files,
        commits: g.commits,
        bytes: g.bytes,
        ingestS,
        openMs: summarize(open).median,
        readP50Ms: r.median,
        readP95Ms: r.p95,
        readRows,
      }
    } finally {
      duckdb.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function scalingSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  // Rows grow with days at 100 assets; assets grow at about the same row count (fewer days).
  const base: Point = ctx.quick ? { assets: 100, days: 1 } : { assets: 100, days: 7 }
  const rowsAxis: Point[] = ctx.quick
    ? [base, { assets: 100, days: 7 }]
    : [base, { assets: 100, days: 70 }, { assets: 100, days: 347 }]
  const assetsAxis: Point[] = ctx.quick
    ? [{ assets: 10, days: 10 }, base, { assets: 1_000, days: 0.1 }]
    : [{ assets: 10, days: 70 }, base, { assets: 1_000, days: 0.7 }]
  const reads = ctx.quick ? 5 : 15
  const results = new Map<Point, Measured>()
  // An untimed small point first, so the first measured point does not pay for JIT warm-up.
  await measure(ctx, { assets: 10, days: 1 }, 0, 1)
  let index = 1
  for (const p of [...rowsAxis, ...assetsAxis]) {
    if (!results.has(p)) results.set(p, await measure(ctx, p, index++, reads))
  }

  const columns = [
    'assets',
    'days',
    'quotes',
    'files',
    'ingest s',
    'ingest quotes/s',
    'open ms',
    'one-day read p50 ms',
    'p95 ms',
    'rows read',
  ]
  const row = (p: Point): Cell[] => {
    const m = results.get(p) as Measured
    return [
      p.assets,
      p.days,
      m.rows,
      m.files,
      m.ingestS,
      m.rows / m.ingestS,
      m.openMs,
      m.readP50Ms,
      m.readP95Ms,
      m.readRows,
    ]
  }
  const notes = [
    `Quotes every ${INTERVAL_SECONDS} s per asset, written by the cryptoviz generate writer (one commit per day). ` +
      '"open" is a cold DeltaTable.open + snapshot (log replay from the last checkpoint); the read is ' +
      `QueryEngine.readRange of bitcoin over one day (${reads} runs after 2 warm-ups).`,
  ]
  const largest = results.get(rowsAxis[rowsAxis.length - 1] as Point) as Measured
  const smallest = results.get(base) as Measured
  return {
    section: 'scaling',
    title: 'Scaling',
    seconds: (performance.now() - started) / 1000,
    tables: [
      { title: 'Scaling with rows (100 assets)', columns, rows: rowsAxis.map(row), notes },
      { title: 'Scaling with assets (about the same rows)', columns, rows: assetsAxis.map(row), notes: [] },
    ],
    metrics: {
      scaling_small_rows: smallest.rows,
      scaling_large_rows: largest.rows,
      scaling_small_ingest_quotes_per_s: smallest.rows / smallest.ingestS,
      scaling_large_ingest_quotes_per_s: largest.rows / largest.ingestS,
      scaling_small_read_p50_ms: smallest.readP50Ms,
      scaling_large_read_p50_ms: largest.readP50Ms,
    },
  }
}
