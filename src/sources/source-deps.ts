/**
 * The outside world a source touches: wall clock, sleeping, randomness and HTTP. Sources,
 * the collector and backfill take these as one injectable object so tests drive them with a
 * fake clock and a recorded sleep instead of waiting in real time.
 *
 * Invariants: `now()` is milliseconds since the Unix epoch (UTC); `sleep` rejects with the
 * signal's reason as soon as the signal aborts and never resolves early otherwise.
 */
export interface SourceDeps {
  /** Milliseconds since the Unix epoch, UTC. */
  now(): number
  /** Resolves after `ms` milliseconds; rejects with `signal.reason` when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Uniform in [0, 1); only used for jitter. */
  random(): number
  fetch: typeof globalThis.fetch
  /**
   * What a source must remember across restarts (e.g. the credits spent today), by key. Absent:
   * memory only. `cryptoviz collect` backs it with a small JSON file (`--collector-state`).
   */
  state?: SourceStateStore
}

export interface SourceStateStore {
  get(key: string): unknown
  /** Records the value durably before returning. */
  set(key: string, value: unknown): void
}

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export const systemDeps: SourceDeps = Object.freeze({
  now: () => Date.now(),
  sleep: realSleep,
  random: () => Math.random(),
  fetch: (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init),
})

/** `systemDeps` with some members replaced, e.g. `withDeps({ fetch })`. */
export const withDeps = (overrides: Partial<SourceDeps> = {}): SourceDeps => ({ ...systemDeps, ...overrides })
