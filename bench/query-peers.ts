/**
 * Peers of the query benchmark's one-day read, on the same table and picks, in the same run:
 * delta-rs (`DeltaTable(…).to_pyarrow_table(…)`, warm in one process and cold in a fresh one)
 * and polars (`scan_delta(…).filter(…).collect()`, cold), from the test venv (.cache/venv, see
 * test/harness/python.ts), and our own cold read in a fresh Node process (bench/query-cold.ts).
 *
 * "Cold" starts the clock after the imports (Python's and ours alike): it is opening the table
 * (reading its log) plus the first read, with the OS file cache warm.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensurePythonEnv, runPython } from '../test/harness/python.ts'

export interface DayPick {
  crypto: string
  /** Start of the day, µs. */
  day: number
}

export interface PeerSamples {
  /** delta-rs `to_pyarrow_table(partitions=…)`, table opened once, per read ms. */
  deltaRsWarm: number[]
  /** delta-rs `to_pyarrow_table(filters=…)`, table opened once, per read ms. */
  deltaRsFiltersWarm: number[]
  /** delta-rs `DeltaTable(path)` + `to_pyarrow_table(partitions=…)` in a fresh process, ms. */
  deltaRsCold: number[]
  /** polars `scan_delta(path).filter(…).collect()` in a fresh process, ms. */
  polarsCold: number[]
  /** Ours: DuckDb.open + DeltaTable.open + readRange in a fresh Node process, ms. */
  oursCold: number[]
  /** Rows delta-rs returned for the first pick (checked against ours by the caller). */
  rows: number
}

export const PEER_SCRIPT = String.raw`
import time
def filters_of(p):
    return [('year', '=', p['year']), ('month', '=', p['month']), ('day', '=', p['day']), ('crypto', '=', p['crypto'])]
path, picks = ARGS['path'], ARGS['picks']
if ARGS['mode'] == 'warm':
    from deltalake import DeltaTable
    dt = DeltaTable(path)
    rows = dt.to_pyarrow_table(partitions=filters_of(picks[0])).num_rows
    warm, filtered = [], []
    for p in picks:
        t = time.perf_counter(); dt.to_pyarrow_table(partitions=filters_of(p)); warm.append((time.perf_counter() - t) * 1000)
    for p in picks[:ARGS['filterReps']]:
        t = time.perf_counter(); dt.to_pyarrow_table(filters=filters_of(p)); filtered.append((time.perf_counter() - t) * 1000)
    emit({'warm': warm, 'filtersWarm': filtered, 'rows': rows})
if ARGS['mode'] == 'deltars-cold':
    from deltalake import DeltaTable
    p = picks[0]
    t = time.perf_counter()
    n = DeltaTable(path).to_pyarrow_table(partitions=filters_of(p)).num_rows
    emit({'ms': (time.perf_counter() - t) * 1000, 'rows': n})
if ARGS['mode'] == 'polars-cold':
    import polars as pl
    p = picks[0]
    t = time.perf_counter()
    df = pl.scan_delta(path).filter((pl.col('year') == p['year']) & (pl.col('month') == p['month']) & (pl.col('day') == p['day']) & (pl.col('crypto') == p['crypto'])).collect()
    emit({'ms': (time.perf_counter() - t) * 1000, 'rows': df.height})
`

const COLD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'query-cold.ts')

export function pyPick(p: DayPick): { crypto: string; year: string; month: string; day: string } {
  const d = new Date(p.day / 1000).toISOString()
  return { crypto: p.crypto, year: d.slice(0, 4), month: d.slice(5, 7), day: d.slice(8, 10) }
}

/**
 * Our cold one-day read in a fresh process: `{ms, rows}` from bench/query-cold.ts (this
 * checkout's, or `script`: another checkout's, to compare before and after in one run).
 */
export function oursCold(
  tableDir: string,
  p: DayPick,
  script: string = COLD_SCRIPT,
): Promise<{ ms: number; rows: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, tableDir, p.crypto, String(p.day)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as { ms: number; rows: number })
        : reject(new Error(`query-cold.ts exited with ${code}`)),
    )
  })
}

/**
 * Runs the peers: warm over `warmPicks`, and `coldRuns` fresh processes each (the first picks).
 * Throws when the venv cannot be made (the caller reports the peers as not measured).
 */
export async function measurePeers(
  tableDir: string,
  warmPicks: readonly DayPick[],
  o: { coldRuns: number; filterReps: number; log: (m: string) => void },
): Promise<PeerSamples> {
  await ensurePythonEnv()
  const picks = warmPicks.map(pyPick)
  o.log(`peers: delta-rs warm (${picks.length} reads, ${o.filterReps} with filters=)`)
  const warm = await runPython<{ warm: number[]; filtersWarm: number[]; rows: number }>(PEER_SCRIPT, {
    mode: 'warm',
    path: tableDir,
    picks,
    filterReps: o.filterReps,
  })
  const deltaRsCold: number[] = []
  const polarsCold: number[] = []
  const ours: number[] = []
  o.log(`peers: ${o.coldRuns} cold reads each (delta-rs, polars, ours), interleaved`)
  for (let i = 0; i < o.coldRuns; i++) {
    const p = warmPicks[i % warmPicks.length]!
    const args = { path: tableDir, picks: [pyPick(p)] }
    deltaRsCold.push((await runPython<{ ms: number }>(PEER_SCRIPT, { ...args, mode: 'deltars-cold' })).ms)
    polarsCold.push((await runPython<{ ms: number }>(PEER_SCRIPT, { ...args, mode: 'polars-cold' })).ms)
    ours.push((await oursCold(tableDir, p)).ms)
  }
  return {
    deltaRsWarm: warm.warm,
    deltaRsFiltersWarm: warm.filtersWarm,
    deltaRsCold,
    polarsCold,
    oursCold: ours,
    rows: warm.rows,
  }
}
