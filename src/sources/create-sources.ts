/**
 * `--source coingecko,coinmarketcap,simulated | auto` → the sources the collector runs.
 *
 * Explicit modes build exactly the named sources and fail fast when one cannot be built (the
 * coinmarketcap source without a key). `auto` builds every live provider that is configured
 * (CoinGecko always, being keyless by default; CoinMarketCap when a key is set) behind an
 * `AutoSource` that falls back to the simulated market when none answers.
 */
import { CryptoVizError } from '../errors.ts'
import { AutoSource } from './auto-source.ts'
import { CoinGeckoClient } from './coingecko-client.ts'
import { CoinGeckoSource } from './coingecko.ts'
import { CoinMarketCapSource } from './coinmarketcap.ts'
import {
  parseOptions,
  sourcesOptionsSchema,
  type SimulatedOptions,
  type SourcesOptionsInput,
} from './options.ts'
import { SimulatedSource } from './simulated.ts'
import type { QuoteSource } from './source.ts'
import { systemDeps, type SourceDeps } from './source-deps.ts'

export const SOURCE_MODES = ['coingecko', 'coinmarketcap', 'simulated'] as const
export type SourceMode = (typeof SOURCE_MODES)[number]

export interface SourceSelection {
  /** What the collector runs. */
  sources: QuoteSource[]
  /** The selector in `auto` mode (state for logs, /health and the dashboard), else null. */
  auto: AutoSource | null
  /** The CoinGecko client in use, if any: backfill shares its rate limit and circuit breaker. */
  coingecko: CoinGeckoClient | null
}

export interface CreateSourcesDeps extends Partial<SourceDeps> {
  /** Builds the simulated source; tests replace it. */
  simulated?: (options: SimulatedOptions & { now: () => number }) => QuoteSource
}

/** The modes of a `--source` value: `auto` or a comma-separated, duplicate-free list. */
export function parseSourceModes(modes: string): 'auto' | SourceMode[] {
  const parts = modes
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
  const bad = (why: string): CryptoVizError =>
    new CryptoVizError('CONFIG_INVALID', `invalid --source "${modes}": ${why}`, { kind: 'user' })
  if (parts.length === 0) throw bad('empty')
  if (parts.includes('auto')) {
    if (parts.length > 1) throw bad('"auto" cannot be combined with other sources')
    return 'auto'
  }
  const out: SourceMode[] = []
  for (const p of parts) {
    if (!(SOURCE_MODES as readonly string[]).includes(p))
      throw bad(`unknown source "${p}" (expected auto or ${SOURCE_MODES.join(', ')})`)
    if (!out.includes(p as SourceMode)) out.push(p as SourceMode)
  }
  return out
}

export function createSources(
  modes: string,
  options: SourcesOptionsInput = {},
  deps: CreateSourcesDeps = {},
): SourceSelection {
  const parsed = parseSourceModes(modes)
  const o = parseOptions(sourcesOptionsSchema, options, 'sources')
  const { simulated: makeSimulated, ...rest } = deps
  const d: SourceDeps = { ...systemDeps, ...rest }
  const simulated = (): QuoteSource =>
    (makeSimulated ?? ((so) => new SimulatedSource(so)))({ ...o.simulated, now: () => d.now() })

  if (parsed === 'auto') {
    const coingecko = new CoinGeckoClient(o.coingecko, d)
    const live: QuoteSource[] = [new CoinGeckoSource(coingecko, d)]
    const notConfigured: Record<string, string> = {}
    if (o.coinmarketcap.apiKey !== undefined) live.push(new CoinMarketCapSource(o.coinmarketcap, d))
    else notConfigured['coinmarketcap'] = 'no API key (CRYPTOVIZ_CMC_API_KEY)'
    const auto = new AutoSource(
      live,
      simulated(),
      { fallbackAfterFailures: o.auto.fallbackAfterFailures, notConfigured },
      d,
    )
    return { sources: [...auto.sources], auto, coingecko }
  }

  const sources: QuoteSource[] = []
  let coingecko: CoinGeckoClient | null = null
  for (const mode of parsed) {
    if (mode === 'coingecko') {
      coingecko = new CoinGeckoClient(o.coingecko, d)
      sources.push(new CoinGeckoSource(coingecko, d))
    } else if (mode === 'coinmarketcap') sources.push(new CoinMarketCapSource(o.coinmarketcap, d))
    else sources.push(simulated())
  }
  return { sources, auto: null, coingecko }
}
