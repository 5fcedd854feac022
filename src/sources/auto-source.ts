/**
 * `--source auto`: use the live providers when they answer, the simulated market when none does.
 *
 * The selector hands the collector one source per live provider (each wrapped to report its
 * outcome) plus a gate in front of the simulator. Live providers are polled on their own
 * intervals all the time, so their polls are the probes: while at least one answers, the gate
 * returns nothing; once every live provider is down, the gate polls the simulator and the state
 * says `fallback` with each provider's last error, for logs, /health and the dashboard. When a
 * provider answers again the state returns to `live` and the simulator stops.
 *
 * Invariants:
 * - A provider that never answered is down at its first failure (no internet at start falls back
 *   at once); one that answered before is down only after `fallbackAfterFailures` failures in a
 *   row, so one timeout does not mix simulated data into a live session.
 * - The gate's first poll waits until every live provider has answered or failed once, so no
 *   simulated quote is emitted while a live provider might still answer.
 * - Simulated quotes keep `source=simulated`; the fallback never relabels data.
 */
import { autoOptionsSchema, parseOptions, type AutoOptions } from './options.ts'
import type { PollResult, QuoteSource } from './source.ts'
import type { SourceDeps } from './source-deps.ts'
import { statsOf, type SourceStats } from './source-stats.ts'

export type AutoMode = 'probing' | 'live' | 'fallback'

export interface AutoState {
  mode: AutoMode
  /** Live providers answering now. */
  live: string[]
  /** Down live providers and the last error of each. */
  down: Record<string, string>
  /** Live providers left out for lack of configuration (e.g. no CoinMarketCap key), and why. */
  notConfigured: Record<string, string>
  /** The source serving quotes while in fallback. */
  fallback: string
  /** Milliseconds since the epoch when `mode` last changed. */
  since: number
  /** Mode changes so far. */
  switches: number
  /** One line for logs and the dashboard. */
  message: string
}

interface Member {
  name: string
  reported: boolean
  everSucceeded: boolean
  consecutiveFailures: number
  lastError: string | null
}

export class AutoSource {
  /** Hand these to the collector: the tracked live sources, then the fallback gate. */
  readonly sources: readonly QuoteSource[]
  private readonly options: AutoOptions
  private readonly members: Member[]
  private readonly notConfigured: Record<string, string>
  private readonly fallbackName: string
  private readonly now: () => number
  private readonly listeners = new Set<(state: AutoState) => void>()
  private verdictWaiters: (() => void)[] = []
  private current: AutoMode
  private since: number
  private switches = 0

  constructor(
    live: readonly QuoteSource[],
    fallback: QuoteSource,
    options: { fallbackAfterFailures?: number; notConfigured?: Record<string, string> } = {},
    deps: Pick<SourceDeps, 'now'>,
  ) {
    this.options = parseOptions(
      autoOptionsSchema,
      { fallbackAfterFailures: options.fallbackAfterFailures },
      'auto',
    )
    this.notConfigured = { ...options.notConfigured }
    this.now = () => deps.now()
    this.fallbackName = fallback.name
    this.members = live.map((s) => ({
      name: s.name,
      reported: false,
      everSucceeded: false,
      consecutiveFailures: 0,
      lastError: null,
    }))
    this.current = this.computeMode()
    this.since = this.now()
    this.sources = [...live.map((s, i) => this.track(s, this.members[i] as Member)), this.gate(fallback)]
  }

  state(): AutoState {
    const live = this.members.filter((m) => this.isUp(m)).map((m) => m.name)
    const down: Record<string, string> = {}
    for (const m of this.members) if (this.isDown(m)) down[m.name] = m.lastError ?? 'failed'
    return {
      mode: this.current,
      live,
      down,
      notConfigured: { ...this.notConfigured },
      fallback: this.fallbackName,
      since: this.since,
      switches: this.switches,
      message: this.describe(live, down),
    }
  }

  /** Calls `listener` on every mode change; returns the unsubscribe function. */
  onChange(listener: (state: AutoState) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private describe(live: string[], down: Record<string, string>): string {
    const reasons = [
      ...Object.entries(down).map(([n, why]) => `${n}: ${why}`),
      ...Object.entries(this.notConfigured).map(([n, why]) => `${n}: ${why}`),
    ].join('; ')
    switch (this.current) {
      case 'live':
        return `live data from ${live.join(', ')}${reasons === '' ? '' : ` (${reasons})`}`
      case 'probing':
        return `probing ${this.members.map((m) => m.name).join(', ')}`
      case 'fallback':
        return `FALLBACK: no live provider answers (${reasons || 'none configured'}); serving ${this.fallbackName} quotes`
    }
  }

  private isDown(m: Member): boolean {
    if (!m.reported || m.consecutiveFailures === 0) return false
    return !m.everSucceeded || m.consecutiveFailures >= this.options.fallbackAfterFailures
  }

  private isUp(m: Member): boolean {
    return m.reported && !this.isDown(m)
  }

  private computeMode(): AutoMode {
    if (this.members.some((m) => this.isUp(m))) return 'live'
    return this.members.every((m) => this.isDown(m)) ? 'fallback' : 'probing'
  }

  private record(m: Member, error: unknown): void {
    m.reported = true
    if (error === undefined) {
      m.everSucceeded = true
      m.consecutiveFailures = 0
      m.lastError = null
    } else {
      m.consecutiveFailures++
      m.lastError = error instanceof Error ? error.message : String(error)
    }
    const mode = this.computeMode()
    if (mode === this.current) return
    this.current = mode
    this.since = this.now()
    this.switches++
    if (mode !== 'probing') {
      for (const wake of this.verdictWaiters) wake()
      this.verdictWaiters = []
    }
    const state = this.state()
    for (const listener of this.listeners) listener(state)
  }

  private track(inner: QuoteSource, member: Member): QuoteSource {
    const poll = async (signal: AbortSignal): Promise<PollResult> => {
      let result: PollResult
      try {
        result = await inner.poll(signal)
      } catch (e) {
        if (!signal.aborted) this.record(member, e)
        throw e
      }
      this.record(member, undefined)
      return result
    }
    const tracked: QuoteSource & { stats?: () => SourceStats } = {
      name: inner.name,
      intervalMs: inner.intervalMs,
      poll,
    }
    if (statsOf(inner) !== undefined) tracked.stats = () => statsOf(inner) as SourceStats
    return tracked
  }

  private gate(fallback: QuoteSource): QuoteSource {
    const poll = async (signal: AbortSignal): Promise<PollResult> => {
      await this.verdict(signal)
      return this.current === 'fallback' ? fallback.poll(signal) : { quotes: [], deadLetters: [] }
    }
    const gated: QuoteSource & { stats?: () => SourceStats } = {
      name: fallback.name,
      intervalMs: fallback.intervalMs,
      poll,
    }
    if (statsOf(fallback) !== undefined) gated.stats = () => statsOf(fallback) as SourceStats
    return gated
  }

  private verdict(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.current !== 'probing') return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      this.verdictWaiters.push(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }
}
