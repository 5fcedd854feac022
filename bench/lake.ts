/**
 * The lake's own figures (issue "The lake"): snapshot load time of a long log with and without
 * checkpoints, and commit latency. Two tables receive the same N small appends (one quote each,
 * so one commit and one data file per append); one checkpoints every 10 commits (the default),
 * the other never. Loading = a cold `DeltaTable.open` + `snapshot()` in a fresh table object.
 */
import { join } from 'node:path'
import { DeltaTable } from '../src/lake/index.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../src/model/quote-table.ts'
import { MarketSimulator } from '../src/sources/simulated.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { BENCH_SEED, BENCH_START } from './dataset.ts'
import { round, summarize, timeRuns, type BenchContext, type SectionResult } from './report.ts'

const NEVER = String(2 ** 31 - 1)

async function build(dir: string, commits: number, checkpointInterval: string, ctx: BenchContext) {
  const store = new LocalStore(dir)
  const table = await DeltaTable.create(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
    configuration: { 'delta.checkpointInterval': checkpointInterval },
  })
  const sim = new MarketSimulator({ assets: 1, seed: BENCH_SEED, startTs: BENCH_START })
  const latencies: number[] = []
  for (let i = 0; i < commits; i++) {
    const rows = sim.tick(BENCH_START + i * 60_000_000).map(quoteToRow)
    const started = performance.now()
    await table.append(rows, { sortBy: QUOTES_SORT_BY })
    latencies.push(performance.now() - started)
    if ((i + 1) % 1000 === 0)
      ctx.log(`lake: ${i + 1}/${commits} commits (checkpointInterval ${checkpointInterval})`)
  }
  return { store, latencies }
}

export async function lakeSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const commits = ctx.quick ? 1_000 : 10_000
  const loads = ctx.quick ? 5 : 10
  const rows: (string | number | null)[][] = []
  const metrics: Record<string, number | null> = {}
  for (const [label, interval] of [
    ['checkpoint every 10 commits', '10'],
    ['no checkpoint', NEVER],
  ] as const) {
    const { store, latencies } = await build(join(ctx.tmp, `lake-${interval}`), commits, interval, ctx)
    const load = summarize(
      await timeRuns(
        loads,
        async () => {
          const table = await DeltaTable.open(store)
          const snap = await table.snapshot()
          if (snap.version !== commits) throw new Error(`expected version ${commits}, got ${snap.version}`)
        },
        1,
      ),
    )
    const commit = summarize(latencies)
    rows.push([label, commits, round(load.median), round(load.p95), round(commit.median), round(commit.p95)])
    const key = interval === '10' ? 'checkpointed' : 'no_checkpoint'
    metrics[`snapshot_load_${key}_p50_ms`] = round(load.median)
    metrics[`commit_${key}_p50_ms`] = round(commit.median)
  }
  return {
    section: 'lake',
    title: 'Lake: snapshot load and commit latency',
    seconds: (performance.now() - started) / 1000,
    metrics,
    tables: [
      {
        title: `Lake: snapshot load of a ${commits.toLocaleString('en-US')}-commit log, and commit latency (1 quote, 1 file per commit)`,
        columns: ['table', 'commits', 'load p50 ms', 'load p95 ms', 'commit p50 ms', 'commit p95 ms'],
        rows,
        notes: [
          'Load = cold DeltaTable.open + snapshot() of the latest version in a fresh object (log listing, newest checkpoint, JSON commits after it).',
          'Commit = DeltaTable.append of one quote (one data file) through put-if-absent on the local file system, including the checkpoint write on every tenth commit where enabled.',
          'Append throughput beside DuckDB COPY of the same rows is in the ingest section.',
        ],
      },
    ],
  }
}
