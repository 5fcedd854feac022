/**
 * Suppresses unchanged repeats: a provider answers every poll with its latest value per asset,
 * and most of them have the same `last_updated` as the previous answer. Only a quote newer than
 * the last one emitted for its asset passes, so each (source, asset, provider time) is emitted
 * once even when a page boundary shifts and an asset appears twice.
 *
 * Invariant: per asset, emitted `ts` values strictly increase. A quote older than one already
 * emitted (a stale cache node answering) is counted as a repeat, not emitted.
 */
import type { Quote } from '../model/quote.ts'

export class RepeatFilter {
  private readonly lastTs = new Map<string, number>()
  private suppressed = 0

  /** The quotes that are new, in input order; remembers them only when `commit` is called. */
  fresh(quotes: readonly Quote[]): { fresh: Quote[]; commit: () => void } {
    const seen = new Map<string, number>()
    const fresh: Quote[] = []
    let repeats = 0
    for (const q of quotes) {
      const last = seen.get(q.crypto) ?? this.lastTs.get(q.crypto)
      if (last !== undefined && q.ts <= last) {
        repeats++
        continue
      }
      seen.set(q.crypto, q.ts)
      fresh.push(q)
    }
    return {
      fresh,
      commit: () => {
        for (const [crypto, ts] of seen) this.lastTs.set(crypto, ts)
        this.suppressed += repeats
      },
    }
  }

  /** Repeats suppressed so far. */
  suppressedCount(): number {
    return this.suppressed
  }
}
