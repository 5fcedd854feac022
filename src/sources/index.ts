/** The sources area's public API, named export by export. */
export { AutoSource, type AutoMode, type AutoState } from './auto-source.ts'
export {
  backfill,
  backfillAppId,
  backfillWindows,
  chartToQuotes,
  type BackfillAsset,
  type BackfillCryptoReport,
  type BackfillProgress,
  type BackfillRequest,
  type BackfillSink,
  type BackfillWindow,
} from './backfill.ts'
export { jitteredBackoff, parseRetryAfter } from './backoff.ts'
export { CircuitBreaker, type CircuitState } from './circuit-breaker.ts'
export {
  CoinGeckoClient,
  COINGECKO_MARKETS_PATH,
  COINGECKO_SOURCE,
  coingeckoErrorBody,
  interpretCoinGecko,
} from './coingecko-client.ts'
export { CoinGeckoSource, coingeckoMarketItemSchema, normalizeCoinGeckoMarket } from './coingecko.ts'
export {
  CMC_ERROR_CODES,
  CMC_LISTINGS_PATH,
  CoinMarketCapSource,
  COINMARKETCAP_SOURCE,
  interpretCoinMarketCap,
  normalizeCoinMarketCapListing,
} from './coinmarketcap.ts'
export { Collector, type CollectorCallbacks, type SourceHealth } from './collector.ts'
export {
  createSources,
  parseSourceModes,
  SOURCE_MODES,
  type CreateSourcesDeps,
  type SourceMode,
  type SourceSelection,
} from './create-sources.ts'
export { DailyCreditBudget } from './credit-budget.ts'
export {
  canonicalFromCoinGecko,
  canonicalFromCoinMarketCap,
  canonicalSymbol,
  CMC_SLUG_OVERRIDES,
} from './crypto-slugs.ts'
export { deadLetter, deadLettersOf } from './dead-letters.ts'
export { findGaps, type Gap, type GapOptions, type TimestampSeries } from './gaps.ts'
export * from './options.ts'
export { ProviderHttp, type ProviderHttpStats, type ProviderResponse } from './provider-http.ts'
export { RepeatFilter } from './repeat-filter.ts'
export { SimulatedSource } from './simulated.ts'
export type { PollResult, QuoteSource } from './source.ts'
export { systemDeps, withDeps, type SourceDeps } from './source-deps.ts'
export { statsOf, type ObservableSource, type SourceStats } from './source-stats.ts'
export { bucketOptions, RequestPacer } from './request-pacer.ts'
