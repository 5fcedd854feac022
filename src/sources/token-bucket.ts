/**
 * A token bucket that paces requests to one provider. It holds at most `burst` tokens and refills
 * continuously at `requestsPerMinute`; each request takes one token, waiting (on the injected
 * clock) until one is available.
 *
 * Invariants: tokens never exceed `burst` and never go below zero; waiters are served in arrival
 * order, so a long backfill cannot starve the live poll that queued after one of its requests.
 */
import type { RateLimitOptions } from './options.ts'
import type { SourceDeps } from './source-deps.ts'

export class TokenBucket {
  private readonly capacity: number
  private readonly perMs: number
  private readonly deps: Pick<SourceDeps, 'now' | 'sleep'>
  private tokens: number
  private updatedAt: number
  private queue: Promise<void> = Promise.resolve()

  constructor(options: RateLimitOptions, deps: Pick<SourceDeps, 'now' | 'sleep'>) {
    this.capacity = options.burst
    this.perMs = options.requestsPerMinute / 60_000
    this.deps = deps
    this.tokens = options.burst
    this.updatedAt = deps.now()
  }

  /** Tokens available right now (fractional while refilling). */
  available(): number {
    this.refill()
    return this.tokens
  }

  /** Waits for and takes one token; rejects with the signal's reason as soon as it aborts. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(signal))
    // The next waiter queues behind this one whether it succeeds or is aborted.
    this.queue = turn.catch(() => undefined)
    if (signal === undefined) return turn
    // An aborted waiter leaves at once; its queued turn then finds the signal aborted and takes nothing.
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  private async takeNow(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      this.refill()
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      await this.deps.sleep(Math.ceil((1 - this.tokens) / this.perMs), signal)
    }
  }

  private refill(): void {
    const now = this.deps.now()
    const elapsed = Math.max(0, now - this.updatedAt)
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs)
    this.updatedAt = now
  }
}
