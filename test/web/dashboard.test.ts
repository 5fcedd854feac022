/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against the real
 * `cryptoviz start`: what a user sees, with no console error along the way.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { simulatedAssets } from '../../src/sources/simulated-assets.ts'
import { launchChromium } from '../harness/chromium.ts'
import { startCryptoviz } from '../harness/cryptoviz-process.ts'

const SIM_ARGS = ['--flush-interval-ms', '1000', '--sim-interval-ms', '200', '--sim-assets', '5']
const SCREENSHOT = '/tmp/dashboard.png'

/** Opens the dashboard; `problems` collects console errors and uncaught page errors. */
async function openDashboard(t: TestContext, url: string): Promise<{ page: Page; problems: string[] }> {
  const browser = await launchChromium()
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  await page.goto(url)
  return { page, problems }
}

/** Polls `probe` until it returns a value (not undefined or false); fails after the timeout. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The price text of a formatted dollar amount, as a number. */
const dollars = (text: string): number => Number(text.replace(/[$,]/g, ''))

test('the dashboard lists the market, charts and streams the clicked asset, and shows the catalog', async (t) => {
  const { url } = await startCryptoviz(t, SIM_ARGS)
  const { page, problems } = await openDashboard(t, url)
  const expected = simulatedAssets(5)

  const rows = page.locator('#market-rows tr')
  await rows.nth(expected.length - 1).waitFor({ timeout: 15_000 })
  const listed = await rows.evaluateAll((trs) =>
    trs.map((tr) => ({
      crypto: tr.getAttribute('data-crypto'),
      text: tr.textContent ?? '',
      price: tr.children[2]?.textContent ?? '',
    })),
  )
  assert.deepEqual(listed.map((r) => r.crypto).sort(), expected.map((a) => a.slug).sort())
  for (const row of listed) {
    const asset = expected.find((a) => a.slug === row.crypto)!
    assert.ok(row.text.includes(asset.name) && row.text.includes(asset.symbol), row.text)
    assert.match(row.price, /^\$[\d,]+(\.\d+)?$/, `${row.crypto} has a price`)
  }
  assert.equal(await page.locator('#market-rows svg.sparkline').count(), expected.length)

  await page.locator('#market-rows tr[data-crypto="ethereum"]').click()
  assert.equal(
    await page.locator('#market-rows tr[aria-selected="true"]').getAttribute('data-crypto'),
    'ethereum',
  )
  await page.locator('#chart svg.candles .candle').first().waitFor({ timeout: 10_000 })
  assert.match((await page.locator('#chart-title').textContent()) ?? '', /^Ethereum \(ETH\)/)
  assert.ok((await page.locator('#chart svg .x-label').count()) >= 2, 'the time axis is labelled')
  assert.ok((await page.locator('#chart svg .y-label').count()) >= 2, 'the price axis is labelled')

  // The ticker streams ethereum only: every price is near ethereum's, far from bitcoin's.
  await page.locator('#ticker li').nth(4).waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('#ticker-state').textContent(), 'connected')
  assert.equal(await page.locator('#ticker-asset').textContent(), 'ethereum')
  const overviewPrice = dollars(
    (await page.locator('#market-rows tr[data-crypto="ethereum"] td').nth(2).textContent()) ?? '',
  )
  for (const text of await page.locator('#ticker li .price').allTextContents()) {
    assert.ok(Math.abs(dollars(text) / overviewPrice - 1) < 0.05, `${text} is an ethereum price`)
  }
  await until(
    'the ticker holds its last 20 quotes',
    async () => (await page.locator('#ticker li').count()) === 20,
  )

  // The catalog shows the quotes table once the first micro-batch is committed.
  const quotesRow = page.locator('#catalog-rows tr[data-table="quotes"] td')
  await until('the catalog counts committed quote rows', async () => {
    const cells = await quotesRow.allTextContents()
    return cells.length > 2 && Number((cells[2] ?? '').replace(/\D/g, '')) > 0
  })
  assert.ok((await page.locator('#history-rows tr').count()) >= 2, 'commits are listed')
  assert.match((await page.locator('#stat-written').textContent()) ?? '', /^[1-9]/)
  assert.equal(await page.locator('#fallback-banner').isVisible(), false)
  assert.equal(await page.locator('.error:visible').count(), 0)

  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  assert.deepEqual(problems, [])
})

test('the dashboard says loudly when auto mode falls back to simulated data', async (t) => {
  const { url } = await startCryptoviz(t, ['--flush-interval-ms', '1000'], {
    CRYPTOVIZ_SOURCE: 'auto',
    // A port nothing listens on: CoinGecko fails at once, CoinMarketCap has no key.
    CRYPTOVIZ_COINGECKO_BASE_URL: 'http://127.0.0.1:9',
  })
  // Opened while the providers are still being probed: the banner must appear without a reload.
  const { page, problems } = await openDashboard(t, url)
  const banner = page.locator('#fallback-banner')
  await banner.waitFor({ state: 'visible', timeout: 30_000 })
  const text = (await banner.textContent()) ?? ''
  assert.match(text, /^Simulated data: no live provider answers \(.*coingecko.*\)$/)
  assert.match(text, /coinmarketcap: no API key/)
  assert.equal(await page.locator('#health').textContent(), 'degraded')
  assert.equal(await page.locator('#sources-mode').textContent(), 'sources: auto (fallback)')
  assert.deepEqual(problems, [])
})
