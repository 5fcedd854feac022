#!/usr/bin/env node
/**
 * The `cryptoviz` command. This is the only module that reads `process.env`: it turns flags,
 * environment and config file into one validated `Config` and hands it down.
 */
import { parseArgs } from 'node:util'
import { pino, type Logger } from 'pino'
import { isPretty, prettyDestination } from './log-lines.ts'
import { loadConfig, redactedConfig, settingsMarkdown, type Config } from '../config/config.ts'
import { SETTINGS } from '../config/settings.ts'
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import { timeParam, parseParams, slugListParam } from '../params/params.ts'
import { slugSchema } from '../model/quote.ts'
import { progress } from './progress.ts'
import { z } from 'zod'

const USAGE = `Usage: cryptoviz <command> [options]

Commands:
  start      Run the whole pipeline in one process (in-process bus, or Kafka with --broker HOST:PORT)
  collect    Sources → Kafka topic:  --broker HOST:PORT [--source …]
  process    Kafka consumer group → lake, exactly once:  --broker HOST:PORT --warehouse DIR [--group NAME]
  serve      API, dashboard and live stream:  --warehouse DIR [--broker HOST:PORT] (read-only without a broker)
  generate   Write deterministic simulated history:  --warehouse DIR --assets N --days D --interval SECONDS --seed S [--end ISO] [--commit-every SECONDS]
  query      Print one asset's quotes:  --warehouse DIR --crypto C [--start T] [--end T] [--sources a,b] [--limit N] [--format json|csv]
  backfill   CoinGecko history into the lake, idempotent and resumable:  --crypto bitcoin,ethereum --days 365
  gaps       Report silences longer than --factor (3) × --interval-ms (60000) per source and crypto  [--crypto] [--sources] [--start] [--end]
  optimize   Compact small files per partition (dataChange=false):  [--where "day >= '2024-05-01'"] [--target-file-size 128MB]
  vacuum     Delete files no retained version references:  [--retain 168h] [--dry-run] [--force]
  check      Verify a warehouse's tables: log contiguous, every live file present with its size; orphans listed
  config     Print the configuration table (--markdown) or the effective configuration

Every option also reads its CRYPTOVIZ_* environment variable; \`cryptoviz <command> --help\` lists a command's options.`

const settingFlags = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }]))

function parse(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  return parseArgs({
    args: argv,
    options: { ...settingFlags, config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...extra },
    allowPositionals: false,
    strict: true,
  })
}

function configFrom(values: Record<string, unknown>): Readonly<Config> {
  const flags: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string') flags[k] = v
  return loadConfig({ flags, env: process.env })
}

const stderrLogger = (level: Config['logLevel']): Logger => pino({ level }, pino.destination(2))

function roleCommand(command: 'start' | 'collect' | 'process' | 'serve') {
  return async (argv: string[]): Promise<void> => {
    const { values } = parse(argv)
    const config = configFrom(values)
    const tty = process.stdout.isTTY
    // Human-readable lines on a terminal, JSON when piped or when asked (--log-format).
    const logger = isPretty(config.logFormat, tty)
      ? pino(
          { level: config.logLevel },
          prettyDestination(process.stdout, tty && !('NO_COLOR' in process.env)),
        )
      : pino({ level: config.logLevel })
    const { runRoles } = await import('./roles.ts')
    await runRoles(command, config, logger)
  }
}

async function generate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    assets: { type: 'string' },
    days: { type: 'string' },
    interval: { type: 'string' },
    seed: { type: 'string' },
    end: { type: 'string' },
    'commit-every': { type: 'string' },
  })
  const config = configFrom(values)
  const o = parseParams(
    z.object({
      'commit-every': z.coerce.number().int().min(1).max(86_400).optional(),
      assets: z.coerce.number().int().min(1).max(10_000).default(50),
      days: z.coerce.number().positive().max(3_650).default(7),
      interval: z.coerce.number().int().min(1).max(86_400).default(60),
      seed: z.coerce.number().int().default(42),
      end: timeParam.optional(),
    }),
    values,
  )
  const step = o.interval * 1_000_000
  const end = o.end ?? Math.floor((Date.now() * 1000) / step) * step
  const logger = stderrLogger(config.logLevel)
  const [{ openWarehouse }, { openWarehouseStore }, { generateHistory }] = await Promise.all([
    import('../runtime/warehouse.ts'),
    import('../runtime/store.ts'),
    import('./generate.ts'),
  ])
  const warehouse = await openWarehouse(await openWarehouseStore(config, { write: true }))
  const total = Math.ceil((o.days * 86_400) / o.interval) * o.assets
  const bar = progress('generate', total)
  const started = performance.now()
  const result = await generateHistory(
    warehouse.quotes,
    {
      assets: o.assets,
      days: o.days,
      intervalSeconds: o.interval,
      seed: o.seed,
      end,
      compression: config.lake.compression,
      memoryLimitMb: config.memoryLimitMb,
      ...(o['commit-every'] !== undefined && { commitEverySeconds: o['commit-every'] }),
    },
    ({ done }) => bar.update(done * o.assets),
  )
  bar.stop()
  const secs = (performance.now() - started) / 1000
  logger.info(
    { ...result, seconds: Number(secs.toFixed(2)), rows_per_s: Math.round(result.rows / secs) },
    'generated simulated history',
  )
  process.stdout.write(
    `${JSON.stringify({ rows: result.rows, commits: result.commits, files: result.files, bytes: result.bytes, seconds: Number(secs.toFixed(2)) })}\n`,
  )
}

async function query(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    crypto: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    sources: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
  })
  const config = configFrom(values)
  const q = parseParams(
    z.object({
      crypto: slugSchema,
      start: timeParam.optional(),
      end: timeParam.optional(),
      sources: z.string().optional(),
      limit: z.coerce.number().int().positive().optional(),
      format: z.enum(['json', 'csv']).default('json'),
    }),
    values,
  )
  const [
    { openWarehouseForReading },
    { openReadCache, openWarehouseStore },
    { DuckDb },
    { QueryEngine },
    { writeRows },
  ] = await Promise.all([
    import('../runtime/warehouse.ts'),
    import('../runtime/store.ts'),
    import('../query/duckdb.ts'),
    import('../query/engine.ts'),
    import('./output.ts'),
  ])
  const store = await openWarehouseStore(config, { write: false })
  const warehouse = await openWarehouseForReading(store, { statsPacking: 'background' })
  const duckdb = await DuckDb.open()
  try {
    const engine = new QueryEngine({
      table: warehouse.quotes,
      duckdb,
      readCache: openReadCache(config),
    })
    const result = await engine.readRange({
      crypto: q.crypto,
      ...(q.start !== undefined && { start: q.start }),
      ...(q.end !== undefined && { end: q.end }),
      ...(q.sources !== undefined && { sources: q.sources.split(',') }),
      ...(q.limit !== undefined && { limit: q.limit }),
    })
    await writeRows(process.stdout, result.rows, q.format)
    stderrLogger(config.logLevel).info(
      { rows: result.rows.length, version: result.version, files_scanned: result.files_scanned },
      'query done',
    )
  } finally {
    duckdb.close()
  }
}

async function check(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' } })
  const config = configFrom(values)
  const [{ checkTable }, { openWarehouseStore }, { QUOTES_TABLE }, { DEAD_LETTERS_TABLE }] =
    await Promise.all([
      import('../lake/index.ts'),
      import('../runtime/store.ts'),
      import('../model/quote-table.ts'),
      import('../model/dead-letter-table.ts'),
    ])
  const store = await openWarehouseStore(config, { write: false })
  let healthy = true
  const reports: Record<string, unknown> = {}
  for (const table of [QUOTES_TABLE, DEAD_LETTERS_TABLE]) {
    const report = await checkTable(store.child(table))
    reports[table] = report
    healthy &&= report.ok
    if ((values as Record<string, unknown>)['json'] === true) continue
    process.stdout.write(
      `${report.ok ? 'OK     ' : 'DAMAGED'} ${table}: version ${report.version ?? '-'}, ${report.commits} commits, ` +
        `${report.checkpoints} checkpoints, ${report.liveFiles} live files (${report.liveBytes} bytes), ` +
        `${report.rows ?? '?'} rows, ${report.orphans.length} orphan files\n`,
    )
    for (const p of report.problems) process.stdout.write(`  problem: ${p.message}\n`)
    for (const o of report.orphans) process.stdout.write(`  orphan: ${o.path} (${o.size} bytes)\n`)
  }
  if ((values as Record<string, unknown>)['json'] === true)
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`)
  if (!healthy) process.exitCode = 1
}

async function backfillCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    crypto: { type: 'string' },
    days: { type: 'string' },
    end: { type: 'string' },
  })
  const config = configFrom(values)
  if (config.source !== 'coingecko' && config.source !== 'auto') {
    throw new CryptoVizError('INVALID_ARGUMENT', 'backfill reads CoinGecko history: use --source coingecko', {
      kind: 'user',
    })
  }
  const o = parseParams(
    z.object({
      crypto: slugListParam,
      days: z.coerce.number().positive().max(3_650).default(365),
      end: timeParam.optional(),
    }),
    values,
  )
  const { runBackfill } = await import('./backfill.ts')
  const ok = await runBackfill(
    config,
    { cryptos: o.crypto, days: o.days, ...(o.end !== undefined && { end: Math.floor(o.end / 1000) }) },
    stderrLogger(config.logLevel),
  )
  if (!ok) process.exitCode = 1
}

async function gapsCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    crypto: { type: 'string' },
    sources: { type: 'string' },
    'interval-ms': { type: 'string' },
    factor: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    json: { type: 'boolean' },
  })
  const config = configFrom(values)
  const o = parseParams(
    z.object({
      crypto: slugListParam.optional(),
      sources: slugListParam.optional(),
      'interval-ms': z.coerce.number().int().positive().default(60_000),
      factor: z.coerce.number().min(1).default(3),
      start: timeParam.optional(),
      end: timeParam.optional(),
      json: z.boolean().optional(),
    }),
    values,
  )
  const { runGaps, formatGap } = await import('./gaps.ts')
  const gaps = await runGaps(config, {
    ...(o.crypto && { cryptos: o.crypto }),
    ...(o.sources && { sources: o.sources }),
    intervalMs: o['interval-ms'],
    factor: o.factor,
    ...(o.start !== undefined && { start: o.start }),
    ...(o.end !== undefined && { end: o.end }),
  })
  if (o.json === true) process.stdout.write(`${JSON.stringify(gaps)}\n`)
  else {
    for (const g of gaps) process.stdout.write(`${formatGap(g)}\n`)
    process.stderr.write(`${gaps.length} gap(s)\n`)
  }
}

async function optimizeCommand(argv: string[]): Promise<void> {
  const parsed = parse(argv, { where: { type: 'string' }, 'target-file-size': { type: 'string' } })
  const config = configFrom(parsed.values)
  const values = parsed.values as Record<string, unknown>
  const { runOptimize, parseSize } = await import('./maintenance.ts')
  const size = values['target-file-size']
  const started = performance.now()
  const r = await runOptimize(config, {
    ...(typeof values['where'] === 'string' && { where: values['where'] }),
    ...(typeof size === 'string' && { targetFileSize: parseSize(size) }),
  })
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(
    `${JSON.stringify({ ...r, versions: r.versions.length, seconds: Number(seconds.toFixed(2)) })}\n`,
  )
  if (r.partitionsAbandoned > 0) process.exitCode = 1
}

async function vacuumCommand(argv: string[]): Promise<void> {
  const parsed = parse(argv, {
    retain: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
  })
  const config = configFrom(parsed.values)
  const values = parsed.values as Record<string, unknown>
  const { runVacuum, parseDuration } = await import('./maintenance.ts')
  const retain = values['retain']
  const r = await runVacuum(config, {
    ...(typeof retain === 'string' && { retainMs: parseDuration(retain) }),
    dryRun: values['dry-run'] === true,
    force: values['force'] === true,
  })
  if (r.dryRun) for (const f of r.files) process.stdout.write(`${f.path}\t${f.size}\n`)
  const summary = {
    dryRun: r.dryRun,
    files: r.files.length,
    bytes: r.bytes,
    oldestRetainedVersion: r.oldestRetainedVersion,
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`)
}

function configCommand(argv: string[]): void {
  const { values } = parse(argv, { markdown: { type: 'boolean' } })
  if ((values as Record<string, unknown>)['markdown'] === true) {
    process.stdout.write(`${settingsMarkdown()}\n`)
    return
  }
  process.stdout.write(`${JSON.stringify(redactedConfig(configFrom(values)), null, 2)}\n`)
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void> | void> = {
  start: roleCommand('start'),
  collect: roleCommand('collect'),
  process: roleCommand('process'),
  serve: roleCommand('serve'),
  generate,
  query,
  check,
  optimize: optimizeCommand,
  vacuum: vacuumCommand,
  backfill: backfillCommand,
  gaps: gapsCommand,
  config: configCommand,
}

async function main(): Promise<void> {
  // First: run with CryptoViz's V8 flags (may replace this process; see node-flags.ts).
  const { relaunchWithNodeFlags } = await import('./node-flags.ts')
  relaunchWithNodeFlags(process.argv, process.env, process.execArgv)
  const [command, ...rest] = process.argv.slice(2)
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const run = COMMANDS[command]
  if (!run)
    throw new CryptoVizError('INVALID_ARGUMENT', `unknown command "${command}"\n\n${USAGE}`, { kind: 'user' })
  // Help never starts anything, whatever else is on the line.
  if (rest.includes('--help') || rest.includes('-h')) {
    const { ROLE_COMMANDS, roleHelp } = await import('./roles.ts')
    process.stdout.write(`${command in ROLE_COMMANDS ? roleHelp(command as 'start') : USAGE}\n`)
    return
  }
  await run(rest)
}

main().catch((e: unknown) => {
  const message = isCryptoVizError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)
  process.stderr.write(`cryptoviz: ${message}\n`)
  if (!isCryptoVizError(e) || e.kind === 'internal') process.stderr.write(`${(e as Error).stack ?? ''}\n`)
  process.exit(isCryptoVizError(e) && e.kind === 'user' ? 2 : 1)
})
