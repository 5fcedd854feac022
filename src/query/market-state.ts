/**
 * Maintained market state for dashboard-speed reads: per (source, crypto), the last quote, the
 * (ts, price, volume) points of its 7-day window and hourly closes, built once from the lake and
 * then kept up to date from each newer snapshot's new data files, so `latest` (overview with
 * sparklines) and recent `candles` (a start inside every source's window) answer without
 * scanning days of files per request.
 *
 * Invariants:
 * - The state always describes exactly one table version (`version`); it answers only reads of
 *   the latest snapshot (time travel uses the scan), and it equals what `marketOverview` computes
 *   by scanning (same definitions, see market-overview.ts; the reference test checks both).
 * - Advancing to a newer snapshot reads only files added with `dataChange: true`. Files that
 *   OPTIMIZE rewrote (`dataChange: false`) hold rows the state already has; they are ignored when
 *   their row count equals the rows of the rearranged files that left the table, and anything
 *   else (a delete, a rewrite of files the state never saw) rebuilds the state from the lake.
 * - Points are kept sorted by (ts, price); those older than the key's last ts − 7 days are trimmed.
 *   Memory: 24 bytes per quote in each key's 7-day window, plus one quote per key.
 * - The hot tail is overlaid per request, never stored: pending quotes with the ts of a committed
 *   point of their key are dropped (the committed copy wins), as in the scan.
 */
import { recordCount, type AddFile, type Snapshot } from '../lake/index.ts'
import { QUOTE_FIELDS, type Quote } from '../model/quote.ts'
import { sqlIdent, sqlString } from './duckdb.ts'
import {
  CHANGE_PERIODS,
  compareMarketRows,
  LATEST_SORTS,
  SORT_FIELD,
  type LatestQuery,
  type LatestResult,
  type MarketRow,
} from './market-overview.ts'
import { selectPending } from './quote-relation.ts'
import { sourcesOf, type ReadContext } from './read-context.ts'
import { singleSource, type Candle, type CandlesQuery, type CandlesResult } from './candles.ts'
import { checkInterval, checkLimit, checkRange, INTERVAL_MICROS, invalid } from './types.ts'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const WINDOW = 7 * DAY
const WINDOW_DAYS = 7

interface KeyState {
  source: string
  crypto: string
  last: Quote
  /** Window points sorted by (ts, price); `start` is the first kept index (older ones are stale). */
  ts: number[]
  price: number[]
  /** `volume_24h_usd` per point; NaN for null. */
  volume: number[]
  start: number
  /** hour → index of the hour's close (last point by (ts, price)) in ts/price. */
  closes: Map<number, number>
}

export class MarketState {
  private keys = new Map<string, KeyState>()
  private snapshot: Snapshot | undefined
  private building: Promise<void> | undefined

  /** Table version the state describes; -1 before the first build. */
  get version(): number {
    return this.snapshot?.version ?? -1
  }

  /** Brings the state to `ctx.snapshot` (incrementally when possible), then answers `q`. */
  async latest(ctx: ReadContext, q: LatestQuery): Promise<LatestResult> {
    checkLimit(q.limit)
    const sort = q.sort ?? 'rank'
    if (!(LATEST_SORTS as readonly string[]).includes(sort)) {
      throw invalid(`sort must be one of ${LATEST_SORTS.join(', ')}, got "${sort}"`)
    }
    await this.advance(ctx)
    const order = q.order ?? (sort === 'rank' || sort === 'name' ? 'asc' : 'desc')
    const only = sourcesOf(q)
    const allowed = only && new Set(only)
    const hot = selectPending(ctx.pending, { ...(allowed && { sources: allowed }) })
    const hotByKey = new Map<string, Quote[]>()
    for (const h of hot) {
      const key = keyOf(h.source, h.crypto)
      const committed = this.keys.get(key)
      if (committed && hasTs(committed, h.ts)) continue
      let list = hotByKey.get(key)
      if (!list) hotByKey.set(key, (list = []))
      list.push(h)
    }
    const chosen = new Map<string, { row: MarketRow; hot: number; l: number; source: string }>()
    const consider = (source: string, crypto: string, k: KeyState | undefined, hotList: Quote[]): void => {
      const r = overviewRow(k, hotList)
      const prev = chosen.get(crypto)
      if (!prev || r.l > prev.l || (r.l === prev.l && source < prev.source))
        chosen.set(crypto, { ...r, source })
    }
    for (const k of this.keys.values()) {
      if (allowed && !allowed.has(k.source)) continue
      consider(k.source, k.crypto, k, hotByKey.get(keyOf(k.source, k.crypto)) ?? [])
    }
    for (const [key, list] of hotByKey) {
      if (this.keys.has(key)) continue
      consider(list[0]!.source, list[0]!.crypto, undefined, list)
    }
    const market = [...chosen.values()]
    const field = SORT_FIELD[sort]
    market.sort((a, b) => compareMarketRows(a.row, b.row, field, order))
    const limited = market.slice(0, q.limit ?? 100)
    return {
      ...ctx.info(
        0,
        limited.reduce((n, m) => n + m.hot, 0),
      ),
      assets_total: market.length,
      rows: limited.map((m) => m.row),
    }
  }

  /**
   * Candles of one asset from the state, when it holds every quote of the range: a `start` at or
   * after each source's window (last ts − 7 days). Undefined otherwise (the caller scans).
   */
  async candles(ctx: ReadContext, q: CandlesQuery): Promise<CandlesResult | undefined> {
    const interval = checkInterval(q.interval)
    checkRange(q.start, q.end)
    if (q.start === undefined) return undefined
    await this.advance(ctx)
    const start = q.start
    const end = q.end ?? Infinity
    const step = INTERVAL_MICROS[interval]
    const only = sourcesOf(q)
    const sources = only && new Set(only)
    const keys = [...this.keys.values()].filter(
      (k) => k.crypto === q.crypto && (!sources || sources.has(k.source)),
    )
    if (keys.some((k) => start < k.last.ts - WINDOW)) return undefined
    // Points in range, each as (ts, source, price, volume); hot quotes deduplicated against committed.
    const points: { ts: number; source: string; price: number; volume: number }[] = []
    for (const k of keys) {
      for (let i = lowerBoundTs(k, start); i < k.ts.length && k.ts[i]! <= end; i++) {
        points.push({ ts: k.ts[i]!, source: k.source, price: k.price[i]!, volume: k.volume[i]! })
      }
    }
    let pendingRows = 0
    const hot = selectPending(ctx.pending, {
      cryptos: new Set([q.crypto]),
      ...(sources && { sources }),
      start,
      ...(q.end !== undefined && { end: q.end }),
    })
    for (const h of hot) {
      const k = this.keys.get(keyOf(h.source, h.crypto))
      if (k && hasTs(k, h.ts)) continue
      // A source only in the hot tail, or with committed quotes, is complete from `start` either way.
      pendingRows++
      points.push({ ts: h.ts, source: h.source, price: h.price_usd, volume: h.volume_24h_usd ?? NaN })
    }
    points.sort(
      (a, b) => a.ts - b.ts || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) || a.price - b.price,
    )
    const out: Candle[] = []
    let c: Candle | undefined
    for (const p of points) {
      const bucket = Math.floor(p.ts / step) * step
      if (!c || c.ts !== bucket) {
        c = { ts: bucket, open: p.price, high: p.price, low: p.price, close: p.price, volume: null, count: 0 }
        out.push(c)
      }
      if (p.price > c.high) c.high = p.price
      if (p.price < c.low) c.low = p.price
      c.close = p.price
      c.volume = Number.isNaN(p.volume) ? null : p.volume
      c.count++
    }
    return {
      ...ctx.info(0, pendingRows),
      crypto: q.crypto,
      source: singleSource(q),
      interval,
      candles: out,
    }
  }

  private async advance(ctx: ReadContext): Promise<void> {
    // One build or update at a time; a request for an older snapshot than the state's is answered
    // from the newer state only if equal, else it waits and re-checks.
    for (;;) {
      if (this.snapshot === ctx.snapshot || this.snapshot?.version === ctx.snapshot.version) return
      if (this.building) {
        await this.building
        continue
      }
      this.building = this.update(ctx).finally(() => (this.building = undefined))
      await this.building
      return
    }
  }

  private async update(ctx: ReadContext): Promise<void> {
    const prev = this.snapshot
    const next = ctx.snapshot
    if (!prev || next.version < prev.version) return this.rebuild(ctx)
    const before = new Set(prev.files().map((f) => f.path))
    const after = new Set<string>()
    const added: AddFile[] = []
    let rearrangedRows = 0
    for (const f of next.files()) {
      after.add(f.path)
      if (before.has(f.path)) continue
      if (f.dataChange) added.push(f)
      else rearrangedRows += rowsOf(f)
    }
    let removedRows = 0
    for (const f of prev.files()) {
      if (after.has(f.path)) continue
      const tombstone = next.state.removes.get(decodeURIComponentSafe(f.path))
      if (!tombstone || tombstone.dataChange) return this.rebuild(ctx)
      removedRows += rowsOf(f)
    }
    if (!Number.isFinite(rearrangedRows) || rearrangedRows !== removedRows) return this.rebuild(ctx)
    if (added.length > 0) {
      const rows = await ctx.select(
        { files: added, columns: QUOTE_FIELDS, hot: [], dedupFiles: [] },
        (relation) => `SELECT ${QUOTE_FIELDS.map(sqlIdent).join(', ')} FROM (${relation})`,
      )
      for (const r of rows ?? []) this.insert(quoteOf(r))
    }
    this.snapshot = next
  }

  private async rebuild(ctx: ReadContext): Promise<void> {
    const snapshot = ctx.snapshot
    this.keys = new Map()
    // Per key: the last day partition (for the last quote) and the 8 days up to it (the window).
    const perKey = new Map<string, { lastDay: number; files: { file: AddFile; day: number | undefined }[] }>()
    for (const file of snapshot.files()) {
      const key = keyOf(file.partitionValues['source'] ?? '', file.partitionValues['crypto'] ?? '')
      const day = partitionDay(file.partitionValues)
      let k = perKey.get(key)
      if (!k) perKey.set(key, (k = { lastDay: -Infinity, files: [] }))
      k.files.push({ file, day })
      if (day !== undefined && day > k.lastDay) k.lastDay = day
    }
    const lastDayFiles: AddFile[] = []
    const windowFiles: AddFile[] = []
    for (const k of perKey.values()) {
      for (const f of k.files) {
        if (f.day === undefined || f.day === k.lastDay) lastDayFiles.push(f.file)
        if (f.day === undefined || f.day >= k.lastDay - WINDOW_DAYS) windowFiles.push(f.file)
      }
    }
    const quoteStruct = `{${QUOTE_FIELDS.map((f) => `${sqlString(f)}: ${sqlIdent(f)}`).join(', ')}}`
    const lasts =
      (await ctx.select(
        { files: lastDayFiles, columns: QUOTE_FIELDS, hot: [], dedupFiles: [] },
        (relation) => `SELECT arg_max(${quoteStruct}, {'t': ts, 'p': price_usd}) AS quote
          FROM (${relation}) GROUP BY source, crypto`,
      )) ?? []
    for (const r of lasts) {
      const last = quoteOf(r['quote'] as Record<string, unknown>)
      this.keys.set(keyOf(last.source, last.crypto), {
        source: last.source,
        crypto: last.crypto,
        last,
        ts: [],
        price: [],
        volume: [],
        start: 0,
        closes: new Map(),
      })
    }
    // No key keeps points older than its last ts − 7 days: the oldest such bound prunes the scan.
    let windowStart = Infinity
    for (const k of this.keys.values()) windowStart = Math.min(windowStart, k.last.ts - WINDOW)
    const points = await ctx.selectColumns(
      {
        files: windowFiles,
        columns: ['ts', 'source', 'crypto', 'price_usd', 'volume_24h_usd'],
        ...(Number.isFinite(windowStart) && { start: windowStart }),
        hot: [],
        dedupFiles: [],
      },
      // One row per key with its points as lists: converting a million (source, crypto) string
      // pairs to JS cost more than the read itself. The three lists share one total order, so
      // their elements stay aligned (equal keys are equal elements).
      (relation) => {
        const order = 'ORDER BY ts, price_usd, volume_24h_usd'
        return `SELECT source, crypto, list(ts::DOUBLE ${order}) AS ts, list(price_usd ${order}) AS price,
            list(volume_24h_usd ${order}) AS volume
          FROM (${relation}) GROUP BY source, crypto`
      },
    )
    const column = (name: string): unknown[] => points!.columns[points!.names.indexOf(name)]!
    for (let row = 0; row < (points?.rowCount ?? 0); row++) {
      const k = this.keys.get(keyOf(column('source')[row] as string, column('crypto')[row] as string))
      if (!k) continue
      const ts = column('ts')[row] as number[]
      const price = column('price')[row] as number[]
      const volume = column('volume')[row] as (number | null)[]
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!
        if (t < k.last.ts - WINDOW) continue
        // Already in (ts, price) order: append.
        k.ts.push(t)
        k.price.push(price[i]!)
        k.volume.push(volume[i] === null ? NaN : volume[i]!)
        k.closes.set(Math.floor(t / HOUR), k.ts.length - 1)
      }
    }
    this.snapshot = snapshot
  }

  /** Adds one committed quote. */
  private insert(q: Quote): void {
    const key = keyOf(q.source, q.crypto)
    let k = this.keys.get(key)
    if (!k) {
      k = {
        source: q.source,
        crypto: q.crypto,
        last: q,
        ts: [],
        price: [],
        volume: [],
        start: 0,
        closes: new Map(),
      }
      this.keys.set(key, k)
    } else if (q.ts > k.last.ts || (q.ts === k.last.ts && q.price_usd > k.last.price_usd)) {
      k.last = q
    }
    if (q.ts < k.last.ts - WINDOW) return
    const at = upperBound(k, q.ts, q.price_usd)
    if (at === k.ts.length) {
      k.ts.push(q.ts)
      k.price.push(q.price_usd)
      k.volume.push(q.volume_24h_usd ?? NaN)
      k.closes.set(Math.floor(q.ts / HOUR), at)
    } else {
      k.ts.splice(at, 0, q.ts)
      k.price.splice(at, 0, q.price_usd)
      k.volume.splice(at, 0, q.volume_24h_usd ?? NaN)
      reindexCloses(k)
    }
    trim(k)
  }
}

/** Index of the first point after (ts, price) in k's live points. */
function upperBound(k: KeyState, ts: number, price: number): number {
  let lo = k.start
  let hi = k.ts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (k.ts[mid]! < ts || (k.ts[mid] === ts && k.price[mid]! <= price)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first live point with ts ≥ t. */
function lowerBoundTs(k: KeyState, t: number): number {
  let lo = k.start
  let hi = k.ts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (k.ts[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

const hasTs = (k: KeyState, t: number): boolean => {
  const i = lowerBoundTs(k, t)
  return i < k.ts.length && k.ts[i] === t
}

/** Drops points older than the window; compacts the arrays once half of them are stale. */
function trim(k: KeyState): void {
  const from = lowerBoundTs(k, k.last.ts - WINDOW)
  if (from === k.start) return
  k.start = from
  if (k.start > 1024 && k.start * 2 > k.ts.length) {
    k.ts = k.ts.slice(k.start)
    k.price = k.price.slice(k.start)
    k.volume = k.volume.slice(k.start)
    k.start = 0
    reindexCloses(k)
  } else {
    const firstHour = Math.floor((k.ts[k.start] ?? Infinity) / HOUR)
    for (const h of k.closes.keys()) if (h < firstHour) k.closes.delete(h)
  }
}

function reindexCloses(k: KeyState): void {
  k.closes.clear()
  for (let i = k.start; i < k.ts.length; i++) k.closes.set(Math.floor(k.ts[i]! / HOUR), i)
}

/** One key's overview row from its committed state and its (deduplicated) hot quotes. */
function overviewRow(k: KeyState | undefined, hotList: Quote[]): { row: MarketRow; hot: number; l: number } {
  let last = k?.last
  for (const h of hotList) {
    if (!last || h.ts > last.ts || (h.ts === last.ts && h.price_usd > last.price_usd)) last = h
  }
  const L = last!.ts
  const hot = hotList
    .filter((h) => h.ts >= L - WINDOW)
    .sort((a, b) => a.ts - b.ts || a.price_usd - b.price_usd)
  const change = (p: number): number | null => {
    const T = L - p
    let baseTs = Infinity
    let base = NaN
    if (k) {
      const i = lowerBoundTs(k, T)
      if (i < k.ts.length) {
        baseTs = k.ts[i]!
        base = k.price[i]!
      }
    }
    const h = hot.find((x) => x.ts >= T)
    if (h && (h.ts < baseTs || (h.ts === baseTs && h.price_usd < base))) {
      baseTs = h.ts
      base = h.price_usd
    }
    if (baseTs === Infinity || baseTs > T + p / 4) return null
    return (last!.price_usd / base - 1) * 100
  }
  const startHour = Math.floor((L - WINDOW) / HOUR)
  const hours = Math.floor(L / HOUR) - startHour + 1
  const sparkline = new Array<number | null>(hours).fill(null)
  const closeTs = new Array<number>(hours).fill(-Infinity)
  if (k) {
    for (const [h, i] of k.closes) {
      const at = h - startHour
      if (at < 0 || at >= hours) continue
      if (h === startHour && k.ts[i]! < L - WINDOW) continue
      sparkline[at] = k.price[i]!
      closeTs[at] = k.ts[i]!
    }
  }
  for (const h of hot) {
    const at = Math.floor(h.ts / HOUR) - startHour
    if (at < 0 || at >= hours) continue
    if (h.ts > closeTs[at]! || (h.ts === closeTs[at] && h.price_usd >= sparkline[at]!)) {
      sparkline[at] = h.price_usd
      closeTs[at] = h.ts
    }
  }
  const quote = Object.fromEntries(QUOTE_FIELDS.map((f) => [f, last![f]])) as unknown as Quote
  return {
    row: {
      ...quote,
      price_change_1h_pct: change(CHANGE_PERIODS['1h']),
      price_change_24h_pct: change(CHANGE_PERIODS['24h']),
      price_change_7d_pct: change(CHANGE_PERIODS['7d']),
      sparkline_start: startHour * HOUR,
      sparkline,
    },
    hot: hot.length,
    l: L,
  }
}

function quoteOf(r: Record<string, unknown>): Quote {
  return Object.fromEntries(
    QUOTE_FIELDS.map((f) => [f, typeof r[f] === 'bigint' ? Number(r[f]) : r[f]]),
  ) as unknown as Quote
}

const rowsOf = (f: AddFile): number => recordCount(f) ?? NaN

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

const keyOf = (source: string, crypto: string): string => `${source}\u0000${crypto}`

function partitionDay(p: Record<string, string | null>): number | undefined {
  const [y, m, d] = [p['year'], p['month'], p['day']].map((v) => (v ? Number(v) : NaN))
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return undefined
  return Date.UTC(y!, m! - 1, d!) / 86_400_000
}
