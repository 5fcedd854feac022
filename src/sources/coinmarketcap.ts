/**
 * The CoinMarketCap live source: polls `/v1/cryptocurrency/listings/latest` in USD with the key
 * in `X-CMC_PRO_API_KEY`, keeps within a daily credit budget, and turns each listing into a
 * `Quote` (canonical slug via `crypto-slugs.ts`) or a dead letter.
 *
 * Invariants:
 * - Every answer is judged by `status.error_code` first (CMC reports some errors inside 200s);
 *   codes 1001–1011 become typed errors (auth, rate limit, budget).
 * - `status.credit_count` of every answer is added to the day's spend; a call whose expected
 *   cost would pass the budget is refused unsent with `SOURCE_BUDGET_EXHAUSTED`.
 * - `ts` is the USD quote's `last_updated`; unchanged repeats are suppressed across polls.
 */
import { z } from 'zod'
import { CryptoVizError, type ErrorCode } from '../errors.ts'
import { type Quote } from '../model/quote.ts'
import { microsFromMillis } from '../micros.ts'
import { parseRetryAfter } from './backoff.ts'
import { DailyCreditBudget } from './credit-budget.ts'
import { canonicalFromCoinMarketCap, canonicalSymbol } from './crypto-slugs.ts'
import { deadLetter } from './dead-letters.ts'
import {
  coinmarketcapOptionsSchema,
  parseOptions,
  type CoinMarketCapOptions,
  type CoinMarketCapOptionsInput,
} from './options.ts'
import { ProviderHttp, type ProviderResponse } from './provider-http.ts'
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

export const COINMARKETCAP_SOURCE = 'coinmarketcap'
export const CMC_LISTINGS_PATH = '/v1/cryptocurrency/listings/latest'
/** The listings endpoint bills one credit per 200 coins returned, rounded up. */
export const CMC_COINS_PER_CREDIT = 200

interface CmcErrorRule {
  code: ErrorCode
  meaning: string
  canRetry: boolean
}

/** CoinMarketCap's documented `status.error_code` values and what we make of them. */
export const CMC_ERROR_CODES: Readonly<Record<number, CmcErrorRule>> = Object.freeze({
  1001: { code: 'SOURCE_AUTH', meaning: 'API key invalid', canRetry: false },
  1002: { code: 'SOURCE_AUTH', meaning: 'API key missing', canRetry: false },
  1003: { code: 'SOURCE_AUTH', meaning: 'plan requires payment', canRetry: false },
  1004: { code: 'SOURCE_AUTH', meaning: 'plan payment expired', canRetry: false },
  1005: { code: 'SOURCE_AUTH', meaning: 'API key required', canRetry: false },
  1006: { code: 'SOURCE_AUTH', meaning: 'endpoint not authorized for this plan', canRetry: false },
  1007: { code: 'SOURCE_AUTH', meaning: 'API key disabled', canRetry: false },
  1008: { code: 'SOURCE_RATE_LIMITED', meaning: 'minute rate limit reached', canRetry: true },
  1009: { code: 'SOURCE_BUDGET_EXHAUSTED', meaning: 'daily credit limit reached', canRetry: false },
  1010: { code: 'SOURCE_BUDGET_EXHAUSTED', meaning: 'monthly credit limit reached', canRetry: false },
  1011: { code: 'SOURCE_RATE_LIMITED', meaning: 'IP rate limit reached', canRetry: true },
})

/** CMC's rate limits reset every 60 s; wait that long when no `Retry-After` says otherwise. */
const RATE_LIMIT_WINDOW_MS = 60_000

const cmcStatusSchema = z.looseObject({
  error_code: z.coerce.number().optional(),
  error_message: z.string().nullable().optional(),
  // An unreadable credit count must not hide the error code next to it.
  credit_count: z.number().nullable().optional().catch(undefined),
})

export function cmcStatusOf(json: unknown): z.output<typeof cmcStatusSchema> | undefined {
  if (json === null || typeof json !== 'object') return undefined
  const r = cmcStatusSchema.safeParse((json as Record<string, unknown>)['status'])
  return r.success ? r.data : undefined
}

const msUntilNextUtcMonth = (nowMs: number): number => {
  const d = new Date(nowMs)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - nowMs
}
const msUntilNextUtcDay = (nowMs: number): number => (Math.floor(nowMs / 86_400_000) + 1) * 86_400_000 - nowMs

/** CMC's `status.error_code` as a typed error; undefined leaves the response to the generic rules. */
export function interpretCoinMarketCap(res: ProviderResponse, nowMs: number): CryptoVizError | undefined {
  const status = cmcStatusOf(res.json)
  const providerCode = status?.error_code
  if (status === undefined || providerCode === undefined || providerCode === 0) return undefined
  const providerMessage = status.error_message ?? ''
  const details: Record<string, unknown> = {
    provider: COINMARKETCAP_SOURCE,
    target: res.target,
    status: res.status,
    providerCode,
    providerMessage,
  }
  const rule = CMC_ERROR_CODES[providerCode]
  if (rule === undefined) {
    if (res.status >= 500) return undefined
    return new CryptoVizError(
      res.status >= 200 && res.status < 300 ? 'SOURCE_BAD_RESPONSE' : 'SOURCE_HTTP',
      `coinmarketcap error ${providerCode} (HTTP ${res.status}): ${providerMessage}`,
      { kind: 'external', details },
    )
  }
  if (rule.code === 'SOURCE_RATE_LIMITED')
    details['retryAfterMs'] = parseRetryAfter(res.headers.get('retry-after'), nowMs) ?? RATE_LIMIT_WINDOW_MS
  if (providerCode === 1009) details['retryAfterMs'] = msUntilNextUtcDay(nowMs)
  if (providerCode === 1010) details['retryAfterMs'] = msUntilNextUtcMonth(nowMs)
  return new CryptoVizError(
    rule.code,
    `coinmarketcap error ${providerCode}: ${rule.meaning} (${providerMessage})`,
    {
      kind: rule.code === 'SOURCE_AUTH' ? 'user' : 'external',
      canRetry: rule.canRetry,
      details,
    },
  )
}

const usdQuoteSchema = z.looseObject({
  price: optionalNumber,
  volume_24h: optionalNumber,
  percent_change_1h: optionalNumber,
  percent_change_24h: optionalNumber,
  percent_change_7d: optionalNumber,
  market_cap: optionalNumber,
  last_updated: z.string().nullable().optional(),
})

/** The fields of a listings item we use; other fields are ignored. */
export const cmcListingSchema = z.looseObject({
  id: z.number(),
  name: z.string().min(1),
  symbol: z.string().min(1),
  slug: z.string().min(1),
  cmc_rank: optionalNumber,
  circulating_supply: optionalNumber,
  total_supply: optionalNumber,
  max_supply: optionalNumber,
  last_updated: z.string().nullable().optional(),
  quote: z.looseObject({ USD: usdQuoteSchema }),
})

/** One listings item as a quote, or the reason it cannot be one. */
export function normalizeCoinMarketCapListing(
  raw: unknown,
  nowMs: number,
  futureToleranceMs: number,
): { quote: Quote } | Rejection {
  const parsed = cmcListingSchema.safeParse(raw)
  if (!parsed.success) return { reason: 'shape_invalid', detail: issuesText(parsed.error) }
  const it = parsed.data
  const usd = it.quote.USD
  const crypto = canonicalFromCoinMarketCap(it.slug)
  const rejected =
    checkSlug(crypto, 'slug') ??
    checkPrice(usd.price, 'quote.USD.price') ??
    checkFinite({
      'quote.USD.volume_24h': usd.volume_24h,
      'quote.USD.percent_change_1h': usd.percent_change_1h,
      'quote.USD.percent_change_24h': usd.percent_change_24h,
      'quote.USD.percent_change_7d': usd.percent_change_7d,
      'quote.USD.market_cap': usd.market_cap,
      cmc_rank: it.cmc_rank,
      circulating_supply: it.circulating_supply,
      total_supply: it.total_supply,
      max_supply: it.max_supply,
    })
  if (rejected !== undefined) return rejected
  const field =
    usd.last_updated !== undefined && usd.last_updated !== null ? 'quote.USD.last_updated' : 'last_updated'
  const time = providerTime(usd.last_updated ?? it.last_updated, field, nowMs, futureToleranceMs)
  if (isRejection(time)) return time
  return finalQuote({
    ts: time.micros,
    source: COINMARKETCAP_SOURCE,
    crypto,
    symbol: canonicalSymbol(it.symbol),
    name: it.name,
    price_usd: usd.price as number,
    market_cap_usd: usd.market_cap ?? null,
    volume_24h_usd: usd.volume_24h ?? null,
    change_1h_pct: usd.percent_change_1h ?? null,
    change_24h_pct: usd.percent_change_24h ?? null,
    change_7d_pct: usd.percent_change_7d ?? null,
    circulating_supply: it.circulating_supply ?? null,
    total_supply: it.total_supply ?? null,
    max_supply: it.max_supply ?? null,
    rank: it.cmc_rank ?? null,
    ingested_at: microsFromMillis(nowMs),
  })
}

export class CoinMarketCapSource implements ObservableSource {
  readonly name = COINMARKETCAP_SOURCE
  readonly intervalMs: number
  readonly options: CoinMarketCapOptions
  readonly budget: DailyCreditBudget
  private readonly http: ProviderHttp
  private readonly deps: SourceDeps
  private readonly repeats = new RepeatFilter()
  /** Credits the last successful call cost; the estimate for the next one. */
  private lastCost: number | undefined

  constructor(options: CoinMarketCapOptionsInput, deps: SourceDeps = systemDeps) {
    this.options = parseOptions(coinmarketcapOptionsSchema, options, 'coinmarketcap')
    const o = this.options
    if (o.apiKey === undefined)
      throw new CryptoVizError(
        'CONFIG_INVALID',
        'the coinmarketcap source needs an API key (CRYPTOVIZ_CMC_API_KEY or --cmc-api-key)',
        { kind: 'user' },
      )
    this.intervalMs = o.intervalMs
    this.deps = deps
    this.budget = new DailyCreditBudget(
      COINMARKETCAP_SOURCE,
      o.dailyCreditBudget,
      () => deps.now(),
      deps.state,
    )
    this.http = new ProviderHttp(
      {
        provider: COINMARKETCAP_SOURCE,
        baseUrl: o.baseUrl,
        headers: { 'X-CMC_PRO_API_KEY': o.apiKey },
        timeoutMs: o.timeoutMs,
        retry: o.retry,
        rateLimit: o.rateLimit,
        circuitBreaker: o.circuitBreaker,
        beforeAttempt: () => this.budget.refusal(this.expectedCost()),
        onResponse: (res) => this.countCredits(res),
        interpret: (res) => {
          const error = interpretCoinMarketCap(res, deps.now())
          if (error?.details?.['providerCode'] === 1009) this.budget.markExhausted()
          return error
        },
      },
      deps,
    )
  }

  /** Credits the next call is expected to cost. */
  expectedCost(): number {
    return this.lastCost ?? Math.ceil(this.options.limit / CMC_COINS_PER_CREDIT)
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    const { start, limit, futureToleranceMs } = this.options
    const res = await this.http.getJson(
      CMC_LISTINGS_PATH,
      { start, limit, convert: 'USD', sort: 'market_cap' },
      signal,
    )
    const now = this.deps.now()
    const data = (res.json as Record<string, unknown> | null)?.['data']
    if (!Array.isArray(data)) {
      throw new CryptoVizError('SOURCE_BAD_RESPONSE', 'coinmarketcap: listings answer has no data array', {
        kind: 'external',
        details: {
          provider: COINMARKETCAP_SOURCE,
          target: res.target,
          deadLetters: [
            deadLetter(
              COINMARKETCAP_SOURCE,
              'shape_invalid',
              'expected {status, data: [...]}',
              res.json,
              now,
            ),
          ],
        },
      })
    }
    const quotes: Quote[] = []
    const deadLetters: DeadLetter[] = []
    for (const item of data as unknown[]) {
      const r = normalizeCoinMarketCapListing(item, now, futureToleranceMs)
      if (isRejection(r)) deadLetters.push(deadLetter(COINMARKETCAP_SOURCE, r.reason, r.detail, item, now))
      else quotes.push(r.quote)
    }
    const { fresh, commit } = this.repeats.fresh(quotes)
    commit()
    return { quotes: fresh, deadLetters }
  }

  stats(): SourceStats {
    const h = this.http.stats()
    return {
      requests: h.requests,
      retries: h.retries,
      failedRequests: h.failures,
      lastStatus: h.lastStatus,
      lastRetryDelayMs: h.lastRetryDelayMs,
      circuit: h.circuit,
      creditsUsed: this.budget.used(),
      creditBudget: this.budget.budget,
      repeatsSuppressed: this.repeats.suppressedCount(),
    }
  }

  private countCredits(res: ProviderResponse): void {
    const status = cmcStatusOf(res.json)
    const reported = status?.credit_count
    const ok = res.status >= 200 && res.status < 300 && (status?.error_code ?? 0) === 0
    if (typeof reported === 'number' && Number.isFinite(reported)) {
      this.budget.record(reported)
      if (ok && reported > 0) this.lastCost = reported
    } else if (ok) {
      // A success that does not say what it cost is counted at the expected cost, to stay safe.
      this.budget.record(this.expectedCost())
    }
  }
}
