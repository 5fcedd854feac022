/**
 * Where a quote enters CryptoViz. A `QuoteSource` is polled by the collector; each poll returns the
 * valid quotes it normalised and, for every item it could not use, a dead letter with the raw
 * payload and the reason. A source never drops an item silently and never invents one.
 */
import type { Quote } from '../model/quote.ts'

export interface DeadLetter {
  source: string
  /** Stable machine-readable reason, e.g. `price_missing`, `price_not_positive`, `shape_invalid`. */
  reason: string
  /** Human-readable detail (the zod issue, the HTTP status…). */
  detail: string
  /** The raw item or body exactly as received (parsed JSON when it parsed, else text). */
  raw: unknown
  /** Microseconds since epoch, UTC. */
  received_at: number
}

export interface PollResult {
  quotes: Quote[]
  deadLetters: DeadLetter[]
}

export interface QuoteSource {
  /** The `source` label its quotes carry, e.g. `coingecko`, `simulated`. */
  readonly name: string
  /** Milliseconds between polls. */
  readonly intervalMs: number
  poll(signal: AbortSignal): Promise<PollResult>
}
