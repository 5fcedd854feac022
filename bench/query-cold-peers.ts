/**
 * `node bench/query-cold-peers.ts [--rounds N] [--baseline CHECKOUT] [--table DIR] [--markdown]`:
 * the cold one-day read of the full-size query table (bench/query.ts builds it under
 * .cache/bench/) in fresh processes, ours beside delta-rs and polars, interleaved round by round
 * in the same run (the machine is shared: drift hits every engine alike), with the load averages.
 *
 * `--baseline` names another checkout of this repository (e.g. `git archive <commit> | tar -x -C
 * DIR` plus a `node_modules` link): its bench/query-cold.ts runs in the same rounds, so "before"
 * and "after" are measured in the same period. Nothing here writes to the table.
 */
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ensurePythonEnv, runPython } from '../test/harness/python.ts'
import { oursCold, PEER_SCRIPT, pyPick, type DayPick } from './query-peers.ts'
import { formatMarkdown, formatTable, percentile, ratio, type Table } from './report.ts'
import { FULL_SIZE_QUOTES_TABLE } from './query-dataset.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    table: { type: 'string', default: FULL_SIZE_QUOTES_TABLE },
    crypto: { type: 'string', default: 'bitcoin' },
    day: { type: 'string', default: '2024-07-01' },
    markdown: { type: 'boolean', default: false },
  },
  strict: true,
})
const tableDir = resolve(values.table)
if (!existsSync(join(tableDir, '_delta_log'))) {
  process.stderr.write(`${tableDir} has no _delta_log: run \`node bench/query.ts\` once to build it\n`)
  process.exit(2)
}
const baselineScript =
  values.baseline === undefined ? undefined : join(resolve(values.baseline), 'bench', 'query-cold.ts')
const rounds = Number(values.rounds)
const pick: DayPick = { crypto: values.crypto, day: Date.parse(`${values.day}T00:00:00Z`) * 1000 }
const args = { path: tableDir, picks: [pyPick(pick)] }

await ensurePythonEnv()
const samples = new Map<string, number[]>()
const rows = new Map<string, number>()
const record = (name: string, r: { ms: number; rows: number }) => {
  samples.set(name, [...(samples.get(name) ?? []), r.ms])
  rows.set(name, r.rows)
}
const loads: string[] = []
for (let i = 0; i < rounds; i++) {
  loads.push(loadavg()[0]!.toFixed(2))
  record(
    'delta-rs',
    await runPython<{ ms: number; rows: number }>(PEER_SCRIPT, { ...args, mode: 'deltars-cold' }),
  )
  record(
    'polars',
    await runPython<{ ms: number; rows: number }>(PEER_SCRIPT, { ...args, mode: 'polars-cold' }),
  )
  record('ours', await oursCold(tableDir, pick))
  if (baselineScript !== undefined) record('ours (baseline)', await oursCold(tableDir, pick, baselineScript))
  process.stderr.write(
    `round ${i + 1}/${rounds}: ${[...samples].map(([n, s]) => `${n} ${Math.round(s.at(-1)!)}`).join(', ')}\n`,
  )
}
const ours = percentile(samples.get('ours')!, 50)
const table: Table = {
  title: `Cold one-day read (${pick.crypto}, ${values.day}) in a fresh process, ${rounds} interleaved rounds`,
  columns: ['engine', 'median ms', 'min ms', 'max ms', 'median / ours', 'rows'],
  rows: [...samples].map(([name, s]) => [
    name,
    percentile(s, 50),
    Math.min(...s),
    Math.max(...s),
    ratio(percentile(s, 50), ours),
    rows.get(name) ?? null,
  ]),
  notes: [
    'cold: the clock starts after the imports (Python and Node alike): opening the table (reading its log) plus the first read, OS file cache warm.',
    `1-min load average at each round's start: ${loads.join(', ')}.`,
  ],
}
process.stdout.write(`${values.markdown ? formatMarkdown(table) : formatTable(table)}\n`)
