/**
 * A daily credit budget for a provider that bills per credit (CoinMarketCap). Credits reported by
 * the provider (`status.credit_count`) are added up per UTC day; a request whose expected cost
 * would take the day's total past the budget is refused before it is sent.
 *
 * Invariants: the total only counts credits the provider reported (or, when it reported none, the
 * expected cost); it resets at 00:00 UTC; the budget is never knowingly exceeded. With a state
 * store the day's count survives restarts (a crash loop cannot overspend a paid plan); without
 * one it lives in memory and a restart starts the day at zero.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import type { SourceStateStore } from './source-deps.ts'

const savedBudget = z.object({
  day: z.number().int(),
  spent: z.number().nonnegative(),
  exhausted: z.boolean(),
})

const DAY_MS = 86_400_000

export class DailyCreditBudget {
  readonly provider: string
  readonly budget: number
  private readonly now: () => number
  private day: number
  private spent = 0
  private exhaustedByProvider = false

  private readonly state: SourceStateStore | undefined

  constructor(provider: string, budget: number, now: () => number, state?: SourceStateStore) {
    this.provider = provider
    this.budget = budget
    this.now = now
    this.day = Math.floor(now() / DAY_MS)
    this.state = state
    const saved = savedBudget.safeParse(state?.get(this.stateKey))
    if (saved.success && saved.data.day === this.day) {
      this.spent = saved.data.spent
      this.exhaustedByProvider = saved.data.exhausted
    }
  }

  private get stateKey(): string {
    return `${this.provider}.credit_budget`
  }

  private save(): void {
    this.state?.set(this.stateKey, { day: this.day, spent: this.spent, exhausted: this.exhaustedByProvider })
  }

  /** Credits spent today (UTC). */
  used(): number {
    this.roll()
    return this.spent
  }

  /** Milliseconds until the budget resets at the next 00:00 UTC. */
  msUntilReset(): number {
    const now = this.now()
    return (Math.floor(now / DAY_MS) + 1) * DAY_MS - now
  }

  /** The `SOURCE_BUDGET_EXHAUSTED` error when spending `cost` more would pass the budget. */
  refusal(cost: number): CryptoVizError | undefined {
    this.roll()
    if (!this.exhaustedByProvider && this.spent + cost <= this.budget) return undefined
    const why = this.exhaustedByProvider
      ? 'the provider reported its daily limit reached'
      : `${this.spent} of ${this.budget} daily credits used, next call costs ${cost}`
    return new CryptoVizError('SOURCE_BUDGET_EXHAUSTED', `${this.provider}: ${why}; waiting for 00:00 UTC`, {
      kind: 'external',
      canRetry: false,
      details: {
        provider: this.provider,
        creditsUsed: this.spent,
        creditBudget: this.budget,
        retryAfterMs: this.msUntilReset(),
      },
    })
  }

  record(credits: number): void {
    this.roll()
    this.spent += credits
    this.save()
  }

  /** The provider says today's allowance is gone, whatever our count says. */
  markExhausted(): void {
    this.roll()
    this.exhaustedByProvider = true
    this.save()
  }

  private roll(): void {
    const day = Math.floor(this.now() / DAY_MS)
    if (day !== this.day) {
      this.day = day
      this.spent = 0
      this.exhaustedByProvider = false
    }
  }
}
