/**
 * `cryptoviz generate`: deterministic simulated history written through the same lake writer as
 * live data, one commit per simulated day (one file per asset per day), for demos, tests and
 * benchmarks. Same seed, assets, interval and end → the same rows.
 *
 * With `commitEverySeconds`, one commit per that many seconds of simulated time (and at each day
 * boundary), one file per asset each: the many small files a streaming `start` leaves behind.
 */
import type { DeltaTable } from '../lake/index.ts'
import type { Quote } from '../model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../model/quote-table.ts'
import { MarketSimulator } from '../sources/simulated.ts'
import type { Progress } from './progress.ts'

export interface GenerateOptions {
  assets: number
  days: number
  intervalSeconds: number
  seed: number
  /** Microseconds; the generated range is `[end - days, end)`. */
  end: number
  compression: 'snappy' | 'zstd'
  /** Commit every this many simulated seconds instead of once per day. */
  commitEverySeconds?: number
}

export interface GenerateResult {
  rows: number
  commits: number
  files: number
  bytes: number
  firstTs: number
  lastTs: number
}

const DAY = 86_400_000_000

export async function generateHistory(
  table: DeltaTable,
  o: GenerateOptions,
  progress?: (p: { done: number; total: number }) => void,
): Promise<GenerateResult> {
  const step = o.intervalSeconds * 1_000_000
  const start = o.end - o.days * DAY
  const simulator = new MarketSimulator({ assets: o.assets, seed: o.seed, startTs: start })
  const ticks = Math.ceil((o.end - start) / step)
  const result: GenerateResult = { rows: 0, commits: 0, files: 0, bytes: 0, firstTs: start, lastTs: start }
  let batch: Quote[] = []
  // A batch closes when the tick leaves its window: one day, or `commitEverySeconds` when set.
  const windowLength = o.commitEverySeconds === undefined ? DAY : o.commitEverySeconds * 1_000_000
  const windowOf = (ts: number): string => `${Math.floor(ts / DAY)}/${Math.floor(ts / windowLength)}`
  let batchWindow = windowOf(start)
  const commit = async (): Promise<void> => {
    if (batch.length === 0) return
    const r = await table.append(batch.map(quoteToRow), {
      sortBy: QUOTES_SORT_BY,
      compression: o.compression,
      operation: 'WRITE',
    })
    if (r.status === 'committed') {
      result.rows += r.rows
      result.commits++
      result.files += r.files.length
      result.bytes += r.bytes
    }
    batch = []
  }
  for (let i = 0; i < ticks; i++) {
    const ts = start + i * step
    const window = windowOf(ts)
    if (window !== batchWindow) {
      await commit()
      batchWindow = window
      progress?.({ done: i, total: ticks })
    }
    for (const q of simulator.tick(ts)) batch.push(q)
    result.lastTs = ts
  }
  await commit()
  progress?.({ done: ticks, total: ticks })
  return result
}

export type { Progress }
