/**
 * The CoinGecko live source: polls `/coins/markets` (USD, up to 250 coins a page, 1h/24h/7d
 * changes) and turns each item into a `Quote` or a dead letter.
 *
 * Invariants:
 * - `ts` is the item's `last_updated` (provider time), `ingested_at` the time we received it.
 * - One quote per (coin, `last_updated`): unchanged repeats are suppressed across polls.
 * - A poll either fetches every configured page or fails as a whole; nothing is remembered from a
 *   failed poll, so the next one re-reads and re-emits what it missed.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import { type Quote } from '../model/quote.ts'
import { microsFromMillis } from '../micros.ts'
import { CoinGeckoClient, COINGECKO_SOURCE } from './coingecko-client.ts'
import { canonicalFromCoinGecko, canonicalSymbol } from './crypto-slugs.ts'
import { deadLetter } from './dead-letters.ts'
import type { CoinGeckoOptionsInput } from './options.ts'
import {
  checkFinite,
  checkPrice,
  checkSlug,
  finalQuote,
  isRejection,
  issuesText,
  optionalNumber,
  providerTime,
  type Rejection,
} from './quote-checks.ts'
import { RepeatFilter } from './repeat-filter.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import type { PollResult } from './source.ts'
import { systemDeps, type SourceDeps } from './source-deps.ts'
import type { ObservableSource, SourceStats } from './source-stats.ts'

/** The fields of a `/coins/markets` item we use; other fields are ignored. */
export const coingeckoMarketItemSchema = z.looseObject({
  id: z.string().min(1),
  symbol: z.string().min(1),
  name: z.string().min(1),
  current_price: optionalNumber,
  market_cap: optionalNumber,
  market_cap_rank: optionalNumber,
  total_volume: optionalNumber,
  price_change_percentage_24h: optionalNumber,
  price_change_percentage_1h_in_currency: optionalNumber,
  price_change_percentage_24h_in_currency: optionalNumber,
  price_change_percentage_7d_in_currency: optionalNumber,
  circulating_supply: optionalNumber,
  total_supply: optionalNumber,
  max_supply: optionalNumber,
  last_updated: z.string().nullable().optional(),
})

/** One `/coins/markets` item as a quote, or the reason it cannot be one. */
export function normalizeCoinGeckoMarket(
  raw: unknown,
  nowMs: number,
  futureToleranceMs: number,
): { quote: Quote } | Rejection {
  const parsed = coingeckoMarketItemSchema.safeParse(raw)
  if (!parsed.success) return { reason: 'shape_invalid', detail: issuesText(parsed.error) }
  const it = parsed.data
  const crypto = canonicalFromCoinGecko(it.id)
  const rejected =
    checkSlug(crypto, 'id') ??
    checkPrice(it.current_price, 'current_price') ??
    checkFinite({
      market_cap: it.market_cap,
      market_cap_rank: it.market_cap_rank,
      total_volume: it.total_volume,
      price_change_percentage_24h: it.price_change_percentage_24h,
      price_change_percentage_1h_in_currency: it.price_change_percentage_1h_in_currency,
      price_change_percentage_24h_in_currency: it.price_change_percentage_24h_in_currency,
      price_change_percentage_7d_in_currency: it.price_change_percentage_7d_in_currency,
      circulating_supply: it.circulating_supply,
      total_supply: it.total_supply,
      max_supply: it.max_supply,
    })
  if (rejected !== undefined) return rejected
  const time = providerTime(it.last_updated, 'last_updated', nowMs, futureToleranceMs)
  if (isRejection(time)) return time
  return finalQuote({
    ts: time.micros,
    source: COINGECKO_SOURCE,
    crypto,
    symbol: canonicalSymbol(it.symbol),
    name: it.name,
    price_usd: it.current_price as number,
    market_cap_usd: it.market_cap ?? null,
    volume_24h_usd: it.total_volume ?? null,
    change_1h_pct: it.price_change_percentage_1h_in_currency ?? null,
    change_24h_pct: it.price_change_percentage_24h_in_currency ?? it.price_change_percentage_24h ?? null,
    change_7d_pct: it.price_change_percentage_7d_in_currency ?? null,
    circulating_supply: it.circulating_supply ?? null,
    total_supply: it.total_supply ?? null,
    max_supply: it.max_supply ?? null,
    rank: it.market_cap_rank ?? null,
    ingested_at: microsFromMillis(nowMs),
  })
}

export class CoinGeckoSource implements ObservableSource {
  readonly name = COINGECKO_SOURCE
  readonly intervalMs: number
  readonly client: CoinGeckoClient
  private readonly deps: SourceDeps
  private readonly repeats = new RepeatFilter()

  /** Pass a client to share its rate limit and breaker with backfill. */
  constructor(options: CoinGeckoOptionsInput | CoinGeckoClient = {}, deps: SourceDeps = systemDeps) {
    this.client = options instanceof CoinGeckoClient ? options : new CoinGeckoClient(options, deps)
    this.intervalMs = this.client.options.intervalMs
    this.deps = deps
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    const { pages, perPage, futureToleranceMs } = this.client.options
    const quotes: Quote[] = []
    const deadLetters: DeadLetter[] = []
    for (let page = 1; page <= pages; page++) {
      const res = await this.client.markets(page, signal)
      const now = this.deps.now()
      if (!Array.isArray(res.json)) {
        throw new CryptoVizError(
          'SOURCE_BAD_RESPONSE',
          `coingecko: /coins/markets page ${page} is not an array`,
          {
            kind: 'external',
            details: {
              provider: COINGECKO_SOURCE,
              target: res.target,
              deadLetters: [
                deadLetter(
                  COINGECKO_SOURCE,
                  'shape_invalid',
                  `page ${page}: expected an array of coins`,
                  res.json,
                  now,
                ),
              ],
            },
          },
        )
      }
      for (const item of res.json as unknown[]) {
        const r = normalizeCoinGeckoMarket(item, now, futureToleranceMs)
        if (isRejection(r)) deadLetters.push(deadLetter(COINGECKO_SOURCE, r.reason, r.detail, item, now))
        else quotes.push(r.quote)
      }
      if (res.json.length < perPage) break
    }
    const { fresh, commit } = this.repeats.fresh(quotes)
    commit()
    return { quotes: fresh, deadLetters }
  }

  stats(): SourceStats {
    const h = this.client.http.stats()
    return {
      requests: h.requests,
      retries: h.retries,
      failedRequests: h.failures,
      lastStatus: h.lastStatus,
      lastRetryDelayMs: h.lastRetryDelayMs,
      circuit: h.circuit,
      creditsUsed: null,
      creditBudget: null,
      repeatsSuppressed: this.repeats.suppressedCount(),
    }
  }
}
