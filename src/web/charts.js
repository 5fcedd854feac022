// @ts-check
/**
 * The dashboard's two drawings, built as SVG elements with DOM calls (no markup strings, so no
 * value from the API is ever parsed as markup): the 7-day sparkline of the overview and the
 * candlestick chart of the selected asset. Both scale to their data; gaps (null points, empty
 * buckets) stay gaps rather than being drawn as zero.
 */
import { axisTime, price, dateTime, integer } from './format.js'

const SVG_NS = 'http://www.w3.org/2000/svg'

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svg(name, attributes, text) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, name))
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value))
  if (text !== undefined) element.textContent = text
  return element
}

/**
 * A small line of hourly prices; null hours break the line. The last known price gets a dot, so
 * an asset with a single hour of history still shows something.
 * @param {(number | null)[]} values
 * @param {{ width?: number, height?: number }} [size]
 */
export function sparkline(values, { width = 120, height = 32 } = {}) {
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'sparkline' })
  const known = /** @type {number[]} */ (values.filter((v) => v != null))
  const first = known[0]
  const last = known[known.length - 1]
  if (first === undefined || last === undefined) {
    root.append(svg('title', {}, 'no prices in the last 7 days'))
    return root
  }
  const min = Math.min(...known)
  const max = Math.max(...known)
  /** @param {number} i */
  const x = (i) => (values.length <= 1 ? width / 2 : 2 + (i / (values.length - 1)) * (width - 4))
  /** @param {number} v */
  const y = (v) => (max === min ? height / 2 : height - 3 - ((v - min) / (max - min)) * (height - 6))
  let d = ''
  let penDown = false
  values.forEach((v, i) => {
    if (v == null) {
      penDown = false
      return
    }
    d += `${penDown ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`
    penDown = true
  })
  root.classList.add(last > first ? 'up' : last < first ? 'down' : 'flat')
  root.append(
    svg('title', {}, `7 days, hourly: low ${price(min)}, high ${price(max)}`),
    svg('path', { d, class: 'line' }),
    svg('circle', { cx: x(values.lastIndexOf(last)), cy: y(last), r: 2, class: 'dot' }),
  )
  return root
}

/** @typedef {{ ts: string, open: number, high: number, low: number, close: number, volume: number | null, count: number }} Candle */

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
const YEAR_MS = 365 * DAY_MS
const NICE_STEPS_MS = [
  ...[1, 5, 15, 30].map((m) => m * MINUTE_MS),
  ...[1, 2, 3, 6, 12].map((h) => h * HOUR_MS),
  ...[1, 2, 7, 14, 30, 91, 182].map((d) => d * DAY_MS),
]
const WIDTH = 800
const HEIGHT = 320
const MARGIN = { top: 12, right: 92, bottom: 28, left: 44 }

/**
 * OHLC candles on a time axis spanning the first to the last bucket (so a young table still
 * fills the chart). A bucket holding one quote (open = high = low = close) is drawn as a level
 * tick, not as an invisible zero-height body.
 * @param {Candle[]} candles oldest first, as /api/v1/candles answers
 * @param {number} intervalMs
 */
export function candleChart(candles, intervalMs) {
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'candles', role: 'img' })
  const firstCandle = candles[0]
  const lastCandle = candles[candles.length - 1]
  if (firstCandle === undefined || lastCandle === undefined) {
    root.append(svg('text', { x: WIDTH / 2, y: HEIGHT / 2, class: 'empty' }, 'No quotes in this range yet'))
    return root
  }
  const t0 = Date.parse(firstCandle.ts)
  const t1 = Date.parse(lastCandle.ts) + intervalMs
  const slots = Math.max(1, Math.round((t1 - t0) / intervalMs))
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  let low = Math.min(...candles.map((c) => c.low))
  let high = Math.max(...candles.map((c) => c.high))
  const pad = high > low ? (high - low) * 0.06 : Math.abs(high) * 0.001 || 1
  low -= pad
  high += pad
  /** @param {number} t */
  const x = (t) => MARGIN.left + ((t - t0) / (t1 - t0)) * plotWidth
  /** @param {number} v */
  const y = (v) => MARGIN.top + (1 - (v - low) / (high - low)) * plotHeight
  root.setAttribute('aria-label', `${candles.length} candles from ${dateTime(t0)} to ${dateTime(t1)} UTC`)

  const grid = svg('g', { class: 'grid' })
  for (let i = 0; i <= 4; i++) {
    const v = low + ((high - low) * i) / 4
    grid.append(
      svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(v), y2: y(v) }),
      svg('text', { x: WIDTH - MARGIN.right + 6, y: y(v) + 4, class: 'y-label' }, price(v)),
    )
  }
  // Time ticks on round UTC times (every 5 minutes, 3 hours, 2 days…), about five of them.
  const stepMs = NICE_STEPS_MS.find((s) => s >= intervalMs && s * 5 >= t1 - t0) ?? YEAR_MS
  for (let t = Math.ceil(t0 / stepMs) * stepMs; t <= t1; t += stepMs) {
    grid.append(
      svg('line', { x1: x(t), x2: x(t), y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'v' }),
      svg('text', { x: x(t), y: HEIGHT - 8, class: 'x-label' }, axisTime(t, { spanMs: t1 - t0, stepMs })),
    )
  }
  root.append(grid)

  const bodyWidth = Math.max(1, Math.min(18, (plotWidth / slots) * 0.7))
  const isSingle = (/** @type {Candle} */ c) => c.count === 1 || c.high === c.low
  // Mostly one quote per bucket (sparse data, short interval): the prices read better as a line.
  if (candles.filter(isSingle).length * 2 >= candles.length) {
    const d = candles
      .map(
        (c, i) =>
          `${i === 0 ? 'M' : 'L'}${x(Date.parse(c.ts) + intervalMs / 2).toFixed(1)},${y(c.close).toFixed(1)}`,
      )
      .join('')
    root.append(svg('path', { d, class: 'close-line' }))
  }
  for (const c of candles) {
    const cx = x(Date.parse(c.ts) + intervalMs / 2)
    const direction = c.close > c.open ? 'up' : c.close < c.open ? 'down' : 'flat'
    const single = isSingle(c)
    const g = svg('g', { class: `candle ${direction}${single ? ' single' : ''}` })
    g.append(
      svg(
        'title',
        {},
        `${dateTime(c.ts)} UTC · open ${price(c.open)} · high ${price(c.high)} · low ${price(c.low)} · ` +
          `close ${price(c.close)} · ${integer(c.count)} quotes`,
      ),
    )
    if (single) {
      g.append(
        svg('line', { x1: cx - bodyWidth / 2, x2: cx + bodyWidth / 2, y1: y(c.close), y2: y(c.close) }),
      )
    } else {
      const top = y(Math.max(c.open, c.close))
      g.append(
        svg('line', { x1: cx, x2: cx, y1: y(c.high), y2: y(c.low), class: 'wick' }),
        svg('rect', {
          x: cx - bodyWidth / 2,
          y: top,
          width: bodyWidth,
          height: Math.max(1, y(Math.min(c.open, c.close)) - top),
        }),
      )
    }
    root.append(g)
  }
  const closeY = y(lastCandle.close)
  root.append(
    svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: closeY, y2: closeY, class: 'last' }),
    // Covers the grid label it may overlap.
    svg('rect', {
      x: WIDTH - MARGIN.right + 2,
      y: closeY - 9,
      width: MARGIN.right - 4,
      height: 17,
      class: 'last-box',
    }),
    svg('text', { x: WIDTH - MARGIN.right + 6, y: closeY + 4, class: 'last-label' }, price(lastCandle.close)),
  )
  return root
}
