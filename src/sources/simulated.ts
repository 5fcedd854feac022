/**
 * A deterministic simulated market: geometric Brownian motion prices for N assets, with plausible
 * caps, volumes and % changes, labelled `source=simulated` so it is never mistaken for real data.
 *
 * Determinism: each asset draws from its own PRNG stream seeded by (seed, asset index), so the
 * same seed and the same sequence of tick times give the same quotes, whatever the asset count.
 * Before the first tick each asset gets seven days of hourly pre-history, so 1h/24h/7d changes
 * are defined from the start.
 */
import type { Quote } from '../model/quote.ts'
import type { PollResult, QuoteSource } from './source.ts'
import { mulberry32 } from './mulberry32.ts'
import { simulatedAssets, type SimulatedAsset } from './simulated-assets.ts'

export const SIMULATED_SOURCE = 'simulated'

const MICROS_PER_SECOND = 1_000_000
const HOUR = 3_600 * MICROS_PER_SECOND
const DAY = 24 * HOUR
const WEEK = 7 * DAY
const YEAR_SECONDS = 365 * 24 * 3_600
/** Price history is sampled at most this often; changes are measured against these samples. */
const SAMPLE_EVERY = 60 * MICROS_PER_SECOND

function hashSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (index + 0x85ebca6b), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

class AssetPath {
  readonly asset: SimulatedAsset
  readonly rank: number
  price: number
  turnover: number
  private lastTs: number
  private readonly random: () => number
  private spare: number | undefined
  // Samples of (ts, price), oldest first; `head` is the first live index.
  private readonly sampleTs: number[] = []
  private readonly samplePrice: number[] = []
  private head = 0
  private readonly anchors = [0, 0, 0]

  constructor(asset: SimulatedAsset, rank: number, seed: number, startTs: number) {
    this.asset = asset
    this.rank = rank
    this.random = mulberry32(hashSeed(seed, rank))
    this.price = asset.price
    this.turnover = 0.03 + 0.04 * this.random()
    this.lastTs = startTs - WEEK - HOUR
    for (let t = startTs - WEEK - HOUR; t < startTs; t += HOUR) this.advance(t)
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare
      this.spare = undefined
      return s
    }
    let u = 0
    while (u === 0) u = this.random()
    const v = this.random()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  /** Moves the path to `ts` (monotonic) and records a history sample when one is due. */
  advance(ts: number): void {
    const dtYears = Math.max(0, ts - this.lastTs) / MICROS_PER_SECOND / YEAR_SECONDS
    if (dtYears > 0) {
      const sigma = this.asset.volatility
      this.price *= Math.exp(-0.5 * sigma * sigma * dtYears + sigma * Math.sqrt(dtYears) * this.gaussian())
      // Turnover drifts slowly and stays within a plausible 1%–15% of market cap per day.
      this.turnover = Math.min(0.15, Math.max(0.01, this.turnover * Math.exp(0.05 * this.gaussian())))
      this.lastTs = ts
    }
    const n = this.sampleTs.length
    if (n === this.head || ts - (this.sampleTs[n - 1] as number) >= SAMPLE_EVERY) {
      this.sampleTs.push(ts)
      this.samplePrice.push(this.price)
    }
    // Drop samples older than a week and an hour; compact occasionally to bound memory.
    while (
      this.head < this.sampleTs.length - 1 &&
      (this.sampleTs[this.head + 1] as number) <= ts - WEEK - HOUR
    ) {
      this.head++
    }
    if (this.head > 20_000) {
      this.sampleTs.splice(0, this.head)
      this.samplePrice.splice(0, this.head)
      for (let i = 0; i < this.anchors.length; i++)
        this.anchors[i] = Math.max(0, (this.anchors[i] as number) - this.head)
      this.head = 0
    }
  }

  /** % change against the newest sample at or before `ts - window`. */
  changePct(slot: number, ts: number, window: number): number {
    const target = ts - window
    let i = Math.max(this.anchors[slot] as number, this.head)
    while (i + 1 < this.sampleTs.length && (this.sampleTs[i + 1] as number) <= target) i++
    this.anchors[slot] = i
    const then = this.samplePrice[i] as number
    return ((this.price - then) / then) * 100
  }
}

export interface MarketSimulatorOptions {
  assets: number
  seed: number
  /** Microseconds; the first tick's time (pre-history is generated before it). */
  startTs: number
}

export class MarketSimulator {
  private readonly paths: AssetPath[]

  constructor(options: MarketSimulatorOptions) {
    this.paths = simulatedAssets(options.assets).map(
      (a, i) => new AssetPath(a, i + 1, options.seed, options.startTs),
    )
  }

  get assetCount(): number {
    return this.paths.length
  }

  /** Quotes of every asset at `ts` (microseconds, monotonic across calls). */
  tick(ts: number, ingestedAt: number = ts): Quote[] {
    const out: Quote[] = new Array(this.paths.length)
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i] as AssetPath
      p.advance(ts)
      const a = p.asset
      const cap = p.price * a.supply
      out[i] = {
        ts,
        source: SIMULATED_SOURCE,
        crypto: a.slug,
        symbol: a.symbol,
        name: a.name,
        price_usd: p.price,
        market_cap_usd: cap,
        volume_24h_usd: cap * p.turnover,
        change_1h_pct: p.changePct(0, ts, HOUR),
        change_24h_pct: p.changePct(1, ts, DAY),
        change_7d_pct: p.changePct(2, ts, WEEK),
        circulating_supply: a.supply,
        total_supply: a.maxSupply ?? a.supply,
        max_supply: a.maxSupply,
        rank: p.rank,
        ingested_at: ingestedAt,
      }
    }
    return out
  }
}

export interface SimulatedSourceOptions {
  assets: number
  seed: number
  intervalMs: number
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
}

/** The simulator as a live `QuoteSource`: every poll is one tick at the current time. */
export class SimulatedSource implements QuoteSource {
  readonly name = SIMULATED_SOURCE
  readonly intervalMs: number
  private readonly simulator: MarketSimulator
  private readonly now: () => number
  private lastTs = 0

  constructor(options: SimulatedSourceOptions) {
    this.intervalMs = options.intervalMs
    this.now = options.now ?? Date.now
    this.simulator = new MarketSimulator({
      assets: options.assets,
      seed: options.seed,
      startTs: this.now() * 1000,
    })
  }

  async poll(): Promise<PollResult> {
    // Strictly increasing ts, so two polls in one millisecond never produce duplicate keys.
    const ts = Math.max(this.now() * 1000, this.lastTs + 1)
    this.lastTs = ts
    return { quotes: this.simulator.tick(ts, ts), deadLetters: [] }
  }
}
