/**
 * A token bucket: at most `burst` tokens, refilled continuously at `perSecond`; an action takes
 * one token. The one implementation behind both the pacing of provider requests
 * (`sources/request-pacer.ts`) and per-client API rate limiting (`server/client-rate-limit.ts`).
 *
 * Invariants: tokens never exceed `burst` and never go below zero; time comes from the caller
 * (milliseconds, any monotonic clock), so the bucket is deterministic under a test clock.
 *
 * A neutral module (like `errors.ts`): it imports nothing, and every layer may import it.
 */

export interface TokenBucketOptions {
  /** Capacity: actions allowed back to back after a quiet period. */
  burst: number
  /** Sustained refill rate, tokens per second (> 0). */
  perSecond: number
}

/** A token taken (`remaining` whole tokens left), or not, and how long until one is back. */
export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number }

export class TokenBucket {
  private readonly burst: number
  private readonly perMs: number
  private tokens: number
  private updatedAt: number

  /** A full bucket at time `now` (ms). */
  constructor(options: TokenBucketOptions, now: number) {
    this.burst = options.burst
    this.perMs = options.perSecond / 1000
    this.tokens = options.burst
    this.updatedAt = now
  }

  /** Tokens available at `now` (fractional while refilling). */
  available(now: number): number {
    this.refill(now)
    return this.tokens
  }

  /** Takes one token at `now` if one is available. */
  take(now: number): TakeResult {
    this.refill(now)
    if (this.tokens >= 1) {
      this.tokens -= 1
      return { ok: true, remaining: Math.floor(this.tokens) }
    }
    return { ok: false, retryAfterMs: (1 - this.tokens) / this.perMs }
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt)
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perMs)
    this.updatedAt = now
  }
}
