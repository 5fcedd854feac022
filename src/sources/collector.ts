/**
 * Runs every source on its own interval, each in its own loop, so one failing (throwing, timing
 * out, rate limited, out of credits) never delays or stops another. Quotes and dead letters go to
 * the callbacks; `health()` reports each source for logs, /health and the dashboard.
 *
 * Invariants:
 * - Polls of one source never overlap; the next poll starts `intervalMs` after the previous one
 *   started when it succeeded, and after a jittered exponential backoff when it failed (never
 *   sooner than the interval, never later than `maxBackoffMs` unless the provider asked for more
 *   with `Retry-After`, an open circuit or a spent daily budget).
 * - Dead letters carried by a failed poll's error are delivered like any others.
 * - A callback that throws is reported as the source's `lastError` (phase `deliver`) and does not
 *   stop the loop.
 * - `run` returns once the signal has aborted and every loop has exited; no poll is left running.
 */
import { isCryptoVizError } from '../errors.ts'
import type { Quote } from '../model/quote.ts'
import { jitteredBackoff } from './backoff.ts'
import { deadLettersOf } from './dead-letters.ts'
import type { CircuitState } from './circuit-breaker.ts'
import { collectorOptionsSchema, parseOptions, type CollectorOptions } from './options.ts'
import { retryAfterOf } from './provider-http.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import type { QuoteSource } from './source.ts'
import { systemDeps, type SourceDeps } from './source-deps.ts'
import { statsOf } from './source-stats.ts'

export interface CollectorCallbacks {
  onQuotes(quotes: Quote[], source: string): void | Promise<void>
  onDeadLetters(deadLetters: DeadLetter[], source: string): void | Promise<void>
  /** Every failed poll or delivery, for logging. */
  onError?(source: string, error: unknown, phase: 'poll' | 'deliver'): void
}

export interface SourceHealth {
  source: string
  intervalMs: number
  state: 'idle' | 'polling' | 'waiting' | 'stopped'
  /** Milliseconds since the epoch of the last successful poll. */
  lastSuccessAt: number | null
  lastError: { code: string; message: string; at: number; phase: 'poll' | 'deliver' } | null
  /** Polls started. */
  calls: number
  failures: number
  consecutiveFailures: number
  quotes: number
  deadLetters: number
  /** Extra wait beyond the interval before the next poll because of failures; 0 when healthy. */
  currentBackoffMs: number
  nextPollAt: number | null
  circuit: CircuitState | null
  requests: number | null
  retries: number | null
  creditsUsed: number | null
  creditBudget: number | null
  repeatsSuppressed: number | null
}

type Counters = Omit<
  SourceHealth,
  'circuit' | 'requests' | 'retries' | 'creditsUsed' | 'creditBudget' | 'repeatsSuppressed'
>

export class Collector {
  private readonly sources: readonly QuoteSource[]
  private readonly callbacks: CollectorCallbacks
  private readonly options: CollectorOptions
  private readonly deps: SourceDeps
  private readonly counters: Counters[]

  constructor(
    sources: readonly QuoteSource[],
    callbacks: CollectorCallbacks,
    options: Partial<CollectorOptions> = {},
    deps: SourceDeps = systemDeps,
  ) {
    this.sources = sources
    this.callbacks = callbacks
    this.options = parseOptions(collectorOptionsSchema, options, 'collector')
    this.deps = deps
    this.counters = sources.map((s) => ({
      source: s.name,
      intervalMs: s.intervalMs,
      state: 'idle',
      lastSuccessAt: null,
      lastError: null,
      calls: 0,
      failures: 0,
      consecutiveFailures: 0,
      quotes: 0,
      deadLetters: 0,
      currentBackoffMs: 0,
      nextPollAt: null,
    }))
  }

  health(): SourceHealth[] {
    return this.sources.map((s, i) => {
      const stats = statsOf(s)
      return {
        ...(this.counters[i] as Counters),
        circuit: stats?.circuit ?? null,
        requests: stats?.requests ?? null,
        retries: stats?.retries ?? null,
        creditsUsed: stats?.creditsUsed ?? null,
        creditBudget: stats?.creditBudget ?? null,
        repeatsSuppressed: stats?.repeatsSuppressed ?? null,
      }
    })
  }

  /** Polls every source until `signal` aborts; resolves when all loops have stopped. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.sources.map((s, i) => this.loop(s, this.counters[i] as Counters, signal)))
  }

  private async loop(source: QuoteSource, c: Counters, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = this.deps.now()
      c.state = 'polling'
      c.calls++
      let delay: number
      try {
        const result = await source.poll(signal)
        c.lastSuccessAt = this.deps.now()
        c.consecutiveFailures = 0
        c.currentBackoffMs = 0
        await this.deliver(source.name, c, result.quotes, result.deadLetters)
        delay = Math.max(0, source.intervalMs - (this.deps.now() - started))
      } catch (e) {
        if (signal.aborted) break
        c.failures++
        c.consecutiveFailures++
        c.lastError = errorSummary(e, this.deps.now(), 'poll')
        this.callbacks.onError?.(source.name, e, 'poll')
        await this.deliver(source.name, c, [], deadLettersOf(e))
        delay = this.failureDelay(source.intervalMs, c.consecutiveFailures, e)
        c.currentBackoffMs = Math.max(0, delay - source.intervalMs)
      }
      c.state = 'waiting'
      c.nextPollAt = this.deps.now() + delay
      try {
        await this.deps.sleep(delay, signal)
      } catch {
        break
      }
    }
    c.state = 'stopped'
    c.nextPollAt = null
  }

  private failureDelay(intervalMs: number, failures: number, error: unknown): number {
    const backoff = jitteredBackoff(failures, intervalMs, this.options.maxBackoffMs, this.deps.random)
    return Math.max(intervalMs, backoff, retryAfterOf(error) ?? 0)
  }

  private async deliver(
    source: string,
    c: Counters,
    quotes: Quote[],
    deadLetters: DeadLetter[],
  ): Promise<void> {
    try {
      if (quotes.length > 0) {
        await this.callbacks.onQuotes(quotes, source)
        c.quotes += quotes.length
      }
      if (deadLetters.length > 0) {
        await this.callbacks.onDeadLetters(deadLetters, source)
        c.deadLetters += deadLetters.length
      }
    } catch (e) {
      c.lastError = errorSummary(e, this.deps.now(), 'deliver')
      this.callbacks.onError?.(source, e, 'deliver')
    }
  }
}

function errorSummary(
  e: unknown,
  at: number,
  phase: 'poll' | 'deliver',
): NonNullable<SourceHealth['lastError']> {
  const code = isCryptoVizError(e) ? e.code : e instanceof Error ? e.name : 'UNKNOWN'
  const message = e instanceof Error ? e.message : String(e)
  return { code, message, at, phase }
}
