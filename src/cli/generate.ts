/**
 * `cryptoviz generate`: deterministic simulated history written through the same lake writer as
 * live data, one commit per simulated day (one file per asset per day), for demos, tests and
 * benchmarks. Same seed, assets, interval and end → the same rows.
 *
 * With `commitEverySeconds`, one commit per that many seconds of simulated time (and at each day
 * boundary), one file per asset each: the many small files a streaming `start` leaves behind.
 */
import { setImmediate as yieldToEvents } from 'node:timers/promises'
import {
  inThreadEncoder,
  WorkerEncoder,
  type AppendResult,
  type DeltaTable,
  type FileEncoder,
} from '../lake/index.ts'
import { QUOTES_SORT_BY } from '../model/quote-table.ts'
import { MarketSimulator } from '../sources/simulated.ts'
import { chunkToColumns } from '../stream/quote-columns.ts'
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
  /** The process's memory bound in MB (0: none); a small one keeps the encoding on this thread. */
  memoryLimitMb?: number
  /**
   * Encode most of each window's Parquet files on a worker thread while this one simulates the
   * next window and encodes the rest (default: when a window holds `WORKER_MIN_WINDOW_ROWS` rows
   * or more and no memory bound under `WORKER_MIN_MEMORY_LIMIT_MB` is set); false encodes here,
   * one window at a time.
   */
  encodeOnWorker?: boolean
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
/** While a window is being encoded, the next one's simulation yields every this many rows (at an asset's end). */
const YIELD_EVERY_ROWS = 16_384
/**
 * The first window's share of assets whose files the worker encodes; this thread encodes the
 * rest besides simulating, so both cores are busy. The share then follows whichever thread
 * finished first: when the previous window's append is still running once the next window is
 * simulated, the worker is behind and this thread takes `SHARE_STEP` more of the assets, else
 * the worker does (docs/benchmarks.md "writes beside delta-rs"). Which thread encodes a file
 * changes nothing in it.
 */
const FIRST_WORKER_SHARE = 0.75
/**
 * Windows smaller than this are encoded on this thread: a streaming-shaped table (`--commit-every`,
 * a few rows per asset per commit) spends its time committing, not encoding, and the worker's
 * isolate (~40–50 MB of RSS) would then cost memory for nothing: 100,000 one-row files took as
 * long with it, and 50 MB more at their peak (docs/benchmarks.md "writes beside delta-rs").
 */
export const WORKER_MIN_WINDOW_ROWS = 10_000
/**
 * Under a memory bound smaller than this, every window is encoded on this thread: the worker's
 * isolate and the window it holds cost ~40 MB (daily windows of 100 assets under
 * `--memory-limit-mb 300`: 347–351 MB with it, 309–313 without, ~10% slower).
 */
export const WORKER_MIN_MEMORY_LIMIT_MB = 512
const SHARE_STEP = 0.02

/** Whether windows of `windowRows` rows are encoded with the worker (see `encodeOnWorker`). */
export function encodesOnWorker(o: GenerateOptions, windowRows: number): boolean {
  const roomForWorker = !o.memoryLimitMb || o.memoryLimitMb >= WORKER_MIN_MEMORY_LIMIT_MB
  return o.encodeOnWorker ?? (roomForWorker && windowRows >= WORKER_MIN_WINDOW_ROWS)
}

/**
 * Simulates window after window (column-wise, no object per quote) and appends each as one
 * commit. Pipelined: window N+1 is encoded while window N's files are written and committed and
 * window N+2 is simulated; at most two windows are in flight besides the one being built (one
 * encoding, one written and committed), and commits stay in window order (N+1's files are
 * written once N committed). Without the worker (small windows, or a small memory bound) a window
 * is built only once the one before is committed: one window's columns in memory at a time.
 */
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
  // A window closes when the tick leaves it: one day, or `commitEverySeconds` when set.
  const windowLength = o.commitEverySeconds === undefined ? DAY : o.commitEverySeconds * 1_000_000
  const windowOf = (ts: number): string => `${Math.floor(ts / DAY)}/${Math.floor(ts / windowLength)}`
  const ticksPerWindow = Math.min(ticks, Math.ceil(windowLength / step))
  const assets = simulator.assetCount
  const worker = encodesOnWorker(o, assets * ticksPerWindow) ? new WorkerEncoder() : undefined
  // The worker's assets first: an append posts its batches in order, and this thread's runs to its end.
  const encoders: FileEncoder[] = worker ? [worker, inThreadEncoder] : [inThreadEncoder]
  const shareStep = Math.max(1, Math.round(assets * SHARE_STEP))
  let split = worker ? Math.round(assets * FIRST_WORKER_SHARE) : assets
  const appendOptions = { sortBy: QUOTES_SORT_BY, compression: o.compression, operation: 'WRITE' }
  const record = (r: AppendResult, done: number): void => {
    if (r.status === 'committed') {
      result.rows += r.rows
      result.commits++
      result.files += r.files.length
      result.bytes += r.bytes
    }
    progress?.({ done, total: ticks })
  }
  // The previous window's encode (the encoders are busy until it settles), and the commits of
  // the last two windows: a window's files are written and committed after the one before's.
  let encoding: Promise<unknown> | undefined
  let encodeSettled = false
  let committed: Promise<void> = Promise.resolve()
  let committedBefore: Promise<void> = Promise.resolve()
  let failure: { error: unknown } | undefined
  try {
    for (let i = 0; i < ticks;) {
      const window = windowOf(start + i * step)
      const times: number[] = []
      for (; i < ticks && windowOf(start + i * step) === window; i++) times.push(start + i * step)
      result.lastTs = times.at(-1)!
      // Without the worker, one window's columns at a time (a daily window of 100 assets is ~15 MB).
      if (!worker) await committed
      const fills = [simulator.startChunk(times, 0, split), simulator.startChunk(times, split)]
      for (let a = 0, rows = 0; a < simulator.assetCount; a++) {
        fills[a < split ? 0 : 1]!.fill(a)
        rows += times.length
        // Let the previous windows' encode, writes and commit reach the encoders and the store.
        if (encoding && rows >= YIELD_EVERY_ROWS) {
          rows = 0
          await yieldToEvents()
        }
      }
      if (encoding && worker)
        split = encodeSettled ? Math.min(assets, split + shareStep) : Math.max(0, split - shareStep)
      await encoding
      // With the worker, besides this window at most one encoded window waits for its commit.
      if (worker) await committedBefore
      if (failure) throw failure.error
      encodeSettled = false
      const encoded = table.encodeColumns(
        fills.map((f) => chunkToColumns(f.chunk)),
        { ...appendOptions, encoder: encoders },
      )
      encoding = encoded.then(() => {
        encodeSettled = true
      })
      const previous = committed
      const done = i
      committedBefore = previous
      committed = encoded.then(async (e) => {
        await previous
        record('status' in e ? e : await table.commitEncoded(e, appendOptions), done)
      })
      // Handled here so a failure while the next window is simulated is not "unhandled"; rethrown above or below.
      encoding.catch(() => undefined)
      committed.catch((error: unknown) => {
        failure ??= { error }
      })
    }
    await committed
  } finally {
    await worker?.close()
  }
  progress?.({ done: ticks, total: ticks })
  return result
}

export type { Progress }
