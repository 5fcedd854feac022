/**
 * Per-client rate limiting: one token bucket (`src/token-bucket.ts`) per client IP, refilled
 * continuously at `perSecond` up to `burst`. A request takes one token; without one it gets a 429
 * `RATE_LIMITED` with `retry-after` (whole seconds until a token is back).
 *
 * Invariants:
 * - Memory is bounded: at most `maxClients` buckets are kept, least recently seen evicted first
 *   (an evicted client comes back with a full bucket, which only errs on the lenient side).
 * - Routes marked `doc.unlimited` (probes, scrapers) never consume tokens.
 */
import type { FastifyInstance } from 'fastify'
import { CryptoVizError } from '../errors.ts'
import { TokenBucket, type TakeResult, type TokenBucketOptions } from '../token-bucket.ts'

export interface RateLimitOptions extends TokenBucketOptions {
  /** Buckets kept, default 10_000. */
  maxClients?: number
  /** Clock in milliseconds; default `Date.now`. */
  now?: () => number
}

export type { TakeResult }

export class ClientRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly options: TokenBucketOptions
  private readonly maxClients: number
  private readonly now: () => number

  constructor(options: RateLimitOptions) {
    this.options = { burst: options.burst, perSecond: options.perSecond }
    this.maxClients = options.maxClients ?? 10_000
    this.now = options.now ?? Date.now
  }

  take(client: string): TakeResult {
    const now = this.now()
    const seen = this.buckets.get(client)
    const bucket = seen ?? new TokenBucket(this.options, now)
    // Re-insert so Map order is least recently seen first.
    this.buckets.delete(client)
    this.buckets.set(client, bucket)
    if (seen === undefined && this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value
      if (oldest !== undefined) this.buckets.delete(oldest)
    }
    return bucket.take(now)
  }

  get clients(): number {
    return this.buckets.size
  }
}

export function useRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
  onLimited: () => void,
): ClientRateLimiter | undefined {
  if (options.perSecond <= 0) return undefined
  const limiter = new ClientRateLimiter(options)
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.doc?.unlimited === true) return
    const r = limiter.take(request.ip)
    if (r.ok) {
      void reply.header('ratelimit-limit', String(options.burst))
      void reply.header('ratelimit-remaining', String(r.remaining))
      return
    }
    onLimited()
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000))
    throw new CryptoVizError('RATE_LIMITED', `too many requests; retry in ${seconds} s`, {
      kind: 'user',
      canRetry: true,
      details: { retryAfterSeconds: seconds },
    })
  })
  return limiter
}
