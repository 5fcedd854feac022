/**
 * A valid quote for tests: bitcoin from the simulated source with every optional field null,
 * overridden field by field. `ingested_at` defaults to `ts`.
 */
import type { Quote } from '../../src/model/quote.ts'

export function makeQuote(overrides: Partial<Quote> = {}): Quote {
  const ts = overrides.ts ?? 1_700_000_000_000_000
  return {
    ts,
    source: 'simulated',
    crypto: 'bitcoin',
    symbol: 'BTC',
    name: 'Bitcoin',
    price_usd: 1,
    market_cap_usd: null,
    volume_24h_usd: null,
    change_1h_pct: null,
    change_24h_pct: null,
    change_7d_pct: null,
    circulating_supply: null,
    total_supply: null,
    max_supply: null,
    rank: null,
    ingested_at: ts,
    ...overrides,
  }
}
