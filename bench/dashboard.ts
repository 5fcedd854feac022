/**
 * Dashboard: each page's first data paint in a real browser (Debian's chromium via
 * playwright-core, as the browser tests) against `cryptoviz start` over a generated table, and
 * the market page's main-thread long tasks while 20 quotes/s stream in.
 *
 * Dataset: the query benchmark's table (100 assets × 365 days at 60 s ≈ 52.6M rows; --quick: 20
 * assets × 30 days), generated into .cache/bench/ when missing and reused. The server runs with
 * the simulated source at 20 assets × 1 tick/s = 20 quotes/s and a flush interval longer than the
 * run, and is killed (not stopped) at the end: its live quotes are never committed, so the cached
 * table stays as generated.
 *
 * First data paint = the page's `performance.mark('cryptoviz:data')` (set when its main data is
 * in the DOM) relative to navigation start, on a fresh page each time (module and chart library
 * from the HTTP cache after the first load, as for a returning user). Long tasks come from the
 * browser's `longtask` performance entries once the market's first data is painted; the same watch runs
 * again with 100 live assets (also 20 quotes/s) on a throwaway warehouse that `start` seeds with
 * two days of simulated history, in --quick mode too (no 52M-row table needed). The SQL page runs no
 * query when opened, so its first example query (one asset, one day) is timed separately: from
 * the Run click to its rows in the grid.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateHistory, type GenerateResult } from '../src/cli/generate.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { launchChromium } from '../test/harness/chromium.ts'
import { startChild } from './cryptoviz-child.ts'
import { round, summarize, type BenchContext, type Cell, type SectionResult } from './report.ts'

const DAY = 86_400_000_000
const START = Date.UTC(2024, 0, 1) * 1000
const PAGES = [
  { name: 'market', path: '/' },
  { name: 'asset', path: '/asset/bitcoin?interval=1h&range=30d' },
  { name: 'lakehouse', path: '/lakehouse' },
  { name: 'history', path: '/history' },
  { name: 'sql', path: '/sql' },
  { name: 'pipeline', path: '/pipeline' },
] as const

/** The query benchmark's cached table (same folder name and shape), generated when missing. */
async function dataset(
  ctx: BenchContext,
  shape: { assets: number; days: number },
): Promise<{ dir: string; rows: number }> {
  const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)))
  const dir = join(repoRoot, '.cache', 'bench', `query-${shape.assets}a-${shape.days}d-60s`)
  const marker = join(dir, 'complete.json')
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { generated: GenerateResult }
    return { dir, rows: m.generated.rows }
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  ctx.log(`dashboard: generating ${shape.assets} assets × ${shape.days} days at 60 s into ${dir}`)
  const started = performance.now()
  const w = await openWarehouse(new LocalStore(dir))
  const generated = await generateHistory(w.quotes, {
    ...shape,
    intervalSeconds: 60,
    seed: 42,
    end: START + shape.days * DAY,
    compression: 'snappy',
  })
  writeFileSync(marker, JSON.stringify({ generated, seconds: (performance.now() - started) / 1000 }))
  return { dir, rows: generated.rows }
}

type Browser = Awaited<ReturnType<typeof launchChromium>>

/** The market page's long tasks and frames over `watchMs` after its first data paint. */
async function watchMarket(
  browser: Browser,
  url: string,
  watchMs: number,
): Promise<{ longTasks: number[]; fps: number; updated: boolean }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  // Browser code as text: it runs in the page (CDP, before the page's own scripts).
  await page.addInitScript({
    content: `
      window.cvLongTasks = []
      window.cvFrames = 0
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.cvLongTasks.push(e.duration)
      }).observe({ type: 'longtask', buffered: false })
      const frame = () => { window.cvFrames++; requestAnimationFrame(frame) }
      requestAnimationFrame(frame)`,
  })
  try {
    await page.goto(url)
    await page.waitForFunction(() => performance.getEntriesByName('cryptoviz:data').length > 0, undefined, {
      timeout: 60_000,
    })
    // The watch starts once the first data is painted (two frames after the mark): rendering it
    // is the first data paint, timed above; the target here is the live updates that follow.
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')
    await page.evaluate('window.cvLongTasks = []; window.cvFrames = 0')
    const price = page.locator('#market-rows tr[data-crypto="bitcoin"] td.price')
    const first = await price.textContent()
    await new Promise((r) => setTimeout(r, watchMs))
    const { longTasks, frames } = (await page.evaluate(
      '({ longTasks: window.cvLongTasks, frames: window.cvFrames })',
    )) as { longTasks: number[]; frames: number }
    const updated = (await price.textContent()) !== first
    return { longTasks, fps: frames / (watchMs / 1000), updated }
  } finally {
    await page.close()
  }
}

/**
 * The market page with 100 live assets at 20 quotes/s, cheaply: a throwaway warehouse seeded with
 * two days of simulated history by `start` itself (no 52M-row table needed).
 */
export async function marketAt100Assets(
  browser: Browser,
  watchMs: number,
): Promise<{ longTasks: number[]; fps: number; updated: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-market100-'))
  const child = await startChild([
    '--warehouse',
    dir,
    '--sim-assets',
    '100',
    '--sim-interval-ms',
    '5000',
    '--seed-days',
    '2',
  ])
  try {
    return await watchMarket(browser, child.url, watchMs)
  } finally {
    await child.stop(5_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function dashboardSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const shape = ctx.quick ? { assets: 20, days: 30 } : { assets: 100, days: 365 }
  const runs = ctx.quick ? 3 : 5
  const watchMs = ctx.quick ? 10_000 : 30_000
  const { dir, rows } = await dataset(ctx, shape)
  const child = await startChild([
    '--warehouse',
    dir,
    '--sim-assets',
    '20',
    '--sim-interval-ms',
    '1000',
    '--flush-interval-ms',
    '86400000',
    '--flush-max-rows',
    '10000000',
  ])
  const browser = await launchChromium()
  try {
    const paints: Cell[][] = []
    const metrics: Record<string, number | null> = {}
    for (const p of PAGES) {
      const samples: number[] = []
      for (let i = 0; i < runs; i++) {
        const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
        await page.goto(child.url + p.path)
        const ms = await page.waitForFunction(
          () => performance.getEntriesByName('cryptoviz:data')[0]?.startTime,
          undefined,
          { timeout: 60_000, polling: 10 },
        )
        samples.push(Number(await ms.jsonValue()))
        await page.close()
      }
      const s = summarize(samples)
      paints.push([p.name, round(s.median), round(s.max), runs])
      metrics[`dashboard_${p.name}_first_paint_ms`] = round(s.median)
    }

    // The SQL page's first example, run as a user would: click it, then Run.
    const exampleSamples: number[] = []
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
      await page.goto(child.url + '/sql')
      await page.locator('#sql-examples li button').first().click()
      const clicked = Number(await page.evaluate('performance.now()'))
      await page.locator('#sql-run').click()
      const done = await page.waitForFunction(
        () => {
          // Runs in the page (the bench is type-checked without the DOM library).
          const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document
          return doc.querySelector('#sql-results tbody tr') ? performance.now() : undefined
        },
        undefined,
        { timeout: 60_000, polling: 10 },
      )
      exampleSamples.push(Number(await done.jsonValue()) - clicked)
      await page.close()
    }
    const example = summarize(exampleSamples)
    paints.push(['sql: first example run', round(example.median), round(example.max), runs])
    metrics['dashboard_sql_example_ms'] = round(example.median)

    // Long tasks on the market page while 20 quotes/s stream in: over the benchmark table
    // (20 live assets), then with 100 live assets (the 52.6M-row table's count) on their own.
    const watch = await watchMarket(browser, child.url, watchMs)
    const wide = await marketAt100Assets(browser, watchMs)
    const { longTasks, updated, fps } = watch
    const maxTask = longTasks.length === 0 ? 0 : Math.max(...longTasks)
    const maxWide = wide.longTasks.length === 0 ? 0 : Math.max(...wide.longTasks)
    metrics['dashboard_market100_long_tasks'] = wide.longTasks.length
    metrics['dashboard_market100_max_long_task_ms'] = round(maxWide)
    metrics['dashboard_market_long_tasks'] = longTasks.length
    metrics['dashboard_market_max_long_task_ms'] = round(maxTask)
    metrics['dashboard_market_fps'] = round(fps)
    return {
      section: 'dashboard',
      title: 'Dashboard in the browser',
      seconds: (performance.now() - started) / 1000,
      tables: [
        {
          title: `First data paint per page (${rows.toLocaleString('en-US')}-row table)`,
          columns: ['page', 'median ms', 'max ms', 'runs'],
          rows: paints,
          notes: [
            'Time from navigation start to the page’s cryptoviz:data mark (its main data in the DOM), headless chromium, 1440×900.',
            `Table: ${shape.assets} assets × ${shape.days} days at 60 s; the server adds 20 live quotes/s (never committed during the run).`,
            'asset: 30 days of hourly candles, the gaps and the per-source comparison; market: /api/v1/latest over every asset.',
            'sql: the tables, columns and examples from the catalog (no query runs on open); “first example run” is Run click → rows for one asset and one day.',
          ],
        },
        {
          title: 'Market page at 20 quotes/s',
          columns: ['measure', 'value'],
          rows: [
            ['watched', `${watchMs / 1000} s after the first paint`],
            ['long tasks (> 50 ms)', longTasks.length],
            ['longest task ms', longTasks.length === 0 ? '— (none)' : round(maxTask)],
            ['animation frames per second', round(fps)],
            ['prices updated live', updated ? 'yes' : 'no'],
            ['100 live assets: long tasks (> 50 ms)', wide.longTasks.length],
            ['100 live assets: longest task ms', wide.longTasks.length === 0 ? '— (none)' : round(maxWide)],
            ['100 live assets: frames per second', round(wide.fps)],
            ['100 live assets: prices updated live', wide.updated ? 'yes' : 'no'],
          ],
          notes: [
            'Long tasks are the browser’s own longtask entries (main-thread tasks over 50 ms); frames are requestAnimationFrame callbacks.',
            '100 live assets: a fresh warehouse with 2 days of seeded simulated history, 100 simulated assets ticking every 5 s (20 quotes/s), so every row has changes and a sparkline (the page keeps only the rows near the screen in the DOM).',
            'Headless chromium paces frames itself, so frames/s is an upper-bound indicator, not a display rate.',
          ],
        },
      ],
      metrics,
    }
  } finally {
    await browser.close()
    // Killed, not stopped: a graceful stop would commit the buffered live quotes into the cache.
    child.proc.child.kill('SIGKILL')
    await child.proc.exited
  }
}
