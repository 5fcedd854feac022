/**
 * Backfill of CoinGecko history (`/coins/{id}/market_chart/range`, USD) into the lake through a
 * transactional sink.
 *
 * CoinGecko picks the granularity from the range length: 5-minutely within one day of now, hourly
 * up to 90 days, daily beyond. The range is therefore cut into windows of at most `windowDays`
 * (≤ 90) days, aligned to a fixed grid counted from the Unix epoch, so every run cuts the same
 * windows and history comes back hourly.
 *
 * Idempotence and resumption: each crypto is one writer, appId `backfill:coingecko:<crypto>`.
 * A window is appended with `version` = the unix second its coverage ends at (its grid end, or
 * the requested end for the last, partial window), which only grows. The sink records the version
 * atomically with the rows (a Delta `txn` action) and skips versions at or below the recorded
 * one. A run starts each crypto where its recorded version ends, so a rerun over the same range
 * adds nothing and an interrupted run continues from the last committed window. Coverage grows
 * forward only: to backfill before an already recorded range, use a new appId scheme.
 *
 * Each window keeps the points with from ≤ t < to, so adjacent windows never share a point.
 * Bad points become dead letters; empty windows are still committed so reruns skip them.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import { type Quote } from '../model/quote.ts'
import { microsFromMillis } from '../micros.ts'
import { COINGECKO_SOURCE, type CoinGeckoClient } from './coingecko-client.ts'
import { canonicalSymbol } from './crypto-slugs.ts'
import { deadLetter, deadLettersOf } from './dead-letters.ts'
import { backfillOptionsSchema, parseOptions } from './options.ts'
import { anyNumber, checkFinite, checkPrice, finalQuote, isRejection, issuesText } from './quote-checks.ts'
import type { DeadLetter } from '../model/dead-letter.ts'
import { systemDeps, type SourceDeps } from './source-deps.ts'

export interface BackfillSink {
  /**
   * Appends `quotes` and records `txn` in the same commit; returns `skipped` without writing when
   * `txn.version` is not above the version recorded for `txn.appId`. May be called with no quotes
   * (an empty window) and must still record the version.
   */
  append(quotes: Quote[], txn: { appId: string; version: number }): Promise<'committed' | 'skipped'>
  /** The last version recorded for `appId`, or undefined when none. */
  txnVersion(appId: string): Promise<number | undefined>
}

export interface BackfillProgress {
  /** Windows finished (committed, skipped or already recorded), all cryptos together. */
  done: number
  total: number
  crypto: string
}

export interface BackfillAsset {
  symbol: string
  name: string
}

export interface BackfillRequest {
  client: CoinGeckoClient
  sink: BackfillSink
  /** Canonical slugs (CoinGecko ids). */
  cryptos: readonly string[]
  /** Range start and end, milliseconds since the epoch; end defaults to now. */
  from: number
  to?: number
  /** Window length in days, at most 90 (hourly data). */
  windowDays?: number
  /** Symbol and name per crypto; looked up with `/coins/markets?ids=` when absent. */
  assets?: Readonly<Record<string, BackfillAsset>>
  onProgress?(progress: BackfillProgress): void
  onDeadLetters?(deadLetters: DeadLetter[], crypto: string): void | Promise<void>
  signal?: AbortSignal
  deps?: Pick<SourceDeps, 'now'>
}

export interface BackfillCryptoReport {
  crypto: string
  windows: number
  committed: number
  skipped: number
  quotes: number
  deadLetters: number
  /** Why this crypto stopped early; the others still ran. */
  error: string | null
}

export const backfillAppId = (crypto: string): string => `backfill:${COINGECKO_SOURCE}:${crypto}`

const DAY_SECONDS = 86_400

export interface BackfillWindow {
  /** Unix seconds, inclusive. */
  from: number
  /** Unix seconds, exclusive; also the commit version. */
  to: number
}

/** The grid windows covering [fromSec, toSec), clipped to it. */
export function backfillWindows(fromSec: number, toSec: number, windowDays: number): BackfillWindow[] {
  const size = windowDays * DAY_SECONDS
  const out: BackfillWindow[] = []
  for (let cell = Math.floor(fromSec / size); cell * size < toSec; cell++) {
    const from = Math.max(cell * size, fromSec)
    const to = Math.min((cell + 1) * size, toSec)
    if (from < to) out.push({ from, to })
  }
  return out
}

const pointSchema = z.tuple([anyNumber, anyNumber.nullable()])
const chartSchema = z.looseObject({
  prices: z.array(z.unknown()),
  market_caps: z.array(z.unknown()).optional(),
  total_volumes: z.array(z.unknown()).optional(),
})

/** The quotes and dead letters of one `market_chart/range` answer, restricted to [from, to). */
export function chartToQuotes(
  body: unknown,
  window: BackfillWindow,
  crypto: string,
  asset: BackfillAsset,
  nowMs: number,
): { quotes: Quote[]; deadLetters: DeadLetter[] } {
  const chart = chartSchema.safeParse(body)
  if (!chart.success)
    return {
      quotes: [],
      deadLetters: [deadLetter(COINGECKO_SOURCE, 'shape_invalid', issuesText(chart.error), body, nowMs)],
    }
  const series = (points: unknown[] | undefined): Map<number, number> => {
    const m = new Map<number, number>()
    for (const p of points ?? []) {
      const r = pointSchema.safeParse(p)
      if (r.success && r.data[1] !== null && Number.isFinite(r.data[1])) m.set(r.data[0], r.data[1])
    }
    return m
  }
  const caps = series(chart.data.market_caps)
  const volumes = series(chart.data.total_volumes)
  const quotes: Quote[] = []
  const deadLetters: DeadLetter[] = []
  const seen = new Set<number>()
  const reject = (raw: unknown, reason: string, detail: string): void => {
    deadLetters.push(deadLetter(COINGECKO_SOURCE, reason, `${crypto}: ${detail}`, raw, nowMs))
  }
  for (const raw of chart.data.prices) {
    const p = pointSchema.safeParse(raw)
    if (!p.success) {
      reject(raw, 'shape_invalid', `price point: ${issuesText(p.error)}`)
      continue
    }
    const [ms, price] = p.data
    if (!Number.isInteger(ms) || ms < 0) {
      reject(raw, 'timestamp_invalid', `point time ${ms} is not a unix time in milliseconds`)
      continue
    }
    if (ms < window.from * 1000 || ms >= window.to * 1000 || seen.has(ms)) continue
    const bad = checkPrice(price, 'price') ?? checkFinite({ price })
    if (bad !== undefined) {
      reject(raw, bad.reason, bad.detail)
      continue
    }
    seen.add(ms)
    const q = finalQuote({
      ts: microsFromMillis(ms),
      source: COINGECKO_SOURCE,
      crypto,
      symbol: asset.symbol,
      name: asset.name,
      price_usd: price as number,
      market_cap_usd: caps.get(ms) ?? null,
      volume_24h_usd: volumes.get(ms) ?? null,
      change_1h_pct: null,
      change_24h_pct: null,
      change_7d_pct: null,
      circulating_supply: null,
      total_supply: null,
      max_supply: null,
      rank: null,
      ingested_at: microsFromMillis(nowMs),
    })
    if (isRejection(q)) reject(raw, q.reason, q.detail)
    else quotes.push(q.quote)
  }
  return { quotes, deadLetters }
}

const assetInfoSchema = z.looseObject({ id: z.string(), symbol: z.string().min(1), name: z.string().min(1) })

async function lookUpAssets(
  client: CoinGeckoClient,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, BackfillAsset>> {
  const found = new Map<string, BackfillAsset>()
  const perPage = client.options.perPage
  for (let i = 0; i < ids.length; i += perPage) {
    const res = await client.markets(1, signal, ids.slice(i, i + perPage))
    for (const item of Array.isArray(res.json) ? (res.json as unknown[]) : []) {
      const r = assetInfoSchema.safeParse(item)
      if (r.success) found.set(r.data.id, { symbol: canonicalSymbol(r.data.symbol), name: r.data.name })
    }
  }
  return found
}

/** Runs a backfill; see the module comment for idempotence and resumption. */
export async function backfill(request: BackfillRequest): Promise<BackfillCryptoReport[]> {
  const { client, sink } = request
  const now = (): number => (request.deps ?? systemDeps).now()
  const signal = request.signal ?? new AbortController().signal
  const { windowDays } = parseOptions(backfillOptionsSchema, { windowDays: request.windowDays }, 'backfill')
  const fromSec = Math.floor(request.from / 1000)
  const toSec = Math.floor((request.to ?? now()) / 1000)
  if (!(fromSec < toSec))
    throw new CryptoVizError(
      'INVALID_ARGUMENT',
      `backfill range is empty: from ${request.from} to ${request.to}`,
      {
        kind: 'user',
      },
    )
  const cryptos = [...new Set(request.cryptos)]
  const windows = backfillWindows(fromSec, toSec, windowDays)
  const recorded = new Map<string, number | undefined>()
  for (const c of cryptos) recorded.set(c, await sink.txnVersion(backfillAppId(c)))

  const missing = cryptos.filter((c) => request.assets?.[c] === undefined)
  const looked =
    missing.length > 0 ? await lookUpAssets(client, missing, signal) : new Map<string, BackfillAsset>()
  const total = windows.length * cryptos.length
  let done = 0
  const reports: BackfillCryptoReport[] = []

  for (const crypto of cryptos) {
    const report: BackfillCryptoReport = {
      crypto,
      windows: windows.length,
      committed: 0,
      skipped: 0,
      quotes: 0,
      deadLetters: 0,
      error: null,
    }
    reports.push(report)
    const appId = backfillAppId(crypto)
    const asset = request.assets?.[crypto] ?? looked.get(crypto)
    const coveredTo = recorded.get(crypto)
    let index = 0
    try {
      if (asset === undefined)
        throw new CryptoVizError('NOT_FOUND', `coingecko has no coin with id "${crypto}"`, { kind: 'user' })
      for (; index < windows.length; index++) {
        const w = windows[index] as BackfillWindow
        if (coveredTo !== undefined && w.to <= coveredTo) {
          report.skipped++
        } else {
          const from = coveredTo === undefined ? w.from : Math.max(w.from, coveredTo)
          const window = { from, to: w.to }
          const res = await client.marketChartRange(crypto, window.from, window.to, signal)
          const { quotes, deadLetters } = chartToQuotes(res.json, window, crypto, asset, now())
          if (deadLetters.length > 0) {
            report.deadLetters += deadLetters.length
            await request.onDeadLetters?.(deadLetters, crypto)
          }
          const outcome = await sink.append(quotes, { appId, version: window.to })
          if (outcome === 'committed') {
            report.committed++
            report.quotes += quotes.length
          } else report.skipped++
        }
        request.onProgress?.({ done: ++done, total, crypto })
      }
    } catch (e) {
      signal.throwIfAborted()
      report.error = e instanceof Error ? e.message : String(e)
      const carried = deadLettersOf(e)
      if (carried.length > 0) {
        report.deadLetters += carried.length
        await request.onDeadLetters?.(carried, crypto)
      }
      // The crypto's remaining windows are finished as far as progress goes; a rerun resumes them.
      done += windows.length - index
      request.onProgress?.({ done, total, crypto })
    }
  }
  return reports
}
