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
import { DuckDb } from '../query/duckdb.ts'
import { QueryEngine } from '../query/engine.ts'
import { buildApp } from '../server/app.ts'
import { SimulatedSource } from '../sources/simulated.ts'
import type { QuoteSource } from '../sources/source.ts'
import { LocalStore } from '../storage/local-store.ts'
import { LiveFeed } from '../stream/live-feed.ts'
import { MicroBatchProcessor } from '../stream/processor.ts'
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
  const processor = new MicroBatchProcessor({
    quotes: warehouse.quotes,
    deadLetters: warehouse.deadLetters,
    appId: 'cryptoviz-embedded',
    flushIntervalMs: config.processor.flushIntervalMs,
    flushMaxRows: config.processor.flushMaxRows,
    compression: config.lake.compression,
    logger: logger.child({ component: 'processor' }),
  })
  await processor.start()
  const feed = new LiveFeed()
  const bus = new MemoryBus({ onSubscriberError: (err) => logger.error({ err }, 'bus subscriber failed') })
  bus.subscribe({
    onQuotes: (quotes) => {
      processor.accept(quotes)
      feed.push(quotes)
    },
    onDeadLetters: (deadLetters) => processor.acceptDeadLetters(deadLetters),
  })

  const sources: QuoteSource[] = [
    new SimulatedSource({
      assets: config.simulator.assets,
      seed: config.simulator.seed,
      intervalMs: config.simulator.intervalMs,
    }),
  ]
  const collecting = new AbortController()
  const loops = sources.map((source) => pollLoop(source, bus, collecting.signal, logger))

  const duckdb = await DuckDb.open()
  const engine = new QueryEngine({ table: warehouse.quotes, store: warehouse.quotesStore, duckdb })
  const app = buildApp({
    engine,
    feed,
    logger: logger.child({ component: 'http' }),
    ops: {
      health: async () => ({
        lake: { status: 'ok', warehouse: store.url, version: processor.stats().last_table_version },
        processor: { status: processor.stats().flush_errors > 0 ? 'degraded' : 'ok', ...processor.stats() },
        sources: { status: 'ok', mode: config.source, active: sources.map((s) => s.name) },
      }),
      stats: async () => ({
        ...processor.stats(),
        live_clients: feed.subscriberCount,
        uptime_s: Math.round((Date.now() - started) / 1000),
      }),
    },
  })
  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const url = `http://${config.host}:${port}`
  logger.info({ url, warehouse: store.url, sources: sources.map((s) => s.name) }, 'CryptoViz is running')

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      collecting.abort()
      await Promise.allSettled(loops)
      await processor.stop()
      await app.close()
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

async function pollLoop(
  source: QuoteSource,
  bus: MemoryBus,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const { quotes, deadLetters } = await source.poll(signal)
      bus.publishQuotes(quotes)
      bus.publishDeadLetters(deadLetters)
    } catch (err) {
      if (!signal.aborted) logger.warn({ err, source: source.name }, 'poll failed')
    }
    await new Promise<void>((done) => {
      const t = setTimeout(done, source.intervalMs)
      signal.addEventListener('abort', () => (clearTimeout(t), done()), { once: true })
    })
  }
}
