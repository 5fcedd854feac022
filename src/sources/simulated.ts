/**
 * A deterministic simulated market: geometric Brownian motion prices for N assets, with plausible
 * caps, volumes and % changes, labelled `source=simulated` so it is never mistaken for real data.
 *
 * Determinism: each asset draws from its own PRNG stream seeded by (seed, asset index), so the
 * same seed and the same sequence of tick times give the same quotes, whatever the asset count.
 * Before the first tick each asset gets seven days of hourly pre-history, so 1h/24h/7d changes
 * are defined from the start.
 */
import { DATE_COLUMNS, NUMBER_FIELDS, STRING_FIELDS, type QuoteChunk } from '../model/quote-chunk.ts'
import { datePartsOf, type Quote, type QuoteField } from '../model/quote.ts'
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
    // Compacted once the dead samples are a fifth of the live week (~2,000 at one a minute), so a
    // path holds at most ~1.2 weeks of samples: 100 assets' history is a generator's largest live data.
    if (this.head > 2_048) {
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

/** A chunk being filled asset by asset (`MarketSimulator.startChunk`). */
export interface ChunkFill {
  /** Every asset's rows once each asset is filled (asset-major: asset 0's ticks, then asset 1's…). */
  chunk: QuoteChunk
  /** Writes asset `a`'s quotes at every tick (once per asset of the chunk; any asset order). */
  fill(a: number): void
}

/** Dictionary ids of a few values, first-seen order (as `packQuotes` assigns them). */
function interned(values: readonly string[]): { ids: Uint32Array; dictionary: string[] } {
  const dictionary: string[] = []
  const idOf = new Map<string, number>()
  const ids = Uint32Array.from(values, (v) => {
    let id = idOf.get(v)
    if (id === undefined) idOf.set(v, (id = dictionary.push(v) - 1))
    return id
  })
  return { ids, dictionary }
}

const numberColumn = (f: QuoteField): number => NUMBER_FIELDS.indexOf(f)
const N = {
  ts: numberColumn('ts'),
  price: numberColumn('price_usd'),
  cap: numberColumn('market_cap_usd'),
  volume: numberColumn('volume_24h_usd'),
  change1h: numberColumn('change_1h_pct'),
  change24h: numberColumn('change_24h_pct'),
  change7d: numberColumn('change_7d_pct'),
  circulating: numberColumn('circulating_supply'),
  total: numberColumn('total_supply'),
  max: numberColumn('max_supply'),
  rank: numberColumn('rank'),
  ingested: numberColumn('ingested_at'),
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

  /**
   * Starts the column-wise quotes of the assets `[from, to)` (default all) at `ticks` (ascending,
   * after every earlier tick of those assets; `ingested_at` = `ts`, as `tick(ts)`), filled asset by
   * asset so a caller can yield between assets. Once filled, the chunk is `packQuotes` of the quotes `tick` gives at those ticks, put in
   * asset-major order; each asset's path is its own, so the order of advancing does not change a
   * value (test/sources/simulated.test.ts). No object per quote.
   */
  startChunk(ticks: readonly number[], from = 0, to = this.paths.length): ChunkFill {
    const paths = this.paths.slice(from, to)
    const t = ticks.length
    const n = paths.length * t
    const numbers = NUMBER_FIELDS.map(() => ({
      values: new Float64Array(n),
      nulls: undefined as Uint8Array | undefined,
    }))
    if (paths.some((p) => p.asset.maxSupply === null)) numbers[N.max]!.nulls = new Uint8Array(n)
    const assetMajor = (ids: Uint32Array): Uint32Array => {
      const out = new Uint32Array(n)
      for (let a = 0; a < ids.length; a++) out.fill(ids[a]!, a * t, (a + 1) * t)
      return out
    }
    const perAsset: Partial<Record<QuoteField, (p: AssetPath) => string>> = {
      source: () => SIMULATED_SOURCE,
      crypto: (p) => p.asset.slug,
      symbol: (p) => p.asset.symbol,
      name: (p) => p.asset.name,
    }
    const strings = STRING_FIELDS.map((f) => {
      const valueOf = perAsset[f]
      if (!valueOf) throw new Error(`the simulator has no value for the string column "${f}"`)
      const { ids, dictionary } = interned(paths.map(valueOf))
      return { ids: assetMajor(ids), dictionary, nulls: undefined }
    })
    // Date parts per tick, the same for every asset.
    const dates = DATE_COLUMNS.map((c) => {
      const { ids, dictionary } = interned(ticks.map((ts) => datePartsOf(ts)[c]))
      const out = new Uint32Array(n)
      if (t > 0) for (let a = 0; a < paths.length; a++) out.set(ids, a * t)
      return { ids: out, dictionary, nulls: undefined }
    })
    const chunk: QuoteChunk = { rows: n, numbers, strings: [...strings, ...dates] }
    const col = numbers.map((c) => c.values)
    const [ts, price, cap, volume, change1h, change24h, change7d] = [
      col[N.ts]!,
      col[N.price]!,
      col[N.cap]!,
      col[N.volume]!,
      col[N.change1h]!,
      col[N.change24h]!,
      col[N.change7d]!,
    ]
    const [circulating, total, max, rank, ingested] = [
      col[N.circulating]!,
      col[N.total]!,
      col[N.max]!,
      col[N.rank]!,
      col[N.ingested]!,
    ]
    const maxNulls = numbers[N.max]!.nulls
    const fill = (a: number): void => {
      const p = paths[a - from]
      if (p === undefined) throw new RangeError(`asset ${a} is not in this chunk [${from}, ${to})`)
      const asset = p.asset
      const base = (a - from) * t
      for (let i = 0; i < t; i++) {
        const at = ticks[i]!
        const r = base + i
        p.advance(at)
        const c = p.price * asset.supply
        ts[r] = at
        price[r] = p.price
        cap[r] = c
        volume[r] = c * p.turnover
        change1h[r] = p.changePct(0, at, HOUR)
        change24h[r] = p.changePct(1, at, DAY)
        change7d[r] = p.changePct(2, at, WEEK)
        circulating[r] = asset.supply
        total[r] = asset.maxSupply ?? asset.supply
        if (asset.maxSupply === null) maxNulls![r] = 1
        else max[r] = asset.maxSupply
        rank[r] = p.rank
        ingested[r] = at
      }
    }
    return { chunk, fill }
  }

  /** `startChunk` with every asset filled. */
  chunk(ticks: readonly number[]): QuoteChunk {
    const c = this.startChunk(ticks)
    for (let a = 0; a < this.paths.length; a++) c.fill(a)
    return c.chunk
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
