/**
 * Paces requests to one provider with a token bucket (`src/token-bucket.ts`): each request takes
 * one token, waiting (on the injected clock) until one is available.
 *
 * Invariant: waiters are served in arrival order, so a long backfill cannot starve the live poll
 * that queued after one of its requests; an aborted waiter leaves at once and takes nothing.
 */
import { TokenBucket, type TokenBucketOptions } from '../token-bucket.ts'
import type { RateLimitOptions } from './options.ts'
import type { SourceDeps } from './source-deps.ts'

/** A provider's rate limit (documented per minute) as token-bucket options. */
export const bucketOptions = (limit: RateLimitOptions): TokenBucketOptions => ({
  burst: limit.burst,
  perSecond: limit.requestsPerMinute / 60,
})

export class RequestPacer {
  private readonly bucket: TokenBucket
  private readonly deps: Pick<SourceDeps, 'now' | 'sleep'>
  private queue: Promise<void> = Promise.resolve()

  constructor(options: TokenBucketOptions, deps: Pick<SourceDeps, 'now' | 'sleep'>) {
    this.bucket = new TokenBucket(options, deps.now())
    this.deps = deps
  }

  /** Tokens available right now (fractional while refilling). */
  available(): number {
    return this.bucket.available(this.deps.now())
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
      const r = this.bucket.take(this.deps.now())
      if (r.ok) return
      await this.deps.sleep(Math.ceil(r.retryAfterMs), signal)
    }
  }
}
