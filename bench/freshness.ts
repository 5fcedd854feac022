/**
 * Freshness: how long after a quote enters the collector it can be seen (1) by a live-stream (SSE)
 * client, (2) through the query API (`GET /api/v1/quotes`, which serves the hot tail when the
 * processor's uncommitted quotes are wired into it) and (3) in committed Parquet (a Delta snapshot
 * taken by another process lists a file holding it).
 *
 * A simulated quote's `ts` is the wall-clock time of the poll that produced it, so "entered the
 * collector" is `ts`, and each observer's latency is its own wall clock at first sight minus `ts`.
 * Both processes read the same system clock. Observers poll, so a figure is late by up to one
 * polling period; the table says which.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { DeltaTable } from '../src/lake/index.ts'
import { timeParam } from '../src/server/params.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { startChild, type RunningChild } from './cryptoviz-child.ts'
import { round, summarize, type BenchContext, type Cell, type SectionResult } from './report.ts'

const sseQuote = z.object({ ts: timeParam, crypto: z.string() })
const quotesResponse = z.object({ rows: z.array(z.object({ ts: timeParam })) })
const batchLog = z.object({ msg: z.literal('batch committed'), ms: z.number() })

interface Sighting {
  sse?: number
  api?: number
  parquet?: number
}

const wallMs = (): number => performance.timeOrigin + performance.now()

/** Calls `onData` with each event's data until the signal aborts or the stream ends. */
async function followSse(url: string, signal: AbortSignal, onData: (data: string) => void): Promise<void> {
  try {
    const res = await fetch(url, { signal })
    if (!res.ok || res.body === null) throw new Error(`GET ${url}: ${res.status}`)
    const decoder = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true })
      let sep
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep)
        buf = buf.slice(sep + 2)
        for (const line of block.split('\n')) if (line.startsWith('data:')) onData(line.slice(5).trimStart())
      }
    }
  } catch (e) {
    if (!signal.aborted) throw e
  }
}

export async function freshnessSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const crypto = 'bitcoin'
  const simIntervalMs = 100
  const flushIntervalMs = 1_000
  const pollMs = 20
  const warmupMs = 2_000
  const windowMs = ctx.quick ? 10_000 : 60_000
  const warehouse = join(ctx.tmp, 'freshness')

  ctx.log(`freshness: cryptoviz start, ${windowMs / 1000} s window`)
  const child: RunningChild = await startChild([
    '--warehouse',
    warehouse,
    '--sim-assets',
    '20',
    '--sim-interval-ms',
    String(simIntervalMs),
    '--flush-interval-ms',
    String(flushIntervalMs),
    '--rate-limit-rps',
    '0',
  ])
  const seen = new Map<number, Sighting>()
  const sighting = (ts: number): Sighting => {
    let s = seen.get(ts)
    if (s === undefined) seen.set(ts, (s = {}))
    return s
  }
  const fromUs = (wallMs() + warmupMs) * 1000
  let streaming = true
  let polling = true
  const sseStop = new AbortController()
  // The observers run concurrently; the first failure stops them all and is rethrown at the end.
  let failure: unknown
  const guard = (p: Promise<void>): Promise<void> =>
    p.catch((e: unknown) => {
      failure ??= e
      polling = false
      sseStop.abort()
    })
  try {
    const sse = guard(
      followSse(`${child.url}/api/v1/stream?crypto=${crypto}`, sseStop.signal, (data) => {
        const at = wallMs()
        const q = sseQuote.parse(JSON.parse(data))
        if (streaming && q.ts >= fromUs && q.crypto === crypto) sighting(q.ts).sse ??= at - q.ts / 1000
      }),
    )

    const api = guard(
      (async () => {
        let after = fromUs - 1
        while (polling) {
          const res = await fetch(
            `${child.url}/api/v1/quotes?crypto=${crypto}&start=${Math.floor((after + 1) / 1000)}&limit=100000`,
          )
          const at = wallMs()
          if (!res.ok) throw new Error(`GET /api/v1/quotes: ${res.status} ${await res.text()}`)
          for (const row of quotesResponse.parse(await res.json()).rows) {
            if (row.ts < fromUs) continue
            if (streaming || seen.has(row.ts)) sighting(row.ts).api ??= at - row.ts / 1000
            after = Math.max(after, row.ts)
          }
          await sleep(pollMs)
        }
      })(),
    )

    const parquet = guard(
      (async () => {
        const table = await DeltaTable.open(new LocalStore(warehouse).child('quotes'))
        let version = -1
        while (polling) {
          const snapshot = await table.snapshot()
          const at = wallMs()
          if (snapshot.version !== version) {
            version = snapshot.version
            for (const [ts, s] of seen) {
              if (s.parquet !== undefined) continue
              const files = snapshot.filesFor({
                partitions: { crypto: [crypto] },
                ranges: { ts: { min: ts, max: ts } },
              })
              if (files.length > 0) s.parquet = at - ts / 1000
            }
          }
          await sleep(pollMs)
        }
      })(),
    )

    const windowEnd = performance.now() + warmupMs + windowMs
    while (polling && performance.now() < windowEnd) await sleep(100)
    streaming = false
    // Give the last quotes of the window time to be committed and observed.
    const deadline = performance.now() + flushIntervalMs + 10_000
    while (
      polling &&
      performance.now() < deadline &&
      [...seen.values()].some((s) => s.parquet === undefined || s.api === undefined)
    ) {
      await sleep(100)
    }
    polling = false
    sseStop.abort()
    await Promise.all([sse, api, parquet])
    if (failure !== undefined) throw failure
  } finally {
    polling = false
    sseStop.abort()
    await child.stop()
  }

  const all = [...seen.values()]
  const row = (path: string, values: number[], poll: string): Cell[] => {
    const s = summarize(values)
    return [path, values.length, s.median, s.p95, s.max, poll]
  }
  const sse = all.flatMap((s) => (s.sse === undefined ? [] : [s.sse]))
  const api = all.flatMap((s) => (s.api === undefined ? [] : [s.api]))
  const parquet = all.flatMap((s) => (s.parquet === undefined ? [] : [s.parquet]))
  const beforeCommit = all.filter(
    (s) => s.api !== undefined && s.parquet !== undefined && s.api < s.parquet,
  ).length
  const lag = summarize(
    all.flatMap((s) => (s.api === undefined || s.parquet === undefined ? [] : [s.api - s.parquet])),
  )
  const commitMs = child.proc.logs.flatMap((l) => {
    const r = batchLog.safeParse(l)
    return r.success ? [r.data.ms] : []
  })
  const sseS = summarize(sse)
  const apiS = summarize(api)
  const parquetS = summarize(parquet)
  const missing = all.length - Math.min(sse.length, api.length, parquet.length)
  return {
    section: 'freshness',
    title: 'Freshness',
    seconds: (performance.now() - started) / 1000,
    tables: [
      {
        title: `Freshness: quote entering the collector → visible (${crypto}, ${windowMs / 1000} s window)`,
        columns: ['visible to', 'quotes', 'p50 ms', 'p95 ms', 'max ms', 'observed by'],
        rows: [
          row('SSE client (/api/v1/stream)', sse, 'push'),
          row('query API (/api/v1/quotes)', api, `poll every ${pollMs} ms`),
          row('committed Parquet (Delta snapshot)', parquet, `poll every ${pollMs} ms`),
          row('  of which: commit duration (processor log)', commitMs, 'log'),
        ],
        notes: [
          `cryptoviz start --sim-assets 20 --sim-interval-ms ${simIntervalMs} --flush-interval-ms ${flushIntervalMs}: ` +
            `committed freshness is dominated by the flush interval (default 30 s, i.e. up to 30 s with the defaults).`,
          `${beforeCommit} of ${api.length} quotes were visible in the query API before their commit was observed` +
            (beforeCommit === 0
              ? ': the API does not serve the hot tail (uncommitted quotes) yet, only committed Parquet'
              : ' (served from the hot tail)') +
            `; API sighting minus commit sighting: p50 ${round(lag.median)} ms, max ${round(lag.max)} ms.`,
          `Quote ts have millisecond resolution (adds 0–1 ms). ${missing > 0 ? `${missing} quotes were not seen by every observer.` : ''}`.trim(),
        ],
      },
    ],
    metrics: {
      sse_p50_ms: sse.length > 0 ? sseS.median : null,
      sse_p95_ms: sse.length > 0 ? sseS.p95 : null,
      api_p50_ms: api.length > 0 ? apiS.median : null,
      api_p95_ms: api.length > 0 ? apiS.p95 : null,
      parquet_p50_ms: parquet.length > 0 ? parquetS.median : null,
      parquet_p95_ms: parquet.length > 0 ? parquetS.p95 : null,
      api_before_commit: beforeCommit,
      flush_interval_ms: flushIntervalMs,
    },
  }
}
