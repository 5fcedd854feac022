/**
 * In-process `QuoteBus`. Delivery is synchronous, so when `publishQuotes` returns every subscriber
 * (the processor's buffer, the live feed) holds the quotes. A throwing subscriber is isolated: it
 * is reported through `onSubscriberError` and never stops delivery to the others.
 */
import type { Quote } from '../model/quote.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import type { BusHandlers, QuoteBus } from './bus.ts'

export class MemoryBus implements QuoteBus {
  private readonly subscribers = new Set<BusHandlers>()
  private readonly onSubscriberError: (error: unknown) => void

  constructor(options: { onSubscriberError?: (error: unknown) => void } = {}) {
    this.onSubscriberError = options.onSubscriberError ?? (() => undefined)
  }

  publishQuotes(quotes: readonly Quote[]): void {
    if (quotes.length === 0) return
    for (const s of this.subscribers) this.deliver(() => s.onQuotes?.(quotes))
  }

  publishDeadLetters(deadLetters: readonly DeadLetter[]): void {
    if (deadLetters.length === 0) return
    for (const s of this.subscribers) this.deliver(() => s.onDeadLetters?.(deadLetters))
  }

  subscribe(handlers: BusHandlers): () => void {
    // A fresh object per subscription, so one handler set may subscribe twice independently.
    const entry = { ...handlers }
    this.subscribers.add(entry)
    return () => this.subscribers.delete(entry)
  }

  private deliver(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.onSubscriberError(e)
    }
  }
}
