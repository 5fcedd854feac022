/**
 * Alive on first start: when `cryptoviz start` opens a warehouse with no quotes, history is put
 * in it so every chart has something to show within seconds instead of one lonely candle.
 *
 * - Simulated source (or `auto` falling back to it): a few days of seeded simulated history,
 *   labelled `simulated`, written through the normal lake writer (one commit per day) before the
 *   live simulator starts, with a progress line per day. Each asset's seeded path is scaled so it
 *   ends at the live simulator's first price: the chart continues where history stops, with no
 *   jump at "now".
 * - Live CoinGecko: the recent history of the top tracked assets (as ranked by the first live
 *   poll) is backfilled in the background through `backfill()` (CoinGecko `market_chart/range`,
 *   sharing the live client's rate limit and circuit breaker), idempotent and resumable.
 *
 * Invariants: nothing is seeded into a warehouse that already holds quotes; `seedDays = 0` turns
 * both off; a backfill failure is logged, never fatal (live collection goes on).
 */
import type { Logger } from 'pino'
import type { Config } from '../config/config.ts'
import type { DeltaTable } from '../lake/index.ts'
import type { Quote } from '../model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../model/quote-table.ts'
import { backfill, parseSourceModes, type CoinGeckoClient } from '../sources/index.ts'
import { MarketSimulator, SIMULATED_SOURCE } from '../sources/simulated.ts'
import { COINGECKO_SOURCE } from '../sources/coingecko-client.ts'
import { deadLetterToRow } from '../model/dead-letter-table.ts'
import { quotesTableSink } from './lake-sink.ts'
import type { Warehouse } from './warehouse.ts'

const DAY_US = 86_400_000_000
/** One seeded quote per asset per minute: 1m candles are full, and 3 days × 20 assets ≈ 86k rows. */
export const SEED_STEP_SECONDS = 60
/** Live backfill covers this many of the top-ranked assets (one request each per 90 days). */
export const BACKFILL_TOP_ASSETS = 10

export interface SeedOptions {
  assets: number
  seed: number
  days: number
  /** Microseconds; history covers `[end - days, end)` and the live simulator starts at `end`. */
  end: number
  compression: 'snappy' | 'zstd'
  stepSeconds?: number
}

export interface SeedResult {
  rows: number
  commits: number
}

/** Whether the quotes table holds no data file yet (a fresh warehouse). */
export async function isEmpty(table: DeltaTable): Promise<boolean> {
  return (await table.snapshot()).files().length === 0
}

/**
 * Seeded simulated history ending at `end`, one commit per UTC day, scaled per asset so its last
 * price is the live simulator's first (same seed, started at `end`).
 */
export async function seedSimulatedHistory(
  table: DeltaTable,
  o: SeedOptions,
  onProgress?: (p: { day: number; days: number; rows: number }) => void,
): Promise<SeedResult> {
  const step = (o.stepSeconds ?? SEED_STEP_SECONDS) * 1_000_000
  const start = o.end - o.days * DAY_US
  const history = new MarketSimulator({ assets: o.assets, seed: o.seed, startTs: start })
  const byDay = new Map<number, Quote[]>()
  const last = new Map<string, number>()
  for (let ts = start; ts < o.end; ts += step) {
    const day = Math.floor(ts / DAY_US)
    let quotes = byDay.get(day)
    if (quotes === undefined) byDay.set(day, (quotes = []))
    for (const q of history.tick(ts)) {
      quotes.push(q)
      last.set(q.crypto, q.price_usd)
    }
  }
  const live = new MarketSimulator({ assets: o.assets, seed: o.seed, startTs: o.end })
  const scale = new Map<string, number>()
  for (const q of live.tick(o.end)) scale.set(q.crypto, q.price_usd / (last.get(q.crypto) ?? q.price_usd))
  const result: SeedResult = { rows: 0, commits: 0 }
  let day = 0
  for (const quotes of byDay.values()) {
    const rows = quotes.map((q) => {
      const k = scale.get(q.crypto) ?? 1
      return quoteToRow({
        ...q,
        price_usd: q.price_usd * k,
        market_cap_usd: q.market_cap_usd === null ? null : q.market_cap_usd * k,
        volume_24h_usd: q.volume_24h_usd === null ? null : q.volume_24h_usd * k,
      })
    })
    const r = await table.append(rows, {
      sortBy: QUOTES_SORT_BY,
      compression: o.compression,
      operation: 'WRITE',
    })
    if (r.status === 'committed') {
      result.rows += r.rows
      result.commits++
    }
    onProgress?.({ day: ++day, days: byDay.size, rows: result.rows })
  }
  return result
}

/**
 * The history step of `start`. `prepare()` runs before the sources do: it seeds an empty
 * warehouse when the simulated source is the only one. Then hand `observe()` the quotes as they
 * arrive: in `auto` mode the first batch says what serves quotes, and an empty warehouse gets
 * seeded history (fallback, in the background, ending where live simulated quotes begin) or a
 * CoinGecko backfill of the batch's top-ranked assets (live). `stop()` aborts and waits.
 */
export class FirstStart {
  private readonly o: FirstStartOptions
  private state: 'waiting' | 'running' | 'done' = 'done'
  private readonly controller = new AbortController()
  private running: Promise<void> = Promise.resolve()

  constructor(o: FirstStartOptions) {
    this.o = o
  }

  async prepare(): Promise<this> {
    const { config, warehouse } = this.o
    if (config.firstStart.seedDays === 0 || !(await isEmpty(warehouse.quotes))) return this
    const modes = parseSourceModes(config.source)
    if (modes !== 'auto' && modes.length === 1 && modes[0] === SIMULATED_SOURCE) {
      await this.seed(Date.now() * 1000)
      return this
    }
    this.state = 'waiting'
    return this
  }

  observe(quotes: readonly Quote[]): void {
    if (this.state !== 'waiting' || quotes.length === 0) return
    const live = quotes.filter((q) => q.source === COINGECKO_SOURCE)
    if (live.length > 0 && this.o.coingecko !== null) {
      this.state = 'running'
      this.running = this.backfill(this.o.coingecko, live)
    } else if (quotes.every((q) => q.source === SIMULATED_SOURCE)) {
      this.state = 'running'
      const first = Math.min(...quotes.map((q) => q.ts))
      this.running = this.seed(first).catch((err: unknown) =>
        this.o.logger.warn({ err }, 'seeding simulated history failed; live collection goes on'),
      )
    } else {
      this.state = 'done' // another live provider with no history API: nothing to backfill
    }
    void this.running.finally(() => (this.state = 'done'))
  }

  async stop(): Promise<void> {
    this.controller.abort()
    await this.running
  }

  private async seed(end: number): Promise<void> {
    const { config, warehouse, logger } = this.o
    const days = config.firstStart.seedDays
    const started = Date.now()
    logger.info(
      { days, assets: config.simulator.assets },
      `empty warehouse: seeding ${days} days of simulated history (turn off with --seed-days 0)`,
    )
    const r = await seedSimulatedHistory(
      warehouse.quotes,
      {
        assets: config.simulator.assets,
        seed: config.simulator.seed,
        days,
        end,
        compression: config.lake.compression,
      },
      (p) => logger.info({ rows: p.rows }, `seeding simulated history: day ${p.day}/${p.days}`),
    )
    logger.info({ rows: r.rows, commits: r.commits, ms: Date.now() - started }, 'seeded simulated history')
  }

  private async backfill(client: CoinGeckoClient, live: readonly Quote[]): Promise<void> {
    const { config, warehouse, logger } = this.o
    const top = [...live]
      .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))
      .slice(0, BACKFILL_TOP_ASSETS)
    const days = config.firstStart.seedDays
    const to = Date.now()
    logger.info(
      { cryptos: top.map((q) => q.crypto), days },
      `empty warehouse: backfilling ${days} days of CoinGecko history in the background (turn off with --seed-days 0)`,
    )
    try {
      const reports = await backfill({
        client,
        sink: quotesTableSink(warehouse.quotes, config.lake.compression),
        cryptos: top.map((q) => q.crypto),
        assets: Object.fromEntries(top.map((q) => [q.crypto, { symbol: q.symbol, name: q.name }])),
        from: to - days * 86_400_000,
        to,
        signal: this.controller.signal,
        onProgress: (p) => logger.info({ crypto: p.crypto }, `backfill: ${p.done}/${p.total} windows`),
        onDeadLetters: async (deadLetters) => {
          await warehouse.deadLetters.append(deadLetters.map(deadLetterToRow), {
            compression: config.lake.compression,
          })
        },
      })
      const quotes = reports.reduce((n, r) => n + r.quotes, 0)
      const failed = reports.filter((r) => r.error !== null).map((r) => `${r.crypto}: ${r.error}`)
      logger.info({ quotes, failed }, 'backfill finished')
    } catch (err) {
      if (!this.controller.signal.aborted) logger.warn({ err }, 'backfill failed; live collection goes on')
    }
  }
}

export interface FirstStartOptions {
  config: Readonly<Config>
  warehouse: Warehouse
  /** The live CoinGecko client, when CoinGecko is among the sources. */
  coingecko: CoinGeckoClient | null
  logger: Logger
}
