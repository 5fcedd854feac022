/**
 * The hot tail of a server without a processor of its own (`cryptoviz serve --broker`): the
 * quotes the live subscription saw within a time window, bounded in count. The query engine
 * de-duplicates them against committed files, so a quote in both is counted once; one older than
 * the window is assumed committed (the window should exceed the processors' flush interval).
 */
import type { Quote } from '../model/quote.ts'

export class RecentQuotes {
  private readonly windowMs: number
  private readonly maxQuotes: number
  private readonly now: () => number
  private chunks: Array<{ at: number; quotes: readonly Quote[] }> = []
  private count = 0

  constructor(o: { windowMs: number; maxQuotes: number; now?: () => number }) {
    this.windowMs = o.windowMs
    this.maxQuotes = o.maxQuotes
    this.now = o.now ?? Date.now
  }

  push(quotes: readonly Quote[]): void {
    if (quotes.length === 0) return
    this.chunks.push({ at: this.now(), quotes })
    this.count += quotes.length
    this.trim()
  }

  /** The window's quotes, oldest first. */
  pending(): Quote[] {
    this.trim()
    return this.chunks.flatMap((c) => c.quotes)
  }

  private trim(): void {
    const oldest = this.now() - this.windowMs
    while (this.chunks.length > 0 && (this.chunks[0]!.at < oldest || this.count > this.maxQuotes)) {
      this.count -= this.chunks.shift()!.quotes.length
    }
  }
}
