// @ts-check
/**
 * Asset (`/asset/<crypto>`): the candle chart (interval and range selectors, zoom/pan, crosshair
 * OHLC, the last candle live from the stream, gaps left blank and listed), the price per source
 * with the spread between them (`/api/v1/compare`), and the recent quotes, live.
 *
 * The interval and range are in the URL (`?interval=5m&range=1d`), so a reload or a shared link
 * shows the same chart. An answer that arrives after the selection changed is dropped.
 */
import { currentAsOf, getJson } from './api.js'
import { candleChart, lineChart } from './chart.js'
import { guarded, h, panel, table, td } from './dom.js'
import * as format from './format.js'
import * as live from './live.js'
import { sourceBadge } from './page-market.js'

/** @type {Record<string, number>} seconds */
const INTERVALS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14_400, '1d': 86_400 }
/** @type {Record<string, number>} seconds */
const RANGES = { '6h': 21_600, '1d': 86_400, '3d': 259_200, '7d': 604_800, '30d': 2_592_000 }
const RECENT = 15
const REFRESH_MS = 30_000

/** The end of the shown range: the time travelled to, else now. */
function rangeEnd() {
  const asOf = currentAsOf()
  if (asOf !== undefined && !/^\d+$/.test(asOf))
    return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(asOf) ? asOf : `${asOf}Z`)
  return Date.now()
}

/**
 * @param {string} group
 * @param {string[]} values
 * @param {string} current
 * @param {(value: string) => void} choose
 */
function segmented(group, values, current, choose) {
  const box = h('div', { class: 'segmented', role: 'group', 'aria-label': group })
  const buttons = values.map((v) =>
    h('button', { type: 'button', 'data-value': v, 'aria-pressed': String(v === current), text: v }),
  )
  box.append(...buttons)
  box.addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button')
    const value = button?.getAttribute('data-value')
    if (!value) return
    for (const b of buttons) b.setAttribute('aria-pressed', String(b === button))
    choose(value)
  })
  return box
}

/**
 * @param {HTMLElement} view
 * @param {{ crypto: string }} params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountAsset(view, params, ctx) {
  const crypto = params.crypto
  const url = new URL(window.location.href)
  const state = {
    interval: url.searchParams.get('interval') ?? '5m',
    range: url.searchParams.get('range') ?? '1d',
    generation: 0,
  }
  if (!(state.interval in INTERVALS)) state.interval = '5m'
  if (!(state.range in RANGES)) state.range = '1d'

  const title = h('h1', { id: 'asset-title', text: crypto })
  const price = h('p', { class: 'big num', id: 'asset-price', text: '—' })
  const sources = h('p', { class: 'badges', id: 'asset-sources' })
  const chartPanel = panel('chart-panel', 'Price')
  const controls = h(
    'div',
    { class: 'controls' },
    segmented('Candle interval', Object.keys(INTERVALS), state.interval, (v) => {
      state.interval = v
      remember()
      void loadChart()
    }),
    segmented('Time range', Object.keys(RANGES), state.range, (v) => {
      state.range = v
      remember()
      void loadChart()
      void loadCompare()
    }),
  )
  chartPanel.section.querySelector('.panel-head')?.append(controls)
  const chartBox = h('div', { id: 'chart', class: 'chart-box' })
  const gapsLine = h('p', { class: 'muted', id: 'asset-gaps' })
  chartPanel.body.append(
    chartBox,
    gapsLine,
    h('p', {
      class: 'hint muted',
      text: 'Drag to pan, scroll or pinch to zoom; with the chart focused: ← → pan, + − zoom, Home resets.',
    }),
  )
  const compare = panel('compare-panel', 'Price by source and spread')
  const compareBox = h('div', { class: 'chart-box small' })
  const spreadLine = h('p', { class: 'muted', id: 'spread' })
  compare.body.append(compareBox, spreadLine)
  const recent = panel('recent-panel', 'Recent quotes')
  const recentTable = table('Most recent quotes of this asset, newest first', [
    { label: 'Time (UTC)' },
    { label: 'Source' },
    { label: 'Price', numeric: true },
    { label: '24h', numeric: true },
  ])
  recentTable.tbody.id = 'recent-rows'
  recent.body.append(recentTable.element)
  view.append(
    h(
      'div',
      { class: 'asset-head' },
      h('a', { href: '/', 'data-nav': true, class: 'back', text: '← Market' }),
      title,
      price,
      sources,
    ),
    chartPanel.section,
    h('div', { class: 'grid two' }, compare.section, recent.section),
  )

  const chart = candleChart(chartBox, ctx.signal)
  const compareChart = lineChart(compareBox, ctx.signal, { label: 'Price of this asset by source' })

  function remember() {
    const next = new URL(window.location.href)
    next.searchParams.set('interval', state.interval)
    next.searchParams.set('range', state.range)
    window.history.replaceState(null, '', next.pathname + next.search)
  }

  const span = () => {
    const end = rangeEnd()
    return {
      start: new Date(end - (RANGES[state.range] ?? 86_400) * 1000).toISOString(),
      end: new Date(end).toISOString(),
    }
  }

  async function loadChart() {
    const generation = ++state.generation
    const interval = state.interval
    const intervalSec = INTERVALS[interval] ?? 300
    await guarded(chartPanel, async () => {
      const { start, end } = span()
      const [candles, gaps] = await Promise.all([
        getJson('/api/v1/candles', { crypto, interval, start, end }, { signal: ctx.signal }),
        getJson(
          '/api/v1/gaps',
          { crypto, start, end, intervalMs: intervalSec * 1000, factor: 2 },
          { signal: ctx.signal },
        ),
      ])
      if (ctx.signal.aborted || generation !== state.generation) return
      const drawn = chart.set(candles.candles, intervalSec)
      chartBox.dataset['candles'] = String(candles.count)
      const bySource = new Map()
      for (const g of gaps.gaps) bySource.set(g.source, (bySource.get(g.source) ?? 0) + 1)
      gapsLine.textContent =
        candles.count === 0
          ? 'No quotes in this range.'
          : `${format.integer(candles.count)} candles from table version ${candles.version}; ` +
            (gaps.count === 0
              ? 'no gaps.'
              : `gaps longer than 2 × ${interval}: ${[...bySource].map(([s, n]) => `${s} ${n}`).join(', ')}` +
                (drawn.whitespace > 0 ? ' (blank on the chart).' : '.'))
      performance.mark('cryptoviz:data')
    })
  }

  async function loadCompare() {
    await guarded(compare, async () => {
      const { start, end } = span()
      const interval =
        (RANGES[state.range] ?? 0) > 604_800 ? '1h' : (RANGES[state.range] ?? 0) > 86_400 ? '15m' : '5m'
      const answer = await getJson(
        '/api/v1/compare',
        { crypto, interval, start, end },
        { signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      for (const source of answer.sources) {
        compareChart.set(
          source,
          answer.points
            .filter((/** @type {any} */ p) => p.prices[source] !== undefined)
            .map((/** @type {any} */ p) => ({
              time: Math.floor(Date.parse(p.ts) / 1000),
              value: p.prices[source],
            })),
        )
      }
      const spreads = answer.points
        .map((/** @type {any} */ p) => p.spread_pct)
        .filter((/** @type {any} */ s) => s != null)
      sources.replaceChildren(...answer.sources.map((/** @type {string} */ s) => sourceBadge(s)))
      spreadLine.textContent =
        answer.sources.length < 2
          ? `Only ${answer.sources[0] ?? 'one source'} quotes this asset in this range: no spread to show.`
          : `Spread between ${answer.sources.join(', ')}: last ${format.percent(spreads.at(-1))}, ` +
            `max ${format.percent(Math.max(...spreads))} over ${spreads.length} buckets.`
    })
  }

  /** @param {any} q */
  function recentRow(q) {
    return h(
      'tr',
      {},
      td(format.dateTime(q.ts)),
      td(sourceBadge(q.source)),
      td(format.price(q.price_usd), 'num'),
      td(format.percent(q.change_24h_pct), `num ${format.trend(q.change_24h_pct, 0.005)}`),
    )
  }

  async function loadRecent() {
    await guarded(recent, async () => {
      const answer = await getJson(
        '/api/v1/quotes',
        { crypto, order: 'desc', limit: RECENT, end: new Date(rangeEnd()).toISOString() },
        { signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      recentTable.tbody.replaceChildren(...answer.rows.map(recentRow))
      const newest = answer.rows[0]
      if (newest) {
        title.textContent = `${newest.name ?? crypto} (${newest.symbol ?? '?'})`
        document.title = `${newest.name ?? crypto} · CryptoViz`
        price.textContent = format.price(newest.price_usd)
      }
    })
  }

  void loadChart()
  void loadCompare()
  void loadRecent()
  if (ctx.asOf === undefined) {
    const offQuotes = live.onQuotes((quotes) => {
      const mine = quotes.filter((q) => q.crypto === crypto)
      if (mine.length === 0) return
      for (const q of mine) chart.update(q)
      const newest = /** @type {any} */ (mine.at(-1))
      price.textContent = format.price(newest.price_usd)
      recentTable.tbody.prepend(...mine.reverse().map(recentRow))
      while (recentTable.tbody.children.length > RECENT) recentTable.tbody.lastElementChild?.remove()
    })
    const timer = window.setInterval(() => {
      if (!document.hidden) void loadCompare()
    }, REFRESH_MS)
    ctx.signal.addEventListener('abort', () => {
      offQuotes()
      window.clearInterval(timer)
    })
  }
}
