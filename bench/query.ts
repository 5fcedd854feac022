/**
 * `node bench/query.ts [--quick] [--runs N] [--cases a,b] [--skip-peers] [--skip-http] [--skip-glob] [--json out.json]`:
 * the query engine beside DuckDB reading the same Parquet files by hive glob, delta-rs and polars
 * (bench/query-peers.ts) and the same reads over HTTP (bench/query-http.ts), in the same run, on a
 * generated table.
 *
 * Dataset: 100 assets × 365 days at 60 s (≈52.6M rows; --quick: 20 assets × 30 days), written by
 * `generateHistory` (one commit per day, one file per asset per day) into a warehouse cached
 * under .cache/bench/ (reused when complete; a `complete.json` marker is written last). Nothing in
 * this benchmark writes to a cached table.
 *
 * Each query runs `runs` times after warm-up runs, engine and glob interleaved (the machine is
 * shared, so drift hits both sides alike), over the same seeded list of assets and days. Both
 * sides run in an identically configured DuckDB (parquet metadata cache on); the glob side gets
 * the hive partition filters a careful user would write. The market overview and recent candles
 * run as `start` and `serve` answer them (the maintained market state; its first build is timed
 * on its own), and the overview also by scanning.
 *
 * Cases (--cases): one-day, thirty-days, candles-year, recent-candles, latest, latest-scan.
 * `--skip-glob` times the engine alone (no DuckDB glob runs between its runs).
 *
 * The JSON (`--json`) holds `tables` (bench/report.ts shape) and `metrics`
 * (`one_day_read_p50_ms`, `one_day_read_glob_p50_ms`, `dashboard_p50_ms`, …) for bench/run.ts.
 */
import { mulberry32 } from '../src/sources/mulberry32.ts'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateHistory, type GenerateResult } from '../src/cli/generate.ts'
import { QUOTE_FIELDS, quoteFieldsOfType } from '../src/model/quote.ts'
import { DuckDb, QueryEngine, sqlString } from '../src/query/index.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { measureHttp } from './query-http.ts'
import { FULL_SIZE_SHAPE, queryDatasetDir, type DatasetShape } from './query-dataset.ts'
import { measurePeers } from './query-peers.ts'
import { formatTable, percentile, ratio, timeRuns, type Table } from './report.ts'

const DAY = 86_400_000_000
const HOUR = 3_600_000_000
const WEEK = 7 * DAY
/** 2024-01-01T00:00:00Z: the generated range is [START, START + days). */
const START = Date.UTC(2024, 0, 1) * 1000

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    json: { type: 'string' },
    cases: { type: 'string' },
    'skip-peers': { type: 'boolean', default: false },
    'skip-http': { type: 'boolean', default: false },
    'skip-glob': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
})
if (values.help) {
  process.stdout.write(
    'Usage: node bench/query.ts [--quick] [--runs N] [--cases a,b] [--skip-peers] [--skip-http] [--skip-glob] [--json FILE]\n',
  )
  process.exit(0)
}

const shape: DatasetShape = values.quick ? { assets: 20, days: 30, intervalSeconds: 60 } : FULL_SIZE_SHAPE
const runs = values.runs === undefined ? (values.quick ? 30 : 50) : Number(values.runs)
const WARMUP = 3
const end = START + shape.days * DAY

const dir = queryDatasetDir(shape)
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
// The overview by scanning the window files, as time travel (and a server without the state) does.
const scanEngine = new QueryEngine({ table: warehouse.quotes, duckdb: engineDb, maintainedOverview: false })
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
  id: CaseId
  name: string
  engine: (run: number) => Promise<number>
  /** The same query as a careful DuckDB user writes it over the hive glob; none: not compared. */
  glob?: (run: number) => Promise<void>
  globFilters: string
  /** Key of the case's figures in `metrics` (`<metric>_p50_ms`, `<metric>_glob_p50_ms`). */
  metric: string
}

const CASE_IDS = [
  'one-day',
  'thirty-days',
  'candles-year',
  'recent-candles',
  'latest',
  'latest-scan',
] as const
type CaseId = (typeof CASE_IDS)[number]
const chosen = values.cases === undefined ? [...CASE_IDS] : values.cases.split(',').map((c) => c.trim())
const unknownCases = chosen.filter((c) => !(CASE_IDS as readonly string[]).includes(c))
if (unknownCases.length > 0) {
  process.stderr.write(`unknown case(s): ${unknownCases.join(', ')}; cases are ${CASE_IDS.join(', ')}\n`)
  process.exit(2)
}

const candlesSql = (crypto: string, where: string): string => {
  const key = `{'t': ts, 's': source, 'p': price_usd}`
  return `SELECT (epoch_us(ts) // ${HOUR}) * ${HOUR} AS bucket, arg_min(price_usd, ${key}) AS open,
      max(price_usd) AS high, min(price_usd) AS low, arg_max(price_usd, ${key}) AS close,
      arg_max_null(volume_24h_usd, ${key}) AS volume, count(*) AS n
    FROM ${hive} WHERE crypto = '${crypto}'${where} GROUP BY bucket ORDER BY bucket`
}

const latestGlob = async (): Promise<void> => {
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
}

const allCases: Case[] = [
  {
    id: 'one-day',
    name: 'one asset, one day (all columns)',
    metric: 'one_day_read',
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
    id: 'thirty-days',
    name: 'one asset, 30 days (ts, price)',
    metric: 'thirty_day_read',
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
    id: 'candles-year',
    name: '1h candles, whole range',
    metric: 'candles_1h_full',
    engine: async (run) => (await engine.candles({ crypto: pick(run).crypto, interval: '1h' })).files_scanned,
    glob: async (run) => void (await globDb.all(candlesSql(pick(run).crypto, ''))),
    globFilters: 'crypto',
  },
  {
    id: 'recent-candles',
    name: '1h candles, last 7 days (maintained state)',
    metric: 'candles_1h_7d',
    engine: async (run) =>
      (await engine.candles({ crypto: pick(run).crypto, interval: '1h', start: end - WEEK, end: end - 1 }))
        .files_scanned,
    glob: async (run) =>
      void (await globDb.all(
        candlesSql(pick(run).crypto, ` AND ts BETWEEN ${ts(end - WEEK)} AND ${ts(end - 1)}`),
      )),
    globFilters: 'crypto, ts',
  },
  {
    id: 'latest',
    name: 'latest (market overview, 100 rows, maintained state)',
    metric: 'dashboard',
    engine: async () => (await engine.latest({ limit: 100 })).files_scanned,
    glob: latestGlob,
    globFilters: 'ts ≥ newest day − 8 days',
  },
  {
    id: 'latest-scan',
    name: 'latest (market overview, 100 rows, scan)',
    metric: 'dashboard_scan',
    engine: async () => (await scanEngine.latest({ limit: 100 })).files_scanned,
    globFilters: '(glob: see the row above)',
  },
]
// --skip-glob: the engine alone (the glob's multi-second scans between its runs also expire the
// engine's one-second snapshot reuse, so each engine run then includes a log listing).
const cases = allCases
  .filter((c) => chosen.includes(c.id))
  .map((c) => (values['skip-glob'] ? { ...c, glob: undefined } : c))

const rows: Table['rows'] = []
const metrics: Record<string, number | null> = {}
const engineSamples = new Map<CaseId, number[]>()
let stateBuildMs: number | undefined
if (cases.some((c) => c.id === 'latest' || c.id === 'recent-candles')) {
  // The maintained market state is built by the first overview or recent-candles read: timed alone.
  const t = performance.now()
  await engine.latest({ limit: 100 })
  stateBuildMs = performance.now() - t
  metrics['market_state_build_ms'] = stateBuildMs
  log(`market state built in ${stateBuildMs.toFixed(0)} ms`)
}
for (const c of cases) {
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
      if (!c.glob) return
      t = performance.now()
      await c.glob(run)
      if (run >= 0) globMs.push(performance.now() - t)
    },
    WARMUP,
  )
  engineSamples.set(c.id, engineMs)
  const e50 = percentile(engineMs, 50)
  const g50 = c.glob ? percentile(globMs, 50) : null
  rows.push([
    c.name,
    e50,
    percentile(engineMs, 95),
    g50,
    c.glob ? percentile(globMs, 95) : null,
    ratio(g50, e50),
    scanned,
    c.globFilters,
  ])
  metrics[`${c.metric}_p50_ms`] = e50
  metrics[`${c.metric}_glob_p50_ms`] = g50
}
metrics['dashboard_p50_ms'] = metrics['dashboard_p50_ms'] ?? null
metrics['query_dataset_rows'] = made.generated.rows
metrics['query_dataset_generate_s'] = made.seconds

const fileCount = snapshot.files().length
const tables: Table[] = [
  {
    title: `Query engine vs DuckDB hive glob — ${shape.assets} assets × ${shape.days} days at ${shape.intervalSeconds} s (${made.generated.rows.toLocaleString('en-US')} rows, ${fileCount.toLocaleString('en-US')} files), ${runs} runs each`,
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
      `engine: snapshot pruning (partition index + stats) → read_parquet([explicit files]); glob: read_parquet('<table>/year=*/month=*/day=*/source=*/crypto=*/*.parquet', hive_partitioning=true) + filters (a bare **/*.parquet also matches _delta_log checkpoints)`,
      'both sides: one DuckDB instance each, default threads, parquet_metadata_cache on, warm (3 untimed runs first)',
      stateBuildMs === undefined
        ? ''
        : `maintained market state: first build (the first overview read) ${stateBuildMs.toFixed(0)} ms, not in the p50s; it then follows each new version from the new files only`,
      `dataset generated in ${made.seconds.toFixed(1)} s (cached under .cache/bench/)`,
    ].filter((n) => n !== ''),
  },
]

// Peers and HTTP read the same asset-days as the engine's one-day runs.
const dayPicks = Array.from({ length: runs }, (_, run) => ({ crypto: pick(run).crypto, day: pick(run).day }))
const oneDay = engineSamples.get('one-day')
if (!values['skip-http']) {
  const http = await measureHttp(dir, dayPicks, { end, warmup: WARMUP, runs, log })
  metrics['http_one_day_read_p50_ms'] = percentile(http.oneDay, 50)
  metrics['http_latest_first_ms'] = http.latestFirst
  metrics['http_market_state_build_ms'] = http.stateBuildMs
  metrics['http_latest_p50_ms'] = percentile(http.latest, 50)
  metrics['http_candles_1h_7d_p50_ms'] = percentile(http.recentCandles, 50)
  const httpRow = (name: string, ms: readonly number[], inProcess: readonly number[] | undefined) => [
    name,
    percentile(ms, 50),
    percentile(ms, 95),
    inProcess ? percentile(inProcess, 50) : null,
  ]
  tables.push({
    title: `The same reads over HTTP (cryptoviz serve, loopback), ${runs} requests each`,
    columns: ['request', 'p50 ms', 'p95 ms', 'in-process p50 ms'],
    rows: [
      httpRow('GET /api/v1/quotes, one asset-day (1,440 rows)', http.oneDay, oneDay),
      [
        'market state build at server start (its log line)',
        http.stateBuildMs,
        null,
        metrics['market_state_build_ms'] ?? null,
      ],
      ['GET /api/v1/latest, first request', http.latestFirst, null, null],
      httpRow('GET /api/v1/latest (100 rows, sparklines)', http.latest, engineSamples.get('latest')),
      httpRow('GET /api/v1/candles 1h, last 7 days', http.recentCandles, engineSamples.get('recent-candles')),
    ],
    notes: [
      'One request at a time from this process (fetch); the server is a separate `cryptoviz serve` process over the same table (read-only, no broker).',
      `first one-day response: ${http.oneDayRows} rows`,
    ],
  })
}
if (!values['skip-peers']) {
  try {
    const peers = await measurePeers(tableDir, dayPicks, {
      coldRuns: values.quick ? 2 : 3,
      filterReps: 2,
      log,
    })
    const median = (ms: readonly number[]): number | null => (ms.length === 0 ? null : percentile(ms, 50))
    const ours = oneDay ? percentile(oneDay, 50) : null
    const oursCold = median(peers.oursCold)
    metrics['one_day_read_cold_ms'] = oursCold
    metrics['deltars_one_day_warm_p50_ms'] = median(peers.deltaRsWarm)
    metrics['deltars_one_day_filters_warm_p50_ms'] = median(peers.deltaRsFiltersWarm)
    metrics['deltars_one_day_cold_ms'] = median(peers.deltaRsCold)
    metrics['polars_one_day_cold_ms'] = median(peers.polarsCold)
    const row = (engineName: string, how: string, warm: number | null, cold: number | null, n: string) => [
      engineName,
      how,
      warm,
      ratio(warm, ours),
      cold,
      ratio(cold, oursCold),
      n,
    ]
    tables.push({
      title: 'One asset, one day: CryptoViz beside delta-rs and polars on the same table and asset-days',
      columns: ['engine', 'how', 'warm p50 ms', 'warm / ours', 'cold median ms', 'cold / ours', 'samples'],
      rows: [
        row(
          'CryptoViz',
          'QueryEngine.readRange (in-process)',
          ours,
          oursCold,
          `${runs} warm, ${peers.oursCold.length} cold`,
        ),
        row(
          'delta-rs 1.6.6',
          'to_pyarrow_table(partitions=[year, month, day, crypto])',
          median(peers.deltaRsWarm),
          median(peers.deltaRsCold),
          `${peers.deltaRsWarm.length} warm, ${peers.deltaRsCold.length} cold`,
        ),
        row(
          'delta-rs 1.6.6',
          'to_pyarrow_table(filters=[year, month, day, crypto])',
          median(peers.deltaRsFiltersWarm),
          null,
          `${peers.deltaRsFiltersWarm.length} warm`,
        ),
        row(
          'polars 2.1.0',
          'scan_delta().filter(year, month, day, crypto).collect()',
          null,
          median(peers.polarsCold),
          `${peers.polarsCold.length} cold`,
        ),
        row(
          'DuckDB (hive glob)',
          'read_parquet(glob, hive_partitioning) + filters',
          metrics['one_day_read_glob_p50_ms'] ?? null,
          null,
          `${runs} warm`,
        ),
      ],
      notes: [
        'warm: table opened once, then one read per asset-day; cold: a fresh process opens the table (reads its log) and reads once, the clock started after the imports (bench/query-cold.ts for ours).',
        'Ours returns JS objects sorted by (ts, source); delta-rs and polars return Arrow tables / data frames in file order.',
        `delta-rs read ${peers.rows} rows for the first asset-day.`,
      ],
    })
  } catch (e) {
    log(`peers not measured: ${(e as Error).message.split('\n')[0]}`)
  }
}
for (const t of tables) process.stdout.write(`${formatTable(t)}\n`)
if (values.json !== undefined) {
  writeFileSync(values.json, JSON.stringify({ tables, metrics, dataset: { ...shape, ...made } }, null, 2))
}
engine.close()
scanEngine.close()
engineDb.close()
globDb.close()
