// @ts-check
/**
 * Interactive charts on TradingView's lightweight-charts (served from this server at
 * /vendor/lightweight-charts.mjs, pinned in package.json): candles with volume, zoom and pan
 * (mouse wheel, drag, pinch; arrow keys and +/- when focused), a crosshair whose OHLC values show
 * in a legend, a live last candle, and line charts for comparisons and pipeline rates.
 *
 * Gaps stay gaps: missing buckets between two candles become whitespace points (the time axis
 * keeps their place, nothing is drawn), so a silent source is visible rather than hidden.
 * Colours come from the theme's CSS variables and follow theme changes.
 */
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  createChart,
} from '/vendor/lightweight-charts.mjs'
import { h } from './dom.js'
import * as format from './format.js'
import { themeColors, THEME_EVENT } from './theme.js'

/** At most this many whitespace points are inserted for gaps (a long silence is one blank). */
const MAX_WHITESPACE = 5_000

/** @param {string} iso */
const seconds = (iso) => Math.floor(Date.parse(iso) / 1000)

function baseOptions() {
  const c = themeColors()
  return {
    autoSize: true,
    // The library's logo injects an inline <style> (refused by our CSP): the page footer credits
    // TradingView with a link instead, as the library's NOTICE asks.
    layout: {
      background: { type: ColorType.Solid, color: c.background },
      textColor: c.text,
      fontSize: 12,
      attributionLogo: false,
    },
    grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
    rightPriceScale: { borderColor: c.grid },
    timeScale: { borderColor: c.grid, timeVisible: true, secondsVisible: false },
    crosshair: { mode: CrosshairMode.Normal },
    localization: { priceFormatter: (/** @type {number} */ p) => format.price(p) },
  }
}

/**
 * Keyboard zoom and pan for a focused chart: ← → pan, + − zoom, Home shows everything.
 * @param {HTMLElement} box
 * @param {any} chart
 */
function keyboard(box, chart) {
  box.tabIndex = 0
  box.addEventListener('keydown', (event) => {
    const scale = chart.timeScale()
    const range = scale.getVisibleLogicalRange()
    if (range === null) return
    const width = range.to - range.from
    /** @type {[number, number] | undefined} */
    let next
    if (event.key === 'ArrowLeft') next = [range.from - width / 10, range.to - width / 10]
    else if (event.key === 'ArrowRight') next = [range.from + width / 10, range.to + width / 10]
    else if (event.key === '+' || event.key === '=') next = [range.from + width / 4, range.to - width / 4]
    else if (event.key === '-') next = [range.from - width / 2, range.to + width / 2]
    else if (event.key === 'Home') {
      scale.fitContent()
      event.preventDefault()
      return
    }
    if (next === undefined) return
    event.preventDefault()
    scale.setVisibleLogicalRange({ from: next[0], to: next[1] })
  })
}

/**
 * Candles from the API with whitespace for missing buckets.
 * @param {any[]} candles `/api/v1/candles` rows, oldest first
 * @param {number} intervalSec
 */
export function candleData(candles, intervalSec) {
  /** @type {any[]} */
  const bars = []
  /** @type {any[]} */
  const volumes = []
  let whitespace = 0
  /** @type {number | undefined} */
  let previous
  for (const c of candles) {
    const time = seconds(c.ts)
    if (previous !== undefined) {
      for (let t = previous + intervalSec; t < time && whitespace < MAX_WHITESPACE; t += intervalSec) {
        bars.push({ time: t })
        volumes.push({ time: t })
        whitespace++
      }
    }
    bars.push({ time, open: c.open, high: c.high, low: c.low, close: c.close })
    volumes.push(c.volume == null ? { time } : { time, value: c.volume })
    previous = time
  }
  return { bars, volumes, whitespace }
}

/**
 * A candle chart with volume and an OHLC legend, in `box`.
 * @param {HTMLElement} box
 * @param {AbortSignal} signal removes the chart when aborted
 */
export function candleChart(box, signal) {
  const legend = h('p', { class: 'legend', 'aria-live': 'off' })
  const host = h('div', { class: 'chart-host', role: 'img', 'aria-label': 'Candlestick chart' })
  box.replaceChildren(legend, host)
  const chart = createChart(host, baseOptions())
  const colors = () => {
    const c = themeColors()
    return {
      upColor: c.up,
      downColor: c.down,
      wickUpColor: c.up,
      wickDownColor: c.down,
      borderVisible: false,
    }
  }
  const candles = chart.addSeries(CandlestickSeries, colors())
  const volume = chart.addSeries(HistogramSeries, {
    priceFormat: { type: 'volume' },
    priceScaleId: 'volume',
    color: themeColors().muted,
    lastValueVisible: false,
    priceLineVisible: false,
  })
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } })
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } })
  keyboard(host, chart)
  let intervalSec = 60
  /** @type {any} */
  let last
  /** @param {any} bar */
  const showLegend = (bar) => {
    if (bar === undefined || bar.open === undefined) {
      legend.textContent = last ? legendText(last) : ''
      return
    }
    legend.textContent = legendText(bar)
  }
  chart.subscribeCrosshairMove((/** @type {any} */ param) => showLegend(param.seriesData?.get(candles)))
  const onTheme = () => {
    chart.applyOptions(baseOptions())
    candles.applyOptions(colors())
    volume.applyOptions({ color: themeColors().muted })
  }
  window.addEventListener(THEME_EVENT, onTheme)
  signal.addEventListener('abort', () => {
    window.removeEventListener(THEME_EVENT, onTheme)
    chart.remove()
  })
  return {
    /**
     * @param {any[]} rows `/api/v1/candles` rows
     * @param {number} interval seconds
     */
    set(rows, interval) {
      intervalSec = interval
      const data = candleData(rows, interval)
      candles.setData(data.bars)
      volume.setData(data.volumes)
      last = [...data.bars].reverse().find((b) => b.open !== undefined)
      showLegend(undefined)
      chart.timeScale().fitContent()
      return data
    },
    /** The live last candle: a quote updates it, or opens the next one. @param {any} quote */
    update(quote) {
      const ts = seconds(quote.ts)
      const time = ts - (ts % intervalSec)
      const p = quote.price_usd
      if (last !== undefined && time < last.time) return
      if (last !== undefined && time === last.time) {
        last = { time, open: last.open, high: Math.max(last.high, p), low: Math.min(last.low, p), close: p }
      } else {
        if (last !== undefined) {
          // Missing buckets between the last candle and this one stay blank.
          for (let t = last.time + intervalSec; t < time; t += intervalSec) candles.update({ time: t })
        }
        last = { time, open: p, high: p, low: p, close: p }
      }
      candles.update(last)
      if (quote.volume_24h_usd != null) volume.update({ time, value: quote.volume_24h_usd })
      showLegend(undefined)
    },
  }
}

/** @param {any} bar */
function legendText(bar) {
  const when = format.dateTime(bar.time * 1000)
  return `${when}  O ${format.price(bar.open)}  H ${format.price(bar.high)}  L ${format.price(bar.low)}  C ${format.price(bar.close)}`
}

/**
 * A chart of named lines (sources, rates) in `box`.
 * @param {HTMLElement} box
 * @param {AbortSignal} signal
 * @param {{ label: string, percent?: boolean, value?: (v: number) => string }} options
 */
export function lineChart(box, signal, options) {
  const host = h('div', { class: 'chart-host small', role: 'img', 'aria-label': options.label })
  box.replaceChildren(host)
  const valueFormat =
    options.value ?? (options.percent ? (/** @type {number} */ v) => `${v.toFixed(3)} %` : format.price)
  const chart = createChart(host, { ...baseOptions(), localization: { priceFormatter: valueFormat } })
  keyboard(host, chart)
  /** @type {Map<string, any>} */
  const lines = new Map()
  const color = (/** @type {number} */ i) => {
    const c = themeColors()
    return c.series[i % c.series.length] ?? c.accent
  }
  const onTheme = () => {
    chart.applyOptions({ ...baseOptions(), localization: { priceFormatter: valueFormat } })
    ;[...lines.values()].forEach((line, i) => line.applyOptions({ color: color(i) }))
  }
  window.addEventListener(THEME_EVENT, onTheme)
  signal.addEventListener('abort', () => {
    window.removeEventListener(THEME_EVENT, onTheme)
    chart.remove()
  })
  /** @param {string} name */
  const line = (name) => {
    let series = lines.get(name)
    if (series === undefined) {
      series = chart.addSeries(LineSeries, { color: color(lines.size), lineWidth: 2, title: name })
      lines.set(name, series)
    }
    return series
  }
  return {
    /**
     * @param {string} name
     * @param {{ time: number, value?: number }[]} points seconds; a point without value is a gap
     */
    set(name, points) {
      line(name).setData(points)
      chart.timeScale().fitContent()
    },
    /** @param {string} name @param {{ time: number, value: number }} point */
    add(name, point) {
      line(name).update(point)
    },
  }
}
