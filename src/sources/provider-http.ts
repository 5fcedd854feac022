/**
 * One provider's HTTP client: every request goes through the provider's token bucket and circuit
 * breaker, has a timeout covering headers and body, and is retried with jittered backoff when the
 * failure is transient, waiting at least what `Retry-After` asks.
 *
 * Invariants:
 * - A provider-specific `interpret` hook decides first whether a response is an error (CoinMarketCap
 *   reports errors inside 200 bodies); generic rules by HTTP status apply after it.
 * - A wait longer than `retry.maxDelayMs` is never slept inside a request: the request fails with
 *   `details.retryAfterMs` and the collector defers the next poll instead.
 * - The breaker counts one outcome per request (after its retries), never per attempt; a request
 *   aborted by the caller counts as neither success nor failure.
 * - Errors never carry request headers, so API keys do not reach logs.
 */
import { CryptoVizError } from '../errors.ts'
import { jitteredBackoff, parseRetryAfter } from './backoff.ts'
import { CircuitBreaker, type CircuitState } from './circuit-breaker.ts'
import { deadLetter } from './dead-letters.ts'
import type { CircuitBreakerOptions, RateLimitOptions, RetryOptions } from './options.ts'
import type { SourceDeps } from './source-deps.ts'
import { bucketOptions, RequestPacer } from './request-pacer.ts'

export interface ProviderResponse {
  status: number
  headers: Headers
  /** The body as text. */
  text: string
  /** The parsed body, when `parsed`. */
  json: unknown
  parsed: boolean
  /** Path and query of the request, without the base URL. */
  target: string
}

export interface ProviderHttpConfig {
  /** Source label, used in error messages and dead letters. */
  provider: string
  /** Origin plus optional prefix; request paths are appended to it. */
  baseUrl: string
  headers: Record<string, string>
  timeoutMs: number
  retry: RetryOptions
  rateLimit: RateLimitOptions
  circuitBreaker: CircuitBreakerOptions
  /** The provider's own error, or undefined to fall back to the generic status rules. */
  interpret?(res: ProviderResponse): CryptoVizError | undefined
  /**
   * Asked before each attempt; an error it returns ends the request unsent and is no verdict on
   * the provider (a spent credit budget must not open the circuit).
   */
  beforeAttempt?(): CryptoVizError | undefined
  /** Sees every response that arrived, before it is interpreted (e.g. to count credits). */
  onResponse?(res: ProviderResponse): void
}

export interface ProviderHttpStats {
  /** HTTP requests sent, retries included. */
  requests: number
  /** Requests that failed after their retries. */
  failures: number
  retries: number
  lastStatus: number | null
  /** The last backoff slept between attempts, in milliseconds. */
  lastRetryDelayMs: number | null
  circuit: CircuitState
}

export type Query = Record<string, string | number | undefined>

export class ProviderHttp {
  readonly breaker: CircuitBreaker
  readonly bucket: RequestPacer
  private readonly config: ProviderHttpConfig
  private readonly deps: SourceDeps
  private counters = { requests: 0, failures: 0, retries: 0 }
  private lastStatus: number | null = null
  private lastRetryDelayMs: number | null = null

  constructor(config: ProviderHttpConfig, deps: SourceDeps) {
    this.config = config
    this.deps = deps
    this.breaker = new CircuitBreaker(config.provider, config.circuitBreaker, () => deps.now())
    this.bucket = new RequestPacer(bucketOptions(config.rateLimit), deps)
  }

  stats(): ProviderHttpStats {
    return {
      ...this.counters,
      lastStatus: this.lastStatus,
      lastRetryDelayMs: this.lastRetryDelayMs,
      circuit: this.breaker.state(),
    }
  }

  /** GETs `path` and returns a response that carries data, or throws a typed `SOURCE_*` error. */
  async getJson(path: string, query: Query, signal: AbortSignal): Promise<ProviderResponse> {
    signal.throwIfAborted()
    this.breaker.beforeRequest()
    const { retry } = this.config
    let failure: CryptoVizError | undefined
    try {
      for (let attempt = 1; ; attempt++) {
        const refused = this.config.beforeAttempt?.()
        if (refused !== undefined) {
          this.breaker.onAbandoned()
          throw refused
        }
        await this.bucket.take(signal)
        const outcome = await this.attempt(path, query, signal)
        if (!(outcome instanceof CryptoVizError)) {
          this.breaker.onSuccess()
          return outcome
        }
        failure = outcome
        if (!outcome.canRetry || attempt >= retry.maxAttempts) break
        const backoff = jitteredBackoff(attempt, retry.baseDelayMs, retry.maxDelayMs, this.deps.random)
        const delay = Math.max(backoff, retryAfterOf(outcome) ?? 0)
        if (delay > retry.maxDelayMs) break
        this.counters.retries++
        this.lastRetryDelayMs = delay
        await this.deps.sleep(delay, signal)
      }
    } catch (e) {
      // Only the caller's abort or a refusal escapes the loop: neither is a verdict on the provider.
      this.breaker.onAbandoned()
      throw e
    }
    this.counters.failures++
    this.breaker.onFailure()
    throw failure
  }

  /** One HTTP exchange: the response if it carries data, else the error it amounts to. */
  private async attempt(
    path: string,
    query: Query,
    signal: AbortSignal,
  ): Promise<ProviderResponse | CryptoVizError> {
    const { provider, timeoutMs } = this.config
    const target = targetOf(path, query)
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}${target}`
    const timeout = AbortSignal.timeout(timeoutMs)
    const both = AbortSignal.any([signal, timeout])
    let res: ProviderResponse
    this.counters.requests++
    try {
      const response = await this.deps.fetch(url, {
        headers: { accept: 'application/json', ...this.config.headers },
        signal: both,
      })
      const text = await response.text()
      res = {
        status: response.status,
        headers: response.headers,
        text,
        json: undefined,
        parsed: false,
        target,
      }
    } catch (e) {
      signal.throwIfAborted()
      if (timeout.aborted)
        return new CryptoVizError(
          'SOURCE_TIMEOUT',
          `${provider}: no complete answer within ${timeoutMs} ms`,
          {
            kind: 'external',
            canRetry: true,
            cause: e,
            details: { provider, target, timeoutMs },
          },
        )
      return new CryptoVizError('SOURCE_HTTP', `${provider}: request failed: ${describe(e)}`, {
        kind: 'external',
        canRetry: true,
        cause: e,
        details: { provider, target },
      })
    }
    this.lastStatus = res.status
    try {
      res.json = JSON.parse(res.text)
      res.parsed = true
    } catch {
      // Not JSON: HTML error pages, truncated bodies. Judged below by status.
    }
    this.config.onResponse?.(res)
    return this.config.interpret?.(res) ?? this.genericOutcome(res)
  }

  private genericOutcome(res: ProviderResponse): ProviderResponse | CryptoVizError {
    const { provider } = this.config
    const details = { provider, target: res.target, status: res.status }
    const { status } = res
    if (status >= 200 && status < 300) {
      if (res.parsed) return res
      return new CryptoVizError('SOURCE_BAD_RESPONSE', `${provider}: ${status} answer is not JSON`, {
        kind: 'external',
        canRetry: true,
        details: {
          ...details,
          deadLetters: [
            deadLetter(
              provider,
              'body_not_json',
              `HTTP ${status} body is not JSON`,
              res.text,
              this.deps.now(),
            ),
          ],
        },
      })
    }
    const snippet = res.text.slice(0, 200).replace(/\s+/g, ' ').trim()
    if (status === 429)
      return new CryptoVizError('SOURCE_RATE_LIMITED', `${provider}: rate limited (429)`, {
        kind: 'external',
        canRetry: true,
        details: {
          ...details,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.deps.now()),
        },
      })
    if (status === 401 || status === 403)
      return new CryptoVizError('SOURCE_AUTH', `${provider}: refused (${status}): ${snippet}`, {
        kind: 'user',
        details,
      })
    const transient = status === 408 || status >= 500
    return new CryptoVizError('SOURCE_HTTP', `${provider}: HTTP ${status}: ${snippet}`, {
      kind: 'external',
      canRetry: transient,
      details: { ...details, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.deps.now()) },
    })
  }
}

export function targetOf(path: string, query: Query): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v))
  const qs = params.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** The wait a failed request asked for, in milliseconds, if any. */
export function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof CryptoVizError)) return undefined
  const v = error.details?.['retryAfterMs']
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : ''
  return `${e.message}${cause}`
}
