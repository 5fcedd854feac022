/**
 * The runtime, in roles: `collect` (sources → bus), `process` (bus → lake, a consumer-group
 * member) and `serve` (HTTP API, dashboard, live stream). `cryptoviz start` runs all three in one
 * process, on the in-process bus by default or on Kafka with `--broker`; `collect`, `process` and
 * `serve` run one role each. `serve` without a processor reads the lake read-only.
 *
 * Shutdown order matters for "no received quote is lost": stop the sources first (nothing new
 * arrives), then flush and commit the processor's buffer, then close the server and DuckDB.
 */
import type { Logger } from 'pino'
import type { QuoteBus } from '../bus/bus.ts'
import type { Config } from '../config/config.ts'
import { CryptoVizError } from '../errors.ts'
import type { ComponentStatus } from '../server/routes/ops.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { DuckDb } from '../query/duckdb.ts'
import { QueryEngine } from '../query/engine.ts'
import { buildApp } from '../server/app.ts'
import { ServerMetrics } from '../server/metrics.ts'
import { LiveFeed } from '../stream/live-feed.ts'
import type { MicroBatchProcessor } from '../stream/processor.ts'
import { RecentQuotes } from '../stream/recent-quotes.ts'
import { openBus } from './bus.ts'
import { startProcessing, type Processing } from './processing.ts'
import { openWarehouse, openWarehouseForReading, type ReadableWarehouse } from './warehouse.ts'
import { lakeHealth, openReadCache, openWarehouseStore } from './store.ts'
import { startCollecting, type Collecting } from './collecting.ts'
import { holdsPartitionZero, startMaintenance } from './maintenance-hook.ts'

export interface Roles {
  collect: boolean
  process: boolean
  /** HTTP API and dashboard (for `process` alone: the ops endpoints over its warehouse). */
  serve: boolean
  /** The live stream (SSE) fed from the bus. */
  live: boolean
}

export interface RunningApp {
  /** The HTTP address; undefined for a role that serves nothing (collect). */
  url: string | undefined
  processor: MicroBatchProcessor | undefined
  /** Stops sources, commits buffered quotes, closes the server. Idempotent. */
  stop(): Promise<void>
  /** Resolves when a fatal condition (a fenced writer) requires the process to exit. */
  fatal: Promise<CryptoVizError>
}

export const ALL_ROLES: Roles = { collect: true, process: true, serve: true, live: true }

/** `cryptoviz start`: every role in one process. */
export function startEmbedded(config: Readonly<Config>, logger: Logger): Promise<RunningApp> {
  return startRoles(config, logger, ALL_ROLES)
}

export async function startRoles(
  config: Readonly<Config>,
  logger: Logger,
  roles: Roles,
): Promise<RunningApp> {
  const started = Date.now()
  const fatal = Promise.withResolvers<CryptoVizError>()
  const store = await openWarehouseStore(config, { write: roles.process })
  const needsBus = roles.collect || roles.process || config.bus.broker !== undefined
  const opened = needsBus ? await openBus(config, logger) : undefined
  // Scraped only once the server listens, when every component below exists.
  const metrics = new ServerMetrics({ stats: () => stats() })
  let processing: Processing | undefined
  const warehouse = roles.process ? await openWarehouse(store) : undefined
  if (opened && warehouse) {
    processing = await startProcessing(config, opened, warehouse, logger, {
      onBatchCommitted: (batch) => metrics.observeFlush(batch.ms / 1000, batch.rows),
      onFenced: (e) => fatal.resolve(e),
    })
  }
  const processor = processing?.processor
  // Background compaction and vacuum of the quotes table: in every process that writes it, run
  // by the one holding the quotes topic's partition 0 (one per consumer group).
  const quotesTopic = opened?.topics.quotes
  const maintenance = warehouse
    ? startMaintenance(
        config,
        warehouse.quotes,
        logger,
        processing && quotesTopic !== undefined
          ? () => holdsPartitionZero(processing.consumer, quotesTopic)
          : undefined,
      )
    : undefined
  // Event ids keep increasing across restarts, so a client's stale Last-Event-ID is never reused.
  const feed = new LiveFeed({ firstId: Date.now() * 1000 })
  // Without a processor here, the hot tail is what the live subscription saw lately.
  const recent =
    roles.live && !processor
      ? new RecentQuotes({
          windowMs: 2 * config.processor.flushIntervalMs + 60_000,
          maxQuotes: config.processor.maxBufferRows,
        })
      : undefined
  const unsubscribeLive =
    roles.live && opened
      ? await opened.bus.subscribeLive((quotes) => {
          feed.push(quotes)
          recent?.push(quotes)
        })
      : undefined

  const collecting =
    roles.collect && opened ? await startCollecting(config, opened.bus, warehouse, logger) : undefined
  const collector = collecting?.collector

  const stats = async (): Promise<Record<string, unknown>> => ({
    ...(processing ? await processing.stats() : {}),
    ...(collector && { sources: collector.health() }),
    ...(opened && { bus: { kind: opened.bus.kind, ...opened.bus.health() } }),
    live_clients: feed.subscriberCount,
    uptime_s: Math.round((Date.now() - started) / 1000),
    memory_mb: memoryMb(),
    ...maintenance?.stats(),
  })

  let stopping: Promise<void> | undefined
  let closeServer = async (): Promise<void> => undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await collecting?.stop()
      await maintenance?.stop()
      await processing?.stop()
      await unsubscribeLive?.()
      await closeServer()
      await opened?.bus.close()
      const s = processor?.stats()
      logger.info(
        s
          ? { records_received: s.records_received, records_written: s.records_written, buffered: s.buffered }
          : {},
        'CryptoViz stopped',
      )
    })()
    return stopping
  }

  if (!roles.serve && !roles.process) return { url: undefined, processor, stop, fatal: fatal.promise }

  const readable =
    warehouse ??
    (await openWarehouseForReading(store, { statsPacking: 'background' }).catch(async (e: unknown) => {
      await stop()
      throw e
    }))
  // A processor serves its ops endpoints; the query API there is rarely used: DuckDB starts on
  // the first query instead of holding its memory from the start.
  const duckdb = roles.live ? await DuckDb.open() : DuckDb.deferred()
  const engine = new QueryEngine({
    table: readable.quotes,
    duckdb,
    ...(readable.deadLetters && { deadLetters: readable.deadLetters }),
    // The hot tail: reads include quotes received but not committed yet.
    ...(processor && { pending: () => processor.pending() }),
    ...(recent && { pending: () => recent.pending() }),
    readCache: openReadCache(config),
    sql: { defaultTimeoutMs: config.api.sqlTimeoutMs, maxTimeoutMs: config.api.sqlTimeoutMs },
  })
  const app = buildApp({
    engine,
    feed,
    metrics,
    logger: logger.child({ component: 'http' }),
    api: config.api,
    ops: {
      health: () => health({ store, readable, processor, collecting, bus: opened?.bus }),
      stats,
    },
  })
  closeServer = async () => {
    await app.close()
    engine.close()
    duckdb.close()
  }
  await listen(app, config, stop)
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const url = `http://${config.host}:${port}`
  logger.info(
    { url, warehouse: store.url, roles, bus: opened?.bus.kind ?? 'none', writer: processing?.writerId },
    'CryptoViz is running',
  )
  if (roles.live) {
    // The market page is the landing page: build its maintained state now (seconds on a
    // 50M-row table) rather than in the first visitor's request.
    const started = performance.now()
    engine.latest({ limit: 1 }).then(
      (r) =>
        logger.info(
          { version: r.version, ms: Math.round(performance.now() - started) },
          'market state ready',
        ),
      (e: unknown) =>
        logger.warn({ err: e }, 'market state not built at start; the first overview read builds it'),
    )
  }
  return { url, processor, stop, fatal: fatal.promise }
}

/** Process memory in MB, for operators watching /stats. */
function memoryMb(): Record<string, number> {
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1_048_576)
  return { rss: mb(m.rss), heap_used: mb(m.heapUsed), heap_total: mb(m.heapTotal), external: mb(m.external) }
}

/** `/health`'s components for the roles this process runs. */
async function health(o: {
  store: ObjectStore
  readable: ReadableWarehouse
  processor: MicroBatchProcessor | undefined
  collecting: Collecting | undefined
  bus: QuoteBus | undefined
}): Promise<Record<string, ComponentStatus>> {
  const s = o.processor?.stats()
  const bus = o.bus?.health()
  return {
    lake: s
      ? lakeHealth(o.store.url, s)
      : {
          status: 'ok',
          warehouse: o.store.url,
          version: (await o.readable.quotes.snapshot()).version,
          read_only: true,
        },
    ...(s && {
      processor: {
        // Degraded while commits keep failing (quotes wait in memory) or when fenced.
        status: s.consecutive_flush_errors > 0 || s.fenced !== null ? 'degraded' : 'ok',
        ...s,
      },
    }),
    ...(o.collecting && { sources: o.collecting.health() }),
    ...(bus && o.bus && { bus: { ...bus, kind: o.bus.kind } }),
  }
}

/** Listens, or stops what already runs (committing what arrived) and says why it cannot. */
async function listen(
  app: { listen(o: { host: string; port: number }): Promise<unknown> },
  config: Readonly<Config>,
  stop: () => Promise<void>,
): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (e) {
    await stop()
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new CryptoVizError(
        'CONFIG_INVALID',
        `cannot listen on ${config.host}:${config.port} (${code}): choose another --port / CRYPTOVIZ_PORT or --host / CRYPTOVIZ_HOST`,
        { kind: 'user', cause: e },
      )
    }
    throw e
  }
}
