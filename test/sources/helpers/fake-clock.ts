/**
 * A fake clock for source tests. `sleep` records the delay and registers a timer; a pump, run
 * whenever the event loop is otherwise idle (setImmediate), jumps the time to the earliest timer
 * and wakes it. So concurrent loops interleave as they would in real time, and retry, backoff and
 * interval timing is asserted exactly without waiting.
 *
 * `onSleep` sees every sleep as it starts (tests abort from it); `stopAt` aborts a controller
 * instead of advancing past a given time.
 */
import type { SourceDeps } from '../../../src/sources/source-deps.ts'

interface Timer {
  at: number
  seq: number
  wake: () => void
}

export class FakeClock {
  t: number
  readonly sleeps: number[] = []
  random = 0.5
  onSleep: ((ms: number) => void) | undefined
  private timers: Timer[] = []
  private seq = 0
  private pumping = false
  private stop: { at: number; ctrl: AbortController } | undefined

  constructor(start: number | string = '2024-04-28T10:16:00.000Z') {
    this.t = typeof start === 'number' ? start : Date.parse(start)
  }

  now = (): number => this.t

  advance(ms: number): void {
    this.t += ms
  }

  /** Aborts `ctrl` rather than moving the time past `at`. */
  stopAt(at: number, ctrl: AbortController): void {
    this.stop = { at, ctrl }
  }

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      this.sleeps.push(ms)
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, wake: () => {} }
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer)
        reject(signal?.reason)
      }
      timer.wake = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.timers.push(timer)
      this.onSleep?.(ms)
      this.schedulePump()
    })

  deps(overrides: Partial<SourceDeps> = {}): SourceDeps {
    return {
      now: this.now,
      sleep: this.sleep,
      random: () => this.random,
      fetch: (input, init) => fetch(input, init),
      ...overrides,
    }
  }

  private schedulePump(): void {
    if (this.pumping) return
    this.pumping = true
    setImmediate(() => {
      this.pumping = false
      if (this.timers.length === 0) return
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.timers[0] as Timer
      if (this.stop !== undefined && next.at > this.stop.at) {
        this.stop.ctrl.abort()
        return
      }
      this.timers.shift()
      this.t = Math.max(this.t, next.at)
      next.wake()
      if (this.timers.length > 0) this.schedulePump()
    })
  }
}
