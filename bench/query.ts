/**
 * `node bench/query.ts [--quick] [--runs N] [--json out.json]`: the query engine beside DuckDB
 * reading the same Parquet files by hive glob, in the same run, on a generated table.
 *
 * Dataset: 100 assets × 365 days at 60 s (≈52.6M rows; --quick: 20 assets × 30 days), written by
 * `generateHistory` (one commit per day, one file per asset per day) into a warehouse cached
 * under .cache/bench/ (reused when complete; a `complete.json` marker is written last).
 *
 * Each query runs `runs` times after warm-up runs, engine and glob interleaved (the machine is
 * shared, so drift hits both sides alike), over the same seeded list of assets and days. Both
 * sides run in an identically configured DuckDB (parquet metadata cache on); the glob side gets
 * the hive partition filters a careful user would write.
 *
 * The JSON (`--json`) holds `tables` (bench/report.ts shape) and `metrics`
 * (`one_day_read_p50_ms`, `one_day_read_glob_p50_ms`, `dashboard_p50_ms`, …) for bench/run.ts.
 */
import { mulberry32 } from '../src/sources/mulberry32.ts'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateHistory, type GenerateResult } from '../src/cli/generate.ts'
import { QUOTE_FIELDS, quoteFieldsOfType } from '../src/model/quote.ts'
import { DuckDb, QueryEngine, sqlString } from '../src/query/index.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { formatTable, percentile, ratio, timeRuns, type Table } from './report.ts'

const DAY = 86_400_000_000
const HOUR = 3_600_000_000
/** 2024-01-01T00:00:00Z: the generated range is [START, START + days). */
const START = Date.UTC(2024, 0, 1) * 1000

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
})
if (values.help) {
  process.stdout.write('Usage: node bench/query.ts [--quick] [--runs N] [--json FILE]\n')
  process.exit(0)
}

const shape = values.quick
  ? { assets: 20, days: 30, intervalSeconds: 60 }
  : { assets: 100, days: 365, intervalSeconds: 60 }
const runs = values.runs === undefined ? (values.quick ? 30 : 50) : Number(values.runs)
const WARMUP = 3
const end = START + shape.days * DAY

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)))
const dir = join(
  repoRoot,
  '.cache',
  'bench',
  `query-${shape.assets}a-${shape.days}d-${shape.intervalSeconds}s`,
)
const log = (m: string): void => void process.stderr.write(`${m}\n`)

interface Marker {
  generated: GenerateResult
  seconds: number
}

async function dataset(): Promise<Marker> {
  const marker = join(dir, 'complete.json')
  if (existsSync(marker)) {
    log(`reusing ${dir}`)
    return JSON.parse(readFileSync(marker, 'utf8')) as Marker
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  log(`generating ${shape.assets} assets × ${shape.days} days at ${shape.intervalSeconds} s into ${dir}`)
  const started = performance.now()
  const w = await openWarehouse(new LocalStore(dir))
  let lastPct = -1
  const generated = await generateHistory(
    w.quotes,
    { ...shape, seed: 42, end, compression: 'snappy' },
    ({ done, total }) => {
      const pct = Math.floor((done / total) * 100)
      if (pct !== lastPct && pct % 5 === 0) log(`  ${pct}%`)
      lastPct = pct
    },
  )
  const result = { generated, seconds: (performance.now() - started) / 1000 }
  writeFileSync(marker, JSON.stringify(result))
  return result
}

const made = await dataset()
const warehouse = await openWarehouse(new LocalStore(dir))
const tableDir = warehouse.quotesStore.localPath('')!
// Not `**/*.parquet`: that would also match the log's checkpoint files (and never knows which
// data files a later commit removed, which is why the engine asks the snapshot instead).
const glob = sqlString(join(tableDir, 'year=*', 'month=*', 'day=*', 'source=*', 'crypto=*', '*.parquet'))
const engineDb = await DuckDb.open({ poolSize: 2 })
const globDb = await DuckDb.open({ poolSize: 2 })
const engine = new QueryEngine({ table: warehouse.quotes, duckdb: engineDb })
const snapshot = await engine.snapshot()
const cryptos = [...new Set(snapshot.files().map((f) => f.partitionValues['crypto']!))].sort()

// mulberry32, so both sides read the same assets and days in every run of the benchmark.
const rng = mulberry32(7)
const picks = Array.from({ length: runs + WARMUP }, () => ({
  crypto: cryptos[Math.floor(rng() * cryptos.length)]!,
  day: START + Math.floor(rng() * shape.days) * DAY,
  month: START + Math.floor(rng() * Math.max(1, shape.days - 29)) * DAY,
}))
const pick = (run: number): (typeof picks)[number] => picks[run < 0 ? -1 - run : WARMUP + run]!

const ts = (us: number): string => `TIMESTAMPTZ '${new Date(us / 1000).toISOString()}'`
const datePart = (us: number): { year: string; month: string; day: string } => {
  const d = new Date(us / 1000).toISOString()
  return { year: d.slice(0, 4), month: d.slice(5, 7), day: d.slice(8, 10) }
}
const TIMES = new Set(quoteFieldsOfType('timestamp'))
const fields = QUOTE_FIELDS.map((f) => (TIMES.has(f) ? `epoch_us(${f}) AS ${f}` : f)).join(', ')
const hive = `read_parquet(${glob}, hive_partitioning = true)`

interface Case {
  name: string
  engine: (run: number) => Promise<number>
  glob: (run: number) => Promise<void>
  globFilters: string
}

const cases: Case[] = [
  {
    name: 'one asset, one day (all columns)',
    engine: async (run) => {
      const p = pick(run)
      return (await engine.readRange({ crypto: p.crypto, start: p.day, end: p.day + DAY - 1 })).files_scanned
    },
    glob: async (run) => {
      const p = pick(run)
      const d = datePart(p.day)
      await globDb.all(
        `SELECT ${fields} FROM ${hive} WHERE crypto = '${p.crypto}' AND year = '${d.year}' AND month = '${d.month}'
           AND day = '${d.day}' AND ts BETWEEN ${ts(p.day)} AND ${ts(p.day + DAY - 1)} ORDER BY ts, source`,
      )
    },
    globFilters: 'crypto, year, month, day, ts',
  },
  {
    name: 'one asset, 30 days (ts, price)',
    engine: async (run) => {
      const p = pick(run)
      const r = await engine.readRange({
        crypto: p.crypto,
        start: p.month,
        end: p.month + 30 * DAY - 1,
        columns: ['ts', 'price_usd'],
      })
      return r.files_scanned
    },
    glob: async (run) => {
      const p = pick(run)
      await globDb.all(
        `SELECT epoch_us(ts) AS ts, price_usd FROM ${hive} WHERE crypto = '${p.crypto}'
           AND ts BETWEEN ${ts(p.month)} AND ${ts(p.month + 30 * DAY - 1)} ORDER BY ts, source`,
      )
    },
    globFilters: 'crypto, ts',
  },
  {
    name: '1h candles, whole range',
    engine: async (run) => (await engine.candles({ crypto: pick(run).crypto, interval: '1h' })).files_scanned,
    glob: async (run) => {
      const key = `{'t': ts, 's': source, 'p': price_usd}`
      await globDb.all(
        `SELECT (epoch_us(ts) // ${HOUR}) * ${HOUR} AS bucket, arg_min(price_usd, ${key}) AS open,
           max(price_usd) AS high, min(price_usd) AS low, arg_max(price_usd, ${key}) AS close,
           arg_max_null(volume_24h_usd, ${key}) AS volume, count(*) AS n
         FROM ${hive} WHERE crypto = '${pick(run).crypto}' GROUP BY bucket ORDER BY bucket`,
      )
    },
    globFilters: 'crypto',
  },
  {
    name: 'latest (market overview, 100 rows)',
    engine: async () => (await engine.latest({ limit: 100 })).files_scanned,
    glob: async () => {
      await globDb.all(
        `WITH src AS MATERIALIZED (SELECT ${fields} FROM ${hive} WHERE ts >= ${ts(end - 8 * DAY)}),
          last AS (SELECT source, crypto, max(ts) AS l FROM src GROUP BY ALL),
          win AS (SELECT s.*, last.l FROM src s JOIN last USING (source, crypto) WHERE s.ts >= last.l - ${7 * DAY}),
          hours AS (SELECT source, crypto, ts // ${HOUR} AS h, arg_max(price_usd, {'t': ts, 'p': price_usd}) AS p
            FROM win GROUP BY ALL),
          spark AS (SELECT source, crypto, list(h ORDER BY h) AS hs, list(p ORDER BY h) AS ps FROM hours GROUP BY ALL),
          agg AS (SELECT source, crypto, any_value(l) AS l, arg_max(price_usd, ts) AS price,
              ${[HOUR, DAY, 7 * DAY]
                .map(
                  (p, i) =>
                    `arg_min(price_usd, ts) FILTER (WHERE ts >= l - ${p}) AS b${i}, min(ts) FILTER (WHERE ts >= l - ${p}) AS t${i}`,
                )
                .join(', ')}
            FROM win GROUP BY ALL)
        SELECT agg.*, spark.hs, spark.ps FROM agg JOIN spark USING (source, crypto)`,
      )
    },
    globFilters: 'ts ≥ newest day − 8 days',
  },
]

const rows: Table['rows'] = []
const metrics: Record<string, number | null> = {}
const metricNames = ['one_day_read', 'thirty_day_read', 'candles_1h_full', 'dashboard']
for (const [i, c] of cases.entries()) {
  log(`running: ${c.name}`)
  const engineMs: number[] = []
  const globMs: number[] = []
  let scanned = 0
  // Interleaved: one engine run, then one glob run, with the same pick.
  await timeRuns(
    runs,
    async (run) => {
      let t = performance.now()
      scanned = await c.engine(run)
      if (run >= 0) engineMs.push(performance.now() - t)
      t = performance.now()
      await c.glob(run)
      if (run >= 0) globMs.push(performance.now() - t)
    },
    WARMUP,
  )
  const e50 = percentile(engineMs, 50)
  const g50 = percentile(globMs, 50)
  rows.push([
    c.name,
    e50,
    percentile(engineMs, 95),
    g50,
    percentile(globMs, 95),
    ratio(g50, e50),
    scanned,
    c.globFilters,
  ])
  metrics[`${metricNames[i]}_p50_ms`] = e50
  metrics[`${metricNames[i]}_glob_p50_ms`] = g50
}
metrics['dashboard_p50_ms'] = metrics['dashboard_p50_ms'] ?? null
metrics['query_dataset_rows'] = made.generated.rows
metrics['query_dataset_generate_s'] = made.seconds

const table: Table = {
  title: `Query engine vs DuckDB hive glob — ${shape.assets} assets × ${shape.days} days at ${shape.intervalSeconds} s (${made.generated.rows.toLocaleString('en-US')} rows, ${snapshot.files().length.toLocaleString('en-US')} files), ${runs} runs each`,
  columns: [
    'query',
    'engine p50 ms',
    'engine p95 ms',
    'glob p50 ms',
    'glob p95 ms',
    'glob/engine',
    'files scanned',
    'glob filters',
  ],
  rows,
  notes: [
    `engine: snapshot pruning (partitions + stats) → read_parquet([explicit files]); glob: read_parquet('<table>/year=*/month=*/day=*/source=*/crypto=*/*.parquet', hive_partitioning=true) + filters (a bare **/*.parquet also matches _delta_log checkpoints)`,
    'both sides: one DuckDB instance each, default threads, parquet_metadata_cache on, warm (3 untimed runs first)',
    `dataset generated in ${made.seconds.toFixed(1)} s (cached under .cache/bench/)`,
  ],
}
process.stdout.write(`${formatTable(table)}\n`)
if (values.json !== undefined) {
  writeFileSync(
    values.json,
    JSON.stringify({ tables: [table], metrics, dataset: { ...shape, ...made } }, null, 2),
  )
}
engine.close()
engineDb.close()
globDb.close()
