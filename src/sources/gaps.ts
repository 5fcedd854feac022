/**
 * Gap detection: where a series of quotes went silent for longer than its polling cadence allows.
 * Pure: it takes timestamps and returns gaps; `cryptoviz gaps` reads the lake and prints them.
 *
 * A gap is a silence longer than `factor` × the source's polling interval between two consecutive
 * quotes of one (source, crypto), or, when a window is given, between the window's start and the
 * first quote or the last quote and the window's end (a series with no quote at all in the window
 * is one gap spanning it). All times are integer microseconds since the epoch, UTC.
 */
import { CryptoVizError } from '../errors.ts'

export interface TimestampSeries {
  source: string
  crypto: string
  /** Quote times in microseconds, ascending (duplicates allowed). */
  ts: readonly number[]
}

export interface Gap {
  source: string
  crypto: string
  /** Last quote before the silence (or the window start), microseconds. */
  from: number
  /** First quote after the silence (or the window end), microseconds. */
  to: number
  durationMs: number
  /** Polls that should have produced a quote inside the silence. */
  missedPolls: number
}

export interface GapOptions {
  /** Polling interval in milliseconds, one for all sources or per source name. */
  intervalMs: number | Readonly<Record<string, number>>
  /** A silence longer than factor × interval is a gap; default 3. */
  factor?: number
  /** Also report silence at the edges of this window (microseconds, end exclusive). */
  window?: { from: number; to: number }
}

export function findGaps(series: Iterable<TimestampSeries>, options: GapOptions): Gap[] {
  const factor = options.factor ?? 3
  if (!(factor >= 1)) throw invalid(`factor must be at least 1, got ${factor}`)
  const gaps: Gap[] = []
  for (const s of series) {
    const intervalMs =
      typeof options.intervalMs === 'number' ? options.intervalMs : options.intervalMs[s.source]
    if (intervalMs === undefined || !(intervalMs > 0))
      throw invalid(`no positive polling interval for source "${s.source}"`)
    const intervalUs = intervalMs * 1000
    const limit = factor * intervalUs
    const gap = (from: number, to: number): Gap => ({
      source: s.source,
      crypto: s.crypto,
      from,
      to,
      durationMs: (to - from) / 1000,
      missedPolls: Math.max(0, Math.ceil((to - from) / intervalUs) - 1),
    })
    for (let i = 1; i < s.ts.length; i++)
      if ((s.ts[i] as number) < (s.ts[i - 1] as number))
        throw invalid(`timestamps of ${s.source}/${s.crypto} are not sorted at index ${i}`)
    const w = options.window
    const inWindow = w === undefined ? s.ts : s.ts.filter((t) => t >= w.from && t < w.to)
    if (w !== undefined && inWindow.length === 0) {
      if (w.to - w.from > limit) gaps.push(gap(w.from, w.to))
      continue
    }
    const first = inWindow[0]
    const last = inWindow[inWindow.length - 1]
    if (w !== undefined && first !== undefined && first - w.from > limit) gaps.push(gap(w.from, first))
    for (let i = 1; i < inWindow.length; i++) {
      const a = inWindow[i - 1] as number
      const b = inWindow[i] as number
      if (b - a > limit) gaps.push(gap(a, b))
    }
    if (w !== undefined && last !== undefined && w.to - last > limit) gaps.push(gap(last, w.to))
  }
  return gaps.sort((x, y) =>
    x.source !== y.source
      ? x.source < y.source
        ? -1
        : 1
      : x.crypto !== y.crypto
        ? x.crypto < y.crypto
          ? -1
          : 1
        : x.from - y.from,
  )
}

function invalid(message: string): CryptoVizError {
  return new CryptoVizError('INVALID_ARGUMENT', message, { kind: 'user' })
}
