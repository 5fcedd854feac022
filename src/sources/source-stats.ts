/**
 * What a live source reports about itself beyond its polls: requests sent, retries, circuit state
 * and credits. The collector merges it into `health()`; sources without it (the simulator) show
 * nulls there.
 */
import type { CircuitState } from './circuit-breaker.ts'
import type { QuoteSource } from './source.ts'

export interface SourceStats {
  /** HTTP requests sent, retries included. */
  requests: number
  retries: number
  /** Requests that failed after their retries. */
  failedRequests: number
  lastStatus: number | null
  /** The last backoff slept between two attempts of one request, in milliseconds. */
  lastRetryDelayMs: number | null
  circuit: CircuitState | null
  /** Provider credits used in the current budget period, when the provider bills in credits. */
  creditsUsed: number | null
  creditBudget: number | null
  /** Unchanged repeats (same provider `last_updated`) not emitted again. */
  repeatsSuppressed: number
}

export interface ObservableSource extends QuoteSource {
  stats(): SourceStats
}

export function statsOf(source: QuoteSource): SourceStats | undefined {
  const s = (source as Partial<ObservableSource>).stats
  return typeof s === 'function' ? s.call(source) : undefined
}
