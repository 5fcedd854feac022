/**
 * The collect role: sources → the bus. On a process that also writes the lake, an empty warehouse
 * first gets its seeded or backfilled history (first-start.ts), before any source runs.
 *
 * Invariant: `stop()` ends the polls and waits for the ones in flight (and the background
 * history), so a processor stopped after it has received every quote the sources delivered.
 */
import { resolve } from 'node:path'
import type { Logger } from 'pino'
import type { QuoteBus } from '../bus/bus.ts'
import type { Config } from '../config/config.ts'
import type { ComponentStatus } from '../server/routes/ops.ts'
import { Collector, createSources, type SourcesOptionsInput } from '../sources/index.ts'
import { fileStateStore } from './collector-state.ts'
import { FirstStart } from './first-start.ts'
import type { Warehouse } from './warehouse.ts'

export interface Collecting {
  collector: Collector
  /** Per-source health, degraded when `auto` fell back to the simulator or a source fails. */
  health(): ComponentStatus
  stop(): Promise<void>
}

export async function startCollecting(
  config: Readonly<Config>,
  bus: QuoteBus,
  warehouse: Warehouse | undefined,
  logger: Logger,
): Promise<Collecting> {
  const selection = createSources(config.source, sourcesOptions(config), {
    state: fileStateStore(resolve(config.collector.stateFile), logger),
  })
  const history = warehouse
    ? await new FirstStart({ config, warehouse, coingecko: selection.coingecko, logger }).prepare()
    : undefined
  const collector = new Collector(selection.sources, {
    onQuotes: (quotes) => {
      history?.observe(quotes)
      return bus.publishQuotes(quotes)
    },
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
  logger.info(
    { sources: selection.sources.map((s) => s.name), mode: config.source, bus: bus.kind },
    'collecting',
  )
  return {
    collector,
    health: () => {
      const auto = selection.auto?.state()
      const perSource = collector.health()
      const failing = perSource.filter((h) => h.consecutiveFailures > 0).map((h) => h.source)
      return {
        status: auto?.mode === 'fallback' || failing.length > 0 ? 'degraded' : 'ok',
        mode: config.source,
        ...(auto && { auto }),
        sources: perSource,
      }
    },
    stop: async () => {
      collecting.abort()
      await collected.catch((err: unknown) => logger.error({ err }, 'collector failed'))
      await history?.stop()
    },
  }
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
