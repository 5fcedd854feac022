/**
 * `node bench/write-peers.ts [--assets N] [--days D] [--interval SECONDS] [--rounds N] [--markdown]`:
 * writing a partitioned table, ours beside delta-rs and polars, interleaved round by round in the
 * same run (the machine is shared: drift hits every writer alike), with the load averages.
 *
 * - ours: `cryptoviz generate` in a fresh process, timed from spawn to exit: the simulation, the
 *   Parquet encoding, one commit per asset-day batch and the process's start are all inside.
 * - ours, rows preloaded: bench/write-preloaded.ts, the like-for-like figure: the same rows
 *   simulated first, outside the clock, then only the lake write timed (fresh table, one
 *   `appendColumns` per day on both threads, the commits).
 * - delta-rs: `write_deltalake(path, table, partition_by=year/month/day/source/crypto)` of the same
 *   rows (read back from our table first, outside the clock: the rows are preloaded).
 * - polars: `DataFrame.write_delta` of the same rows with the same partition columns (it writes
 *   through delta-rs).
 * Every writer makes a new table in its own fresh folder each round, Snappy-compressed (each
 * one's default). Nothing is asserted: the figures go in docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { nodeFlags } from '../src/cli/node-flags.ts'
import { PARTITION_COLUMNS } from '../src/model/quote.ts'
import { ensurePythonEnv, runPython } from '../test/harness/python.ts'
import { formatMarkdown, formatTable, percentile, ratio, type Table } from './report.ts'

const { values } = parseArgs({
  options: {
    assets: { type: 'string', default: '100' },
    days: { type: 'string', default: '30' },
    interval: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    markdown: { type: 'boolean', default: false },
  },
  strict: true,
})
const rounds = Number(values.rounds)
const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const PRELOADED = resolve(import.meta.dirname, 'write-preloaded.ts')

const PEER_WRITE = String.raw`
import time
from deltalake import DeltaTable, write_deltalake
rows = DeltaTable(ARGS['source']).to_pyarrow_table()
if ARGS['writer'] == 'polars':
    import polars as pl
    frame = pl.from_arrow(rows)
    started = time.perf_counter()
    frame.write_delta(ARGS['target'], delta_write_options={'partition_by': ARGS['partition_by']})
else:
    started = time.perf_counter()
    write_deltalake(ARGS['target'], rows, partition_by=ARGS['partition_by'])
ms = (time.perf_counter() - started) * 1000
emit({'ms': ms, 'rows': rows.num_rows, 'files': len(DeltaTable(ARGS['target']).file_uris())})
`

interface Written {
  ms: number
  rows: number
  files: number
}

/** Runs `cryptoviz generate` into `warehouse` and times it from spawn to exit. */
function generate(warehouse: string): Written {
  const started = performance.now()
  const r = spawnSync(
    process.execPath,
    [
      MAIN,
      ...['generate', '--warehouse', warehouse, '--assets', values.assets, '--days', values.days],
      ...['--interval', values.interval, '--end', '2024-06-01T00:00:00Z', '--log-level', 'warn'],
    ],
    { encoding: 'utf8' },
  )
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`generate exited with ${r.status}: ${r.stderr.slice(-2000)}`)
  // The last JSON line generate prints is its summary.
  const last = r.stdout.trim().split('\n').at(-1) ?? '{}'
  const summary = JSON.parse(last) as { rows?: number; files?: number }
  return { ms, rows: summary.rows ?? 0, files: summary.files ?? 0 }
}

/** bench/write-preloaded.ts into `warehouse`, with generate's V8 flags: its own clock around the write alone. */
function preloaded(warehouse: string): Written {
  const r = spawnSync(
    process.execPath,
    [
      ...nodeFlags(0, 'generate'),
      PRELOADED,
      ...['--warehouse', warehouse, '--assets', values.assets, '--days', values.days],
      ...['--interval', values.interval],
    ],
    { encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`write-preloaded exited with ${r.status}: ${r.stderr.slice(-2000)}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Written
}

await ensurePythonEnv()
const work = mkdtempSync(join(tmpdir(), 'cryptoviz-write-peers-'))
const samples = new Map<string, Written[]>()
const record = (name: string, w: Written) => samples.set(name, [...(samples.get(name) ?? []), w])
const loads: string[] = []
try {
  for (let i = 0; i < rounds; i++) {
    loads.push(loadavg()[0]!.toFixed(2))
    const ours = join(work, `ours-${i}`)
    record('ours: cryptoviz generate (simulation included)', generate(join(ours, 'warehouse')))
    const oursPreloaded = join(work, `ours-preloaded-${i}`)
    record('ours: appendColumns (rows preloaded)', preloaded(oursPreloaded))
    rmSync(oursPreloaded, { recursive: true, force: true })
    const source = join(ours, 'warehouse', 'quotes')
    for (const writer of ['delta-rs', 'polars'] as const) {
      const target = join(work, `${writer}-${i}`)
      const label =
        writer === 'delta-rs'
          ? 'delta-rs: write_deltalake (rows preloaded)'
          : 'polars: write_delta (rows preloaded)'
      record(
        label,
        await runPython<Written>(PEER_WRITE, { source, target, writer, partition_by: PARTITION_COLUMNS }),
      )
      rmSync(target, { recursive: true, force: true })
    }
    if (i > 0) rmSync(ours, { recursive: true, force: true })
    process.stderr.write(
      `round ${i + 1}/${rounds}: ${[...samples].map(([n, s]) => `${n.split(':')[0]} ${Math.round(s.at(-1)!.ms)} ms`).join(', ')}\n`,
    )
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const rowsPerSecond = (w: Written): number => Math.round(w.rows / (w.ms / 1000))
const oursMedian = percentile(
  samples.get('ours: cryptoviz generate (simulation included)')!.map(rowsPerSecond),
  50,
)
const table: Table = {
  title: `Writing a partitioned table: ${values.assets} assets × ${values.days} days at ${values.interval} s, ${rounds} interleaved rounds`,
  columns: [
    'writer',
    'rows',
    'files',
    'median s',
    'median rows/s',
    'min rows/s',
    'max rows/s',
    'ours / writer',
  ],
  rows: [...samples].map(([name, s]) => {
    const rates = s.map(rowsPerSecond)
    return [
      name,
      s[0]!.rows,
      s[0]!.files,
      percentile(
        s.map((w) => w.ms / 1000),
        50,
      ),
      percentile(rates, 50),
      Math.min(...rates),
      Math.max(...rates),
      ratio(oursMedian, percentile(rates, 50)),
    ]
  }),
  notes: [
    'ours: a fresh `cryptoviz generate` process, spawn to exit (Node start, simulation, encoding, commits); ours preloaded (bench/write-preloaded.ts): the same rows simulated before the clock, then opening a fresh table and one appendColumns per day (worker + main thread encoding) timed; peers: the write call alone, rows already in memory as an Arrow table / polars frame read from our table.',
    `partitioned by ${PARTITION_COLUMNS.join(', ')} on every writer; Snappy (each writer's default); a new table in a fresh folder per round.`,
    `1-min load average at each round's start: ${loads.join(', ')}.`,
  ],
}
process.stdout.write(`${values.markdown ? formatMarkdown(table) : formatTable(table)}\n`)
