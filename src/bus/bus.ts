/**
 * The quote bus: collectors publish, processors and live subscribers consume. Embedded mode uses
 * `MemoryBus` (one process, no durability: quotes in flight are only as safe as the process);
 * distributed mode puts a Kafka-compatible broker behind the same interface.
 *
 * Invariant: every subscriber sees every published quote, in publish order.
 */
import type { DeadLetter } from '../model/dead-letter.ts'
import type { Quote } from '../model/quote.ts'

export interface BusHandlers {
  onQuotes?: (quotes: readonly Quote[]) => void
  onDeadLetters?: (deadLetters: readonly DeadLetter[]) => void
}

export interface QuoteBus {
  publishQuotes(quotes: readonly Quote[]): void
  publishDeadLetters(deadLetters: readonly DeadLetter[]): void
  /** Registers handlers; returns the function that unsubscribes them. */
  subscribe(handlers: BusHandlers): () => void
}
