/**
 * A circuit breaker per provider. After `failureThreshold` consecutive failed requests it opens:
 * requests fail at once with `SOURCE_CIRCUIT_OPEN` and nothing is sent. After `openMs` it lets a
 * single trial request through (half-open); success closes it, failure opens it again.
 *
 * Invariants: at most one trial is in flight while half-open; a request refused by the breaker
 * is neither a success nor a failure.
 */
import { CryptoVizError } from '../errors.ts'
import type { CircuitBreakerOptions } from './options.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

export class CircuitBreaker {
  private readonly provider: string
  private readonly options: CircuitBreakerOptions
  private readonly now: () => number
  private failures = 0
  private openedAt: number | undefined
  private trialInFlight = false

  constructor(provider: string, options: CircuitBreakerOptions, now: () => number) {
    this.provider = provider
    this.options = options
    this.now = now
  }

  state(): CircuitState {
    if (this.openedAt === undefined) return 'closed'
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open'
  }

  /** Milliseconds until a trial request is allowed; 0 when closed or half-open. */
  remainingOpenMs(): number {
    if (this.openedAt === undefined) return 0
    return Math.max(0, this.openedAt + this.options.openMs - this.now())
  }

  /** Consecutive failures counted so far. */
  failureCount(): number {
    return this.failures
  }

  /** Throws `SOURCE_CIRCUIT_OPEN` unless a request may be sent now. */
  beforeRequest(): void {
    const state = this.state()
    if (state === 'closed') return
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true
      return
    }
    const retryAfterMs = state === 'open' ? this.remainingOpenMs() : this.options.openMs
    throw new CryptoVizError(
      'SOURCE_CIRCUIT_OPEN',
      `${this.provider}: circuit open after ${this.failures} consecutive failures; next trial in ${retryAfterMs} ms`,
      { kind: 'external', canRetry: true, details: { provider: this.provider, retryAfterMs } },
    )
  }

  onSuccess(): void {
    this.failures = 0
    this.openedAt = undefined
    this.trialInFlight = false
  }

  onFailure(): void {
    this.failures++
    const wasTrial = this.trialInFlight
    this.trialInFlight = false
    if (wasTrial || this.failures >= this.options.failureThreshold) this.openedAt = this.now()
  }

  /** A request that was let through ended without an outcome (the caller aborted it). */
  onAbandoned(): void {
    this.trialInFlight = false
  }
}
