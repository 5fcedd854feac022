/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against the real
 * `cryptoviz start` with seeded history: every page renders with data, with no console error,
 * no request leaving 127.0.0.1 and no serious accessibility violation (axe-core, injected into
 * the page); live updates, time travel, the SQL console, reloads and the fallback banner.
 * Screenshots of each page at 1440×900 and 390×844 go to test-output/screenshots/.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { simulatedAssets } from '../../src/sources/simulated-assets.ts'
import { launchChromium } from '../harness/chromium.ts'
import { CryptovizProcess, startCryptoviz } from '../harness/cryptoviz-process.ts'
import { kafkaBootstrap, uniquePrefix } from '../harness/kafka.ts'

const SIM_ARGS = ['--flush-interval-ms', '1000', '--sim-interval-ms', '200', '--sim-assets', '5']
const SEEDED = { CRYPTOVIZ_SEED_DAYS: '2' }
export const SCREENSHOTS = new URL('../../test-output/screenshots/', import.meta.url).pathname
export const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const
const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8')

/** Each page: its URL and a probe that holds once its data is on screen. */
export const PAGES: { name: string; path: string; ready: (page: Page) => Promise<boolean> }[] = [
  { name: 'market', path: '/', ready: async (p) => (await p.locator('#market-rows tr').count()) === 5 },
  {
    name: 'asset',
    path: '/asset/bitcoin',
    ready: async (p) =>
      Number((await p.locator('#chart').getAttribute('data-candles')) ?? 0) > 0 &&
      (await p.locator('#recent-rows tr').count()) > 0,
  },
  {
    name: 'lakehouse',
    path: '/lakehouse',
    ready: async (p) =>
      (await p.locator('#partition-tree details').count()) > 0 &&
      (await p.locator('#schema-rows tr').count()) > 0,
  },
  {
    name: 'history',
    path: '/history',
    ready: async (p) => (await p.locator('#history-rows tr').count()) >= 2,
  },
  {
    name: 'sql',
    path: '/sql',
    ready: async (p) =>
      (await p.locator('#sql-tables details[data-table="quotes"] tbody tr').count()) > 0 &&
      (await p.locator('#sql-examples li').count()) > 0,
  },
  {
    name: 'pipeline',
    path: '/pipeline',
    ready: async (p) =>
      (await p.locator('#sources-rows tr[data-source="simulated"]').count()) === 1 &&
      /^[1-9]/.test((await p.locator('#stat-received').textContent()) ?? '') &&
      (await p.locator('#lag-rows tr').count()) > 0,
  },
]

interface Watched {
  page: Page
  /** Console errors, page errors and requests to anything but 127.0.0.1. */
  problems: string[]
}

/** A page that records console errors, uncaught errors and any request leaving 127.0.0.1. */
export async function watchedPage(
  browser: Browser,
  viewport: { width: number; height: number } = VIEWPORTS[0],
): Promise<Watched> {
  const page = await browser.newPage({ viewport })
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.protocol !== 'blob:' && url.protocol !== 'data:' && url.hostname !== '127.0.0.1') {
      problems.push(`request left 127.0.0.1: ${r.url()}`)
    }
  })
  return { page, problems }
}

async function browser(t: TestContext): Promise<Browser> {
  const b = await launchChromium()
  t.after(() => b.close())
  return b
}

/** Polls `probe` until it returns a value (not undefined or false); fails after the timeout. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** axe-core's serious and critical violations on the page as it is now. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: unknown[] }> } })
      .axe
    const r = await axe.run({ resultTypes: ['violations'] })
    return r.violations as { id: string; impact: string; nodes: { target: string[] }[] }[]
  })
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/** The price text of a formatted dollar amount, as a number. */
const dollars = (text: string): number => Number(text.replace(/[$,]/g, ''))

test('every page renders with data at desktop and phone size: no console error, no request off 127.0.0.1, no serious axe violation, reload restores it', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const b = await browser(t)
  mkdirSync(SCREENSHOTS, { recursive: true })
  for (const viewport of VIEWPORTS) {
    for (const theme of viewport.name === 'desktop' ? ['light', 'dark'] : ['light']) {
      const { page, problems } = await watchedPage(b, viewport)
      await page.emulateMedia({ colorScheme: theme as 'light' | 'dark' })
      for (const p of PAGES) {
        await page.goto(url + p.path)
        await until(`${p.name} shows its data (${viewport.name}, ${theme})`, () => p.ready(page))
        assert.equal(await page.locator('.error:visible').count(), 0, `${p.name}: no panel error`)
        assert.equal(await page.locator('#asof-banner').isVisible(), false)
        assert.deepEqual(await accessibilityViolations(page), [], `${p.name} (${viewport.name}, ${theme})`)
        await page.screenshot({ path: `${SCREENSHOTS}${p.name}-${viewport.name}-${theme}.png` })
        await page.reload()
        await until(`${p.name} shows its data again after a reload`, () => p.ready(page))
      }
      assert.deepEqual(problems, [])
      await page.close()
    }
  }
})

test('the market table updates live, sorts, searches, and links to the asset page, whose chart is interactive', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  await page.goto(url)
  const expected = simulatedAssets(5)
  await until(
    'the market lists every asset',
    async () => (await page.locator('#market-rows tr').count()) === 5,
  )
  const rows = await page
    .locator('#market-rows tr')
    .evaluateAll((trs) =>
      trs.map((tr) => ({ crypto: tr.getAttribute('data-crypto'), text: tr.textContent ?? '' })),
    )
  assert.deepEqual(
    rows.map((r) => r.crypto),
    expected.map((a) => a.slug),
    'ranked order by default',
  )
  for (const asset of expected) {
    const row = rows.find((r) => r.crypto === asset.slug)!
    assert.ok(
      row.text.includes(asset.name) && row.text.includes(asset.symbol) && row.text.includes('simulated'),
    )
  }
  assert.equal(await page.locator('#market-rows svg.sparkline').count(), 5)
  const gainers = await page
    .locator('#movers .movers-list')
    .nth(0)
    .locator('li .num:last-child')
    .allTextContents()
  const losers = await page
    .locator('#movers .movers-list')
    .nth(1)
    .locator('li .num:last-child')
    .allTextContents()
  assert.ok(gainers.length + losers.length >= 3, 'movers are listed')
  assert.ok(
    gainers.every((g) => g.startsWith('+')) && losers.every((l) => /^[-−]/.test(l)),
    `${gainers} / ${losers}`,
  )
  await until(
    'the live indicator says live',
    async () => (await page.locator('#live').getAttribute('data-state')) === 'live',
  )

  // Live: bitcoin's price cell changes without a reload (ticks every 200 ms).
  const price = page.locator('#market-rows tr[data-crypto="bitcoin"] td.price')
  const before = await price.textContent()
  await until('a live quote changes the bitcoin price', async () => (await price.textContent()) !== before)

  // Sort by price, descending first; then search.
  await page.locator('button[data-sort="price"]').click()
  const prices = await page.locator('#market-rows td.price').allTextContents()
  assert.deepEqual(
    prices.map(dollars),
    [...prices.map(dollars)].sort((a, b) => b - a),
  )
  assert.equal(await page.locator('th[data-key="price"]').getAttribute('aria-sort'), 'descending')
  await page.locator('#market-search').fill('sol')
  assert.deepEqual(
    await page
      .locator('#market-rows tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-crypto'))),
    ['solana'],
  )

  // The asset page, by keyboard: Enter on the focused link routes without a reload.
  await page.locator('#market-rows a[href="/asset/solana"]').focus()
  await page.keyboard.press('Enter')
  await page.waitForURL(`${url}/asset/solana`)
  await until(
    'the chart has candles',
    async () => Number((await page.locator('#chart').getAttribute('data-candles')) ?? 0) > 200,
  )
  // The title comes from the asset's latest quote, a request of its own that may land after the candles.
  await until('the title names the asset', async () =>
    /^Solana \(SOL\)$/.test((await page.locator('#asset-title').textContent()) ?? ''),
  )
  assert.ok((await page.locator('#chart canvas').count()) > 0, 'lightweight-charts draws on canvas')
  // Crosshair: hovering the chart shows that candle's OHLC in the legend.
  const box = (await page.locator('#chart .chart-host').boundingBox())!
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2)
  await until('the legend shows OHLC under the crosshair', async () =>
    /O \$[\d,.]+ {2}H \$[\d,.]+ {2}L \$[\d,.]+ {2}C \$[\d,.]+/.test(
      (await page.locator('.legend').textContent()) ?? '',
    ),
  )
  // The interval selector reloads the chart and is kept in the URL.
  await page.locator('button[data-value="1h"]').click()
  await page.waitForURL(/interval=1h/)
  await until('hourly candles', async () => {
    const n = Number((await page.locator('#chart').getAttribute('data-candles')) ?? 0)
    return n > 0 && n <= 25
  })
  await page.reload()
  assert.equal(await page.locator('button[data-value="1h"]').getAttribute('aria-pressed'), 'true')
  // Live quotes reach the recent-quotes table.
  const newest = await page.locator('#recent-rows tr').first().textContent()
  await until(
    'a live quote tops the recent quotes',
    async () => (await page.locator('#recent-rows tr').first().textContent()) !== newest,
  )
  assert.deepEqual(problems, [])
})

test('with 100 assets the market body holds only the rows near the screen; scrolling through shows every asset once, in rank order, filled, with live and caught-up prices', async (t) => {
  const { url } = await startCryptoviz(
    t,
    ['--flush-interval-ms', '1000', '--sim-interval-ms', '500', '--sim-assets', '100'],
    SEEDED,
  )
  const { page, problems } = await watchedPage(await browser(t), { width: 1440, height: 600 })
  await page.goto(url)
  await until('the market counts 100 assets', async () =>
    /^100 of 100 assets/.test((await page.locator('#market-count').textContent()) ?? ''),
  )
  const latest = (await (await fetch(`${url}/api/v1/latest?limit=1000`)).json()) as {
    rows: { crypto: string; rank: number | null }[]
  }
  const byRank = latest.rows
    .toSorted((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))
    .map((r) => r.crypto)
  assert.equal(byRank.length, 100)
  const lastAsset = byRank[99]!
  assert.equal(await page.locator('table.market').getAttribute('aria-rowcount'), '101')
  const rendered = await page.locator('#market-rows tr').count()
  assert.ok(rendered > 0 && rendered < 60, `only the rows near a 600-px screen are in the DOM (${rendered})`)
  assert.equal(await page.locator(`#market-rows tr[data-crypto="${lastAsset}"]`).count(), 0)

  // Browser code as text (the tests are type-checked without the DOM library).
  const settled = 'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))'
  const snapshot = `({
    rows: [...document.querySelectorAll('#market-rows tr')].map((tr) => [Number(tr.getAttribute('aria-rowindex')), tr.dataset.crypto]),
    // What the screen shows at points down the table's visible part: a row, never a spacer or nothing.
    gaps: (() => {
      const table = document.querySelector('table.market').getBoundingClientRect()
      const head = document.querySelector('table.market thead').getBoundingClientRect()
      const top = Math.max(head.bottom + 1, 1), bottom = Math.min(table.bottom - 1, innerHeight - 1)
      const gaps = []
      for (let y = top; y < bottom; y += 10) {
        const hit = document.elementFromPoint(table.left + 200, y)
        if (hit === null || hit.closest('#market-rows tr[data-crypto]') === null) gaps.push(Math.round(y))
      }
      return gaps
    })(),
    atBottom: scrollY + innerHeight >= document.documentElement.scrollHeight - 1,
  })`
  const seen = new Map<number, string>()
  for (let y = 0; ; y += 350) {
    await page.evaluate(`window.scrollTo(0, ${y})`)
    await page.evaluate(settled)
    const view = (await page.evaluate(snapshot)) as {
      rows: [number, string][]
      gaps: number[]
      atBottom: boolean
    }
    assert.deepEqual(view.gaps, [], `rows fill the screen at scroll ${y}`)
    view.rows.forEach(([index, crypto], k) => {
      assert.equal(index, view.rows[0]![0] + k, 'the rows in the DOM are consecutive')
      assert.equal(seen.get(index) ?? crypto, crypto, `row ${index} keeps its asset`)
      seen.set(index, crypto)
    })
    if (view.atBottom) break
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a[0] - b[0]).map(([, crypto]) => crypto),
    byRank,
    'scrolled through, the windowed body showed the whole table in rank order',
  )

  // At the bottom the last asset takes live quotes.
  const lastPrice = page.locator(`#market-rows tr[data-crypto="${lastAsset}"] td.price`)
  const before = await lastPrice.textContent()
  await until(
    'a live quote changes the last asset’s price',
    async () => (await lastPrice.textContent()) !== before,
  )
  // Out of the window it takes none (it is not in the DOM), and back in it shows its newest price at once.
  const shown = await lastPrice.textContent()
  await page.evaluate('window.scrollTo(0, 0)')
  await page.evaluate(settled)
  assert.equal(await lastPrice.count(), 0, 'scrolled away, the row leaves the DOM')
  // Away until its price has moved enough to show (a small price written to four digits can take
  // a few ticks), as the page's own formatter writes it. The API's latest lags the live stream by
  // up to a flush, so it must move past both what it said when the row left and what was shown.
  const shownByServer = async (): Promise<string> => {
    const r = (await (await fetch(`${url}/api/v1/latest?limit=1000`)).json()) as {
      rows: { crypto: string; price_usd: number }[]
    }
    const p = r.rows.find((row) => row.crypto === lastAsset)!.price_usd
    return String(await page.evaluate(`import('/assets/format.js').then((f) => f.price(${p}))`))
  }
  const serverWhenLeft = await shownByServer()
  await until(
    'the last asset’s price moves visibly',
    async () => {
      const now = await shownByServer()
      return now !== shown && now !== serverWhenLeft
    },
    30_000,
  )
  await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)')
  await page.evaluate(settled)
  assert.notEqual(await lastPrice.textContent(), shown, 'back in view, the row shows the quotes it missed')

  // The keyboard walks every row: Tab from each asset link reaches the next row's, past the window's edge.
  await page.evaluate('window.scrollTo(0, 0)')
  await page.evaluate(settled)
  await page.locator('#market-rows tr[aria-rowindex="2"] a.asset').focus()
  for (let index = 3; index <= 101; index++) {
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(
      "document.activeElement?.closest('#market-rows tr')?.getAttribute('aria-rowindex') ?? document.activeElement?.tagName",
    )
    assert.equal(focused, String(index), `Tab reaches row ${index}`)
  }

  // Sort and search work on every asset, not just the rows in the DOM.
  await page.evaluate('window.scrollTo(0, 0)')
  await page.locator('button[data-sort="rank"]').click()
  await until(
    'sorted by rank descending, the last asset comes first',
    async () => (await page.locator('#market-rows tr').first().getAttribute('data-crypto')) === lastAsset,
  )
  assert.equal(await page.locator('#market-rows tr').first().getAttribute('aria-rowindex'), '2')
  await page.locator('#market-search').fill(lastAsset)
  await until(
    'the search finds the asset',
    async () => (await page.locator('#market-rows tr').first().getAttribute('data-crypto')) === lastAsset,
  )
  const found = await page.locator('#market-rows tr').count()
  assert.equal(await page.locator('table.market').getAttribute('aria-rowcount'), String(found + 1))
  // Searching while scrolled to the bottom of the full table still shows what it finds.
  await page.locator('#market-search').fill('')
  await until('the full table is back', async () => (await page.locator('#market-rows tr').count()) > found)
  await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)')
  await page.evaluate(settled)
  await page.evaluate(
    `{ const s = document.querySelector('#market-search'); s.value = ${JSON.stringify(lastAsset)}; s.dispatchEvent(new Event('input')) }`,
  )
  await until(
    'searched from the bottom of the page, the found asset shows',
    async () => (await page.locator('#market-rows tr').first().getAttribute('data-crypto')) === lastAsset,
  )
  assert.deepEqual(problems, [])
})

test('time travel: choosing an older version shows a banner and that version’s numbers on every page until back to live', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  // Version 1 is the first seeded day's commit: far fewer rows than now.
  const old = (await (await fetch(`${url}/api/v1/catalog?asOf=1`)).json()) as {
    tables: { name: string; rows: number }[]
  }
  const oldRows = old.tables.find((x) => x.name === 'quotes')!.rows
  await page.goto(`${url}/history`)
  await until(
    'commits are listed',
    async () => (await page.locator('#history-rows tr[data-version="1"]').count()) === 1,
  )
  await page.locator('#history-rows button[data-version="1"]').click()
  await page.waitForURL(`${url}/history?asOf=1`)
  const banner = page.locator('#asof-banner')
  await banner.waitFor({ state: 'visible' })
  assert.match((await banner.textContent()) ?? '', /as of version 1/)
  assert.equal(await page.locator('#history-rows tr[aria-current="true"]').getAttribute('data-version'), '1')
  assert.equal(await page.locator('#live').getAttribute('data-state'), 'paused')

  // The lakehouse page (through the nav: asOf is kept) counts version 1's rows.
  await page.locator('#nav a[href="/lakehouse"]').click()
  await page.waitForURL(`${url}/lakehouse?asOf=1`)
  const rowsCell = page.locator('#tables-rows tr[data-table="quotes"] td').nth(2)
  await until(
    'the catalog shows version 1',
    async () => Number(((await rowsCell.textContent()) ?? '').replace(/\D/g, '')) === oldRows,
  )
  assert.ok(await banner.isVisible())

  // The market shows version 1's prices, not the live ones.
  type Latest = { rows: { crypto: string; price_usd: number }[] }
  const liveBody = (await (await fetch(`${url}/api/v1/latest?limit=5`)).json()) as Latest
  const oldBody = (await (await fetch(`${url}/api/v1/latest?limit=5&asOf=1`)).json()) as Latest
  await page.locator('#nav a[href="/"]').click()
  await until('the market lists version 1', async () => (await page.locator('#market-rows tr').count()) === 5)
  const btc = dollars(
    (await page.locator('#market-rows tr[data-crypto="bitcoin"] td.price').textContent()) ?? '',
  )
  const oldBtc = oldBody.rows.find((r) => r.crypto === 'bitcoin')!.price_usd
  const liveBtc = liveBody.rows.find((r) => r.crypto === 'bitcoin')!.price_usd
  assert.notEqual(oldBtc, liveBtc)
  assert.ok(Math.abs(btc - oldBtc) < 0.01, `${btc} is version 1's ${oldBtc}`)

  // Back to live: the banner goes, the stream reconnects, live numbers return.
  await page.locator('#asof-live').click()
  await banner.waitFor({ state: 'hidden' })
  assert.equal(new URL(page.url()).search, '')
  await until('live again', async () => (await page.locator('#live').getAttribute('data-state')) === 'live')
  await until('the market shows live prices again', async () => {
    const now = dollars(
      (await page.locator('#market-rows tr[data-crypto="bitcoin"] td.price').textContent()) ?? '',
    )
    return Math.abs(now - oldBtc) > 0.01
  })
  assert.deepEqual(problems, [])
})

test('the SQL page runs a query with Ctrl+Enter, offers CSV, and shows a refused one’s error in place', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  await page.goto(`${url}/sql`)
  const editor = page.locator('#sql-input')
  await editor.fill("SELECT crypto, count(*) AS n FROM quotes WHERE crypto = 'bitcoin' GROUP BY crypto")
  assert.ok((await page.locator('.sql-highlight .tok-keyword').count()) >= 4, 'keywords are highlighted')
  await editor.press('Control+Enter')
  await until('the result shows bitcoin', async () => {
    if ((await page.locator('#sql-run').getAttribute('aria-busy')) === 'true') return false
    const cell = page.locator('#sql-results tbody tr td').first()
    if ((await cell.count()) > 0) return (await cell.textContent()) === 'bitcoin'
    // No row yet: the seeding and the first flush commit in the background, so on a loaded
    // machine the first answer can be empty. Run the query again.
    await editor.press('Control+Enter')
    return false
  })
  assert.deepEqual(await page.locator('#sql-results thead th').allTextContents(), ['crypto', 'n'])
  assert.equal(await page.locator('#sql-csv').isVisible(), true)
  const download = page.waitForEvent('download')
  await page.locator('#sql-csv').click()
  const csv = readFileSync((await (await download).path())!, 'utf8')
  assert.match(csv, /^crypto,n\r\nbitcoin,\d+$/)

  await editor.fill('DROP TABLE quotes')
  await page.locator('#sql-run').click()
  const error = page.locator('#sql-error')
  await error.waitFor({ state: 'visible' })
  assert.match((await error.textContent()) ?? '', /SQL_FORBIDDEN/)
  // The console error of the refused request is the browser's own network log line.
  assert.deepEqual(
    problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p)),
    [],
  )
})

test('the SQL page opens on the tables, their columns and example queries without running a query; an example runs when asked', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  let sqlRequests = 0
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/sql') sqlRequests++
  })
  await page.goto(`${url}/sql`)
  const sql = PAGES.find((p) => p.name === 'sql')!
  await until('the tables and examples are on screen', () => sql.ready(page))
  const quotes = page.locator('#sql-tables details[data-table="quotes"]')
  assert.match((await quotes.locator('summary').textContent()) ?? '', /quotes · [\d,]+ rows in [\d,]+ files/)
  const rows = await quotes.locator('tbody tr').allTextContents()
  assert.ok(
    rows.some((r) => r.startsWith('price_usd') && r.includes('double')),
    rows.join(' | '),
  )
  assert.ok(
    rows.some((r) => r.startsWith('crypto') && r.endsWith('yes')),
    'crypto is a partition column',
  )
  assert.equal(await page.locator('#sql-tables details[data-table="dead_letters"]').count(), 1)
  assert.equal(sqlRequests, 0, 'opening the page runs no query')
  assert.equal(await page.locator('#sql-results table').count(), 0)
  assert.equal(await page.locator('#sql-placeholder').isVisible(), true)

  // The first example reads one day of bitcoin: it goes into the editor, and runs only when asked.
  await page.locator('#sql-examples li button').first().click()
  const text = await page.locator('#sql-input').inputValue()
  assert.match(text, /crypto = 'bitcoin' AND year = '\d{4}' AND month = '\d{2}' AND day = '\d{2}'/)
  assert.equal(sqlRequests, 0)
  await page.locator('#sql-input').press('Control+Enter')
  await until(
    'the example’s rows are shown',
    async () => (await page.locator('#sql-results tbody tr').count()) > 0,
  )
  assert.deepEqual(await page.locator('#sql-results thead th').allTextContents(), [
    'ts',
    'source',
    'price_usd',
  ])
  assert.equal(sqlRequests, 1)
  assert.equal(await page.locator('#sql-placeholder').isVisible(), false)
  assert.deepEqual(problems, [])
})

test('leaving the SQL page while a query runs abandons it, and the server interrupts the statement', async (t) => {
  // A time limit far beyond the test: only the abandonment can stop the statement in time.
  const { proc, url } = await startCryptoviz(t, SIM_ARGS, { ...SEEDED, CRYPTOVIZ_SQL_TIMEOUT_MS: '120000' })
  const { page } = await watchedPage(await browser(t))
  await page.goto(`${url}/sql`)
  await page
    .locator('#sql-input')
    .fill('SELECT count(*) FROM range(1000000000) a, range(100000) b WHERE (a.range * b.range) % 7 = 3')
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/sql')
  await page.locator('#sql-run').click()
  await sent
  await page.locator('#nav a[data-page="pipeline"]').click()
  const pipeline = PAGES.find((p) => p.name === 'pipeline')!
  await until('the pipeline page shows its data', () => pipeline.ready(page))
  const line = await proc.waitForLog(
    (l) => /the client left, the statement was interrupted/.test(l.msg),
    30_000,
  )
  assert.equal(line['code'], 'SQL_TIMEOUT')
})

test('the pipeline page lists the processor’s consumer lag per topic and partition, as /stats reports it', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  let sqlRequests = 0
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/sql') sqlRequests++
  })
  await page.goto(`${url}/pipeline`)
  const pipeline = PAGES.find((p) => p.name === 'pipeline')!
  await until('the pipeline page shows its data', () => pipeline.ready(page))
  const stats = (await (await fetch(`${url}/stats`)).json()) as {
    consumer_lag: { topic: string; partition: number; position: number; end: number; lag: number }[]
    maintenance?: unknown
  }
  assert.ok(stats.consumer_lag.length > 0)
  const shown = await page
    .locator('#lag-rows tr')
    .evaluateAll((trs) =>
      trs.map((tr) => `${tr.getAttribute('data-topic')}/${tr.getAttribute('data-partition')}`),
    )
  assert.deepEqual(shown.sort(), stats.consumer_lag.map((l) => `${l.topic}/${l.partition}`).sort())
  const first = stats.consumer_lag[0]!
  const cells = await page
    .locator(`#lag-rows tr[data-topic="${first.topic}"][data-partition="${first.partition}"] td`)
    .allTextContents()
  assert.equal(cells.length, 6)
  assert.match(cells[2]!, /^[\d,]+$/, 'lag')
  assert.equal(cells[5], 'no', 'not paused')
  assert.match(
    (await page.locator('#lag-info').textContent()) ?? '',
    /records not yet read over \d+ partitions/,
  )
  // consumer_lag has its own table, not the generic list.
  assert.doesNotMatch((await page.locator('#more-stats').textContent()) ?? '', /consumer_lag/)
  // No maintenance in this /stats: its panel stays hidden and nothing breaks.
  if (stats.maintenance === undefined) {
    assert.equal(await page.locator('#maintenance-panel').isVisible(), false)
  }
  // The seeded lake has no dead letters: the page says so without an SQL query.
  await until('the dead-letter note', async () =>
    /None/.test((await page.locator('#dead-note').textContent()) ?? ''),
  )
  assert.equal(sqlRequests, 0)
  assert.deepEqual(problems, [])
})

test('with a Kafka broker, the pipeline page shows the lag of every partition the processor owns', async (t) => {
  // `start --broker` against the run's real broker (test/global-setup.ts): collector, processor
  // (a Kafka consumer group) and API server in one process, /stats carrying the group's lag.
  const prefix = uniquePrefix()
  const { url } = await startCryptoviz(t, [
    '--broker',
    kafkaBootstrap(),
    '--topic-prefix',
    prefix,
    ...SIM_ARGS,
  ])
  const { page, problems } = await watchedPage(await browser(t))
  await page.goto(`${url}/pipeline`)
  const stats = await until(
    'the processor owns its partitions',
    async () => {
      const s = (await (await fetch(`${url}/stats`)).json()) as {
        consumer_lag?: { topic: string; partition: number }[]
      }
      return (s.consumer_lag?.length ?? 0) > 1 && s
    },
    60_000,
  )
  const expected = stats.consumer_lag!.map((l) => `${l.topic}/${l.partition}`).sort()
  assert.ok(
    expected.every((k) => k.startsWith(`${prefix}.`)),
    expected.join(', '),
  )
  await until(
    'the lag table lists the same partitions',
    async () => {
      const shown = await page
        .locator('#lag-rows tr')
        .evaluateAll((trs) =>
          trs.map((tr) => `${tr.getAttribute('data-topic')}/${tr.getAttribute('data-partition')}`),
        )
      return JSON.stringify(shown.sort()) === JSON.stringify(expected)
    },
    30_000,
  )
  assert.deepEqual(problems, [])
})

test('the pipeline page shows a maintenance object of any shape readably: runs as a table, times formatted, nesting kept', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS)
  const { page, problems } = await watchedPage(await browser(t))
  await page.goto(`${url}/pipeline`)
  // The renderer the page uses for /stats.maintenance, in the browser, on a shape like the
  // maintenance branch's (its exact keys are not known here).
  const rendered = (await page.evaluate(`(async () => {
    const { describeValue } = await import('/assets/page-pipeline.js')
    const node = describeValue({
      state: 'idle',
      enabled: true,
      next_run_at: '2026-01-02T03:04:05.000Z',
      last_runs: [
        { kind: 'compaction', started_at: 1767323045000, files_removed: 12, files_added: 1 },
        { kind: 'checkpoint', started_at: 1767323050000, version: 1234 },
      ],
      settings: { interval_ms: 3600000, target_file_mb: 128 },
    }, 'maintenance')
    const host = document.createElement('div')
    host.append(node)
    return {
      terms: [...host.querySelectorAll(':scope > dl > dt')].map((e) => e.textContent),
      headers: [...host.querySelectorAll('th')].map((e) => e.textContent),
      cells: [...host.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
      nested: [...host.querySelectorAll('dl dl dt')].map((e) => e.textContent),
      next: host.querySelector(':scope > dl > dd:nth-of-type(3)').textContent,
    }
  })()`)) as { terms: string[]; headers: string[]; cells: string[][]; nested: string[]; next: string }
  assert.deepEqual(rendered.terms, ['state', 'enabled', 'next run at', 'last runs', 'settings'])
  assert.deepEqual(rendered.headers, ['kind', 'started at', 'files removed', 'files added', 'version'])
  assert.equal(rendered.cells.length, 2)
  assert.equal(rendered.cells[0]![0], 'compaction')
  assert.doesNotMatch(rendered.cells[0]![1]!, /^1767/, 'a time in ms is shown as a date')
  assert.equal(rendered.cells[1]![4], '1,234')
  assert.equal(rendered.cells[1]![2], '—', 'a key a run lacks')
  assert.deepEqual(rendered.nested, ['interval ms', 'target file mb'])
  assert.doesNotMatch(rendered.next, /T03:04:05/, 'an ISO time is formatted')
  assert.deepEqual(problems, [])
})

test('the SQL page asks for the token when the server requires one, and runs with it', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS, { ...SEEDED, CRYPTOVIZ_API_TOKEN: 'secret-token-123' })
  const { page } = await watchedPage(await browser(t))
  await page.goto(`${url}/sql`)
  const field = page.locator('#sql-token-field')
  assert.equal(await field.isVisible(), false, 'no token field before the server asked for one')
  await page.locator('#sql-run').click()
  await field.waitFor({ state: 'visible' })
  assert.match((await page.locator('#sql-error').textContent()) ?? '', /UNAUTHORIZED/)
  await page.locator('#sql-token').fill('secret-token-123')
  await page.locator('#sql-run').click()
  await until('the query ran', async () => (await page.locator('#sql-results tbody tr').count()) > 0)
  assert.equal(await page.locator('#sql-error').isVisible(), false)
})

test('the live indicator reconnects by itself after a server restart and resumes from the last event id', async (t) => {
  const port = await freePort()
  const first = await startCryptoviz(t, [...SIM_ARGS, '--port', String(port)], SEEDED)
  const { page, problems } = await watchedPage(await browser(t))
  const streams: { lastEventId: string | undefined; query: string }[] = []
  page.on('request', (r) => {
    const u = new URL(r.url())
    if (u.pathname !== '/api/v1/stream') return
    void r.allHeaders().then((headers) =>
      streams.push({
        lastEventId: headers['last-event-id'],
        query: u.searchParams.get('lastEventId') ?? '',
      }),
    )
  })
  await page.goto(first.url)
  const live = page.locator('#live')
  await until('live', async () => (await live.getAttribute('data-state')) === 'live')
  const price = page.locator('#market-rows tr[data-crypto="bitcoin"] td.price')
  const before = await price.textContent()
  await until('quotes arrive', async () => (await price.textContent()) !== before)

  first.proc.child.kill('SIGTERM')
  await first.proc.exited
  await until('the indicator shows the stream is down', async () =>
    ['reconnecting', 'offline'].includes((await live.getAttribute('data-state')) ?? ''),
  )
  const again = new CryptovizProcess(
    ['start', '--warehouse', first.warehouse, '--port', String(port), ...SIM_ARGS],
    { CRYPTOVIZ_LOG_LEVEL: 'info', CRYPTOVIZ_SOURCE: 'simulated', CRYPTOVIZ_SEED_DAYS: '0' },
  )
  t.after(() => again.child.kill('SIGKILL'))
  await again.waitForLog((l) => l.msg === 'CryptoViz is running', 20_000)
  await until(
    'live again without a reload',
    async () => (await live.getAttribute('data-state')) === 'live',
    30_000,
  )
  assert.ok(
    streams.some((s) => /^\d+$/.test(s.lastEventId ?? '') || /^\d+$/.test(s.query)),
    `a reconnection carried the last event id: ${JSON.stringify(streams)}`,
  )
  const after = await price.textContent()
  await until('quotes arrive again', async () => (await price.textContent()) !== after)
  // Connection-refused lines while the server was down are the browser's own network log.
  assert.deepEqual(
    problems.filter((p) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(p)),
    [],
  )
})

/** A port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('the dashboard says loudly when auto mode falls back to simulated data', async (t) => {
  const { url } = await startCryptoviz(t, ['--flush-interval-ms', '1000'], {
    CRYPTOVIZ_SOURCE: 'auto',
    // A port nothing listens on: CoinGecko fails at once, CoinMarketCap has no key.
    CRYPTOVIZ_COINGECKO_BASE_URL: 'http://127.0.0.1:9',
  })
  // Opened while the providers are still being probed: the banner must appear without a reload.
  const { page, problems } = await watchedPage(await browser(t))
  await page.goto(url)
  const banner = page.locator('#fallback-banner')
  await banner.waitFor({ state: 'visible', timeout: 30_000 })
  const text = (await banner.textContent()) ?? ''
  assert.match(text, /^Simulated data: no live provider answers \(.*coingecko.*\)$/)
  assert.match(text, /coinmarketcap: no API key/)
  assert.equal(await page.locator('#health').textContent(), 'degraded')
  assert.equal(await page.locator('#health').getAttribute('title'), 'sources: auto (fallback)')
  assert.deepEqual(problems, [])
})
