/**
 * The embedded runtime (`cryptoviz start`): sources → in-process bus → micro-batch processor →
 * Delta tables in a local warehouse, plus the HTTP API and the live stream, in one process.
 *
 * Shutdown order matters for "no received quote is lost": stop the sources first (nothing new
 * arrives), then flush and commit the processor's buffer, then close the server and DuckDB.
 */
import { resolve } from 'node:path'
import type { Logger } from 'pino'
import { MemoryBus } from '../bus/memory-bus.ts'
import type { Config } from '../config/config.ts'
import { CryptoVizError } from '../errors.ts'
import { DuckDb } from '../query/duckdb.ts'
import { QueryEngine } from '../query/engine.ts'
import { buildApp } from '../server/app.ts'
import { ServerMetrics } from '../server/metrics.ts'
import type { ComponentStatus } from '../server/routes/ops.ts'
import { Collector, createSources, type SourcesOptionsInput } from '../sources/index.ts'
import { LocalStore } from '../storage/local-store.ts'
import { LiveFeed } from '../stream/live-feed.ts'
import { MicroBatchProcessor } from '../stream/processor.ts'
import { startMaintenance } from './maintenance-hook.ts'
import { openWarehouse } from './warehouse.ts'

export interface RunningApp {
  url: string
  processor: MicroBatchProcessor
  /** Stops sources, commits buffered quotes, closes the server. Idempotent. */
  stop(): Promise<void>
}

export async function startEmbedded(config: Readonly<Config>, logger: Logger): Promise<RunningApp> {
  const started = Date.now()
  const store = new LocalStore(resolve(config.warehouse))
  const warehouse = await openWarehouse(store)
  // Scraped only once the server listens, when every component below exists.
  const metrics = new ServerMetrics({ stats: () => stats() })
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    appId: 'cryptoviz-embedded',
    flushIntervalMs: config.processor.flushIntervalMs,
    flushMaxRows: config.processor.flushMaxRows,
    compression: config.lake.compression,
    logger: logger.child({ component: 'processor' }),
    onBatchCommitted: (batch) => metrics.observeFlush(batch.ms / 1000),
  })
  await processor.start()
  const maintenance = startMaintenance(config, warehouse.quotes, logger)
  // Event ids keep increasing across restarts, so a client's stale Last-Event-ID is never reused.
  const feed = new LiveFeed({ firstId: Date.now() * 1000 })
  const bus = new MemoryBus({ onSubscriberError: (err) => logger.error({ err }, 'bus subscriber failed') })
  bus.subscribe({
    onQuotes: (quotes) => {
      processor.accept(quotes)
      feed.push(quotes)
    },
    onDeadLetters: (deadLetters) => processor.acceptDeadLetters(deadLetters),
  })

  const selection = createSources(config.source, sourcesOptions(config))
  const collector = new Collector(selection.sources, {
    onQuotes: (quotes) => bus.publishQuotes(quotes),
    onDeadLetters: (deadLetters) => bus.publishDeadLetters(deadLetters),
    onError: (source, err, phase) => logger.warn({ err, source, phase }, 'source poll failed'),
  })
  selection.auto?.onChange((state) =>
    state.mode === 'fallback'
      ? logger.warn({ sources: state }, state.message)
      : logger.info({ sources: state }, state.message),
  )
  const collecting = new AbortController()
  const collected = collector.run(collecting.signal)
  const sourcesHealth = (): ComponentStatus => {
    const auto = selection.auto?.state()
    const perSource = collector.health()
    const failing = perSource.filter((h) => h.consecutiveFailures > 0).map((h) => h.source)
    return {
      status: auto?.mode === 'fallback' || failing.length > 0 ? 'degraded' : 'ok',
      mode: config.source,
      ...(auto && { auto }),
      sources: perSource,
    }
  }

  const duckdb = await DuckDb.open()
  const engine = new QueryEngine({
    table: warehouse.quotes,
    store: warehouse.quotesStore,
    duckdb,
    deadLetters: warehouse.deadLetters,
    // The hot tail: reads include quotes received but not committed yet.
    pending: () => processor.pending(),
    sql: { defaultTimeoutMs: config.api.sqlTimeoutMs, maxTimeoutMs: config.api.sqlTimeoutMs },
  })
  const stats = async (): Promise<Record<string, unknown>> => ({
    ...processor.stats(),
    sources: collector.health(),
    live_clients: feed.subscriberCount,
    uptime_s: Math.round((Date.now() - started) / 1000),
    memory_mb: memoryMb(),
    ...maintenance?.stats(),
  })
  const app = buildApp({
    engine,
    feed,
    metrics,
    logger: logger.child({ component: 'http' }),
    api: config.api,
    ops: {
      health: async () => ({
        lake: { status: 'ok', warehouse: store.url, version: processor.stats().last_table_version },
        processor: {
          // Degraded while commits keep failing (quotes wait in memory), ok again once one lands.
          status: processor.stats().consecutive_flush_errors > 0 ? 'degraded' : 'ok',
          ...processor.stats(),
        },
        sources: sourcesHealth(),
      }),
      stats,
    },
  })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (e) {
    // Nothing is served: stop what already runs (committing what arrived), then say why.
    collecting.abort()
    await collected.catch(() => undefined)
    await maintenance?.stop()
    await processor.stop()
    engine.close()
    duckdb.close()
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
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const url = `http://${config.host}:${port}`
  logger.info(
    { url, warehouse: store.url, sources: selection.sources.map((s) => s.name), mode: config.source },
    'CryptoViz is running',
  )

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      collecting.abort()
      await collected.catch((err: unknown) => logger.error({ err }, 'collector failed'))
      await maintenance?.stop()
      await processor.stop()
      await app.close()
      engine.close()
      duckdb.close()
      const s = processor.stats()
      logger.info(
        { records_received: s.records_received, records_written: s.records_written, buffered: s.buffered },
        'CryptoViz stopped',
      )
    })()
    return stopping
  }
  return { url, processor, stop }
}

/** Process memory in MB, for operators watching /stats. */
function memoryMb(): Record<string, number> {
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1_048_576)
  return { rss: mb(m.rss), heap_used: mb(m.heapUsed), heap_total: mb(m.heapTotal), external: mb(m.external) }
}

/** The sources' options from the app configuration (the two name their keys differently). */
function sourcesOptions(config: Readonly<Config>): SourcesOptionsInput {
  const { coingecko, coinmarketcap } = config.sources
  return {
    coingecko: { ...coingecko },
    coinmarketcap: { ...coinmarketcap },
    simulated: { ...config.simulator },
  }
}
