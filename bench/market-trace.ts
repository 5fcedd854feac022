/**
 * `node bench/market-trace.ts [--assets 100] [--seconds 30] [--runs 1] [--blank] [--trace FILE]`:
 * watches the market page with N live assets at 20 quotes/s (a throwaway warehouse that `start`
 * seeds with two days of simulated history, as the dashboard bench's 100-asset case) under a
 * Chromium performance trace, and attributes every main-thread task over 50 ms to what it spent
 * its time on: script, style, layout, paint (paint, pre-paint, layerize, commit) or other (the
 * self time of wrappers such as RunTask and BeginMainFrame: mostly the thread waiting for a core).
 *
 * `--blank` watches a blank page with the same observers instead (no server): on a shared machine
 * it shows how many long tasks load alone makes, to tell load noise from the page's own cost.
 *
 * Attribution uses self time: each trace event's duration minus its direct children's, summed by
 * bucket over the events nested in the long task (same thread, inside its time span).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { launchChromium } from '../test/harness/chromium.ts'
import { startChild } from './cryptoviz-child.ts'

const CATEGORIES = [
  'toplevel',
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'blink',
  'cc',
  'v8.execute',
  'blink.user_timing',
]

/** What a trace event's self time counts as. */
const BUCKETS: { bucket: string; names: RegExp }[] = [
  {
    bucket: 'script',
    names:
      /^(FunctionCall|EvaluateScript|TimerFire|FireAnimationFrame|EventDispatch|RunMicrotasks|V8\.|v8\.|XHR|MajorGC|MinorGC|GCEvent|BlinkGC|ParseHTML|v8)/,
  },
  {
    bucket: 'style',
    names: /^(UpdateLayoutTree|RecalculateStyles|Document::(updateStyle|recalcStyle)|StyleEngine)/,
  },
  {
    bucket: 'layout',
    names: /^(Layout|UpdateLayout|LocalFrameView::(layout|performLayout)|InlineNode::|LayoutNG)/,
  },
  {
    bucket: 'paint',
    names:
      /(Paint|Layerize|Commit|UpdateLayer|CompositeLayers|Raster|PaintArtifactCompositor|PrePaint|LocalFrameView::RunPaintLifecyclePhase|Decode|Image|::commit|CompositingInputs)/,
  },
]

export interface TraceEvent {
  name: string
  cat: string
  ph: string
  ts: number
  dur?: number
  pid: number
  tid: number
  args?: { name?: string }
}

export interface LongTaskReport {
  /** Milliseconds after tracing started. */
  at: number
  ms: number
  /** Self time per bucket, milliseconds. */
  buckets: Record<string, number>
  /** The five largest self times by event name. */
  top: [string, number][]
}

const bucketOf = (name: string): string => BUCKETS.find((b) => b.names.test(name))?.bucket ?? 'other'

/** Every task over `minMs` on the renderer's main thread, with its self time attributed. */
export function attributeLongTasks(events: TraceEvent[], minMs = 50): LongTaskReport[] {
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  )
  if (main === undefined) return []
  const complete = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0))
  const origin = events.reduce((min, e) => (e.ts > 0 && e.ts < min ? e.ts : min), Infinity)
  const reports: LongTaskReport[] = []
  for (const task of complete) {
    if (task.name !== 'RunTask' || (task.dur ?? 0) < minMs * 1000) continue
    if (reports.some((r) => Math.abs(r.at - (task.ts - origin) / 1000) < 1e-6)) continue
    const end = task.ts + (task.dur ?? 0)
    const inside = complete.filter((e) => e !== task && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= end)
    // Self time: walk the events in start order with a stack of open ancestors.
    const self = new Map<TraceEvent, number>()
    const stack: TraceEvent[] = []
    let taskSelf = task.dur ?? 0
    for (const e of inside) {
      while (stack.length > 0 && e.ts >= stack[stack.length - 1]!.ts + (stack[stack.length - 1]!.dur ?? 0))
        stack.pop()
      const parent = stack[stack.length - 1]
      if (parent === undefined) taskSelf -= e.dur ?? 0
      else self.set(parent, (self.get(parent) ?? 0) - (e.dur ?? 0))
      self.set(e, (self.get(e) ?? 0) + (e.dur ?? 0))
      stack.push(e)
    }
    const buckets: Record<string, number> = {
      script: 0,
      style: 0,
      layout: 0,
      paint: 0,
      other: taskSelf / 1000,
    }
    const byName = new Map<string, number>()
    for (const [e, us] of self) {
      const b = bucketOf(e.name)
      buckets[b] = (buckets[b] ?? 0) + us / 1000
      byName.set(e.name, (byName.get(e.name) ?? 0) + us / 1000)
    }
    for (const k of Object.keys(buckets)) buckets[k] = Math.round(buckets[k]! * 10) / 10
    const top = [...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([n, ms]): [string, number] => [n, Math.round(ms * 10) / 10])
    reports.push({
      at: Math.round((task.ts - origin) / 1000),
      ms: Math.round((task.dur ?? 0) / 1000),
      buckets,
      top,
    })
  }
  return reports
}

export interface TraceSummary {
  /** Main-thread tasks over 30 ms (a margin under the 50 ms line, less noisy to count). */
  tasksOver30: number
  /** All main-thread task time, milliseconds. */
  busyMs: number
  /** Layerize (`PaintArtifactCompositor::Update`) time over the trace, milliseconds. */
  layerizeMs: number
  layerizeCount: number
  /** Paint (display list recording) time over the trace, milliseconds. */
  paintMs: number
}

/** Whole-trace totals of the renderer's main thread. */
export function summarizeTrace(events: TraceEvent[]): TraceSummary {
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  )
  const summary = { tasksOver30: 0, busyMs: 0, layerizeMs: 0, layerizeCount: 0, paintMs: 0 }
  if (main === undefined) return summary
  for (const e of events) {
    if (e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || e.dur === undefined) continue
    if (e.name === 'RunTask') {
      summary.busyMs += e.dur / 1000
      if (e.dur > 30_000) summary.tasksOver30++
    } else if (e.name === 'PaintArtifactCompositor::Update') {
      summary.layerizeMs += e.dur / 1000
      summary.layerizeCount++
    } else if (e.name === 'Paint') summary.paintMs += e.dur / 1000
  }
  return {
    ...summary,
    busyMs: Math.round(summary.busyMs),
    layerizeMs: Math.round(summary.layerizeMs),
    paintMs: Math.round(summary.paintMs),
  }
}

/** Browser code as text: long task entries and animation frames, counted from the page's start. */
const OBSERVERS = `
  window.cvLongTasks = []
  window.cvFrames = 0
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.cvLongTasks.push(Math.round(e.duration))
  }).observe({ type: 'longtask', buffered: false })
  const frame = () => { window.cvFrames++; requestAnimationFrame(frame) }
  requestAnimationFrame(frame)`

export interface TracedWatch {
  longTasks: number[]
  fps: number
  domRows: number
  attributed: LongTaskReport[]
  summary: TraceSummary
}

async function tracedWatch(
  url: string | undefined,
  seconds: number,
  traceFile?: string,
): Promise<TracedWatch> {
  const browser = await launchChromium()
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript({ content: OBSERVERS })
    if (url === undefined) await page.goto('about:blank')
    else {
      await page.goto(url)
      await page.waitForFunction(() => performance.getEntriesByName('cryptoviz:data').length > 0, undefined, {
        timeout: 60_000,
      })
    }
    await page.evaluate('window.cvLongTasks = []; window.cvFrames = 0')
    await browser.startTracing(page, { categories: CATEGORIES })
    await new Promise((r) => setTimeout(r, seconds * 1000))
    const trace = await browser.stopTracing()
    if (traceFile !== undefined) writeFileSync(traceFile, trace)
    const { longTasks, frames, domRows } = (await page.evaluate(
      "({ longTasks: window.cvLongTasks, frames: window.cvFrames, domRows: document.querySelectorAll('#market-rows tr').length })",
    )) as { longTasks: number[]; frames: number; domRows: number }
    const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents
    return {
      longTasks,
      fps: Math.round((frames / seconds) * 10) / 10,
      domRows,
      attributed: attributeLongTasks(events),
      summary: summarizeTrace(events),
    }
  } finally {
    await browser.close()
  }
}

/** The market page with `assets` live assets at 20 quotes/s on a throwaway seeded warehouse. */
export async function traceMarket(assets: number, seconds: number, traceFile?: string): Promise<TracedWatch> {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-market-trace-'))
  const intervalMs = Math.round((assets / 20) * 1000)
  const child = await startChild([
    '--warehouse',
    dir,
    '--sim-assets',
    String(assets),
    '--sim-interval-ms',
    String(intervalMs),
    '--seed-days',
    '2',
  ])
  try {
    return await tracedWatch(child.url, seconds, traceFile)
  } finally {
    await child.stop(5_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      assets: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '30' },
      runs: { type: 'string', default: '1' },
      blank: { type: 'boolean', default: false },
      trace: { type: 'string' },
    },
    strict: true,
  })
  const seconds = Number(values.seconds)
  for (let run = 1; run <= Number(values.runs); run++) {
    const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1))
    const result = values.blank
      ? await tracedWatch(undefined, seconds, values.trace)
      : await traceMarket(Number(values.assets), seconds, values.trace)
    const what = values.blank ? 'blank page' : `market, ${values.assets} assets`
    process.stdout.write(
      `${what}, ${seconds} s, load ${load.join(' ')}: long tasks ${JSON.stringify(result.longTasks)}, ` +
        `${result.fps} frames/s, ${result.domRows} rows in the DOM; trace: ${JSON.stringify(result.summary)}\n`,
    )
    for (const t of result.attributed)
      process.stdout.write(
        `  trace task at ${t.at} ms: ${t.ms} ms = ${Object.entries(t.buckets)
          .map(([b, ms]) => `${b} ${ms}`)
          .join(', ')}; top: ${t.top.map(([n, ms]) => `${n} ${ms}`).join(', ')}\n`,
      )
  }
}
