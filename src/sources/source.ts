/**
 * Where a quote enters CryptoViz. A `QuoteSource` is polled by the collector; each poll returns the
 * valid quotes it normalised and, for every item it could not use, a dead letter with the raw
 * payload and the reason. A source never drops an item silently and never invents one.
 */
import type { DeadLetter } from '../model/dead-letter.ts'
import type { Quote } from '../model/quote.ts'

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
