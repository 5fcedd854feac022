// @ts-check
/**
 * The CryptoViz dashboard: status, pipeline counters, market overview, candle chart, live ticker
 * and catalog, all read from the HTTP API and refreshed in place every few seconds.
 *
 * Invariants:
 * - Values from the API reach the page only through textContent and attributes, never as
 *   markup, so a hostile asset name cannot inject anything.
 * - Each panel fails on its own: an error shows as a line in that panel and the last good data
 *   stays on screen; the page is never left blank.
 * - A refresh starts only after the previous one ended, so a slow server is never queued up on.
 * - At most one live stream is open, for the selected asset; an answer that arrives after the
 *   selection or interval changed is dropped rather than drawn under the wrong title.
 */
import { getJson } from './api.js'
import { candleChart, sparkline } from './charts.js'
import * as format from './format.js'

const REFRESH_MS = 3_000
const TICKER_SIZE = 20
const STREAM_RETRY_MS = 5_000
/** @type {Record<string, number>} */
const INTERVAL_MS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
}
/** Each chart asks for this many buckets back from now: 5m candles cover one day. */
const CHART_BUCKETS = 288
const SLUG = /^[a-z0-9][a-z0-9-]*$/

const state = {
  /** @type {string | undefined} */
  selected: undefined,
  interval: '5m',
  /** @type {Map<string, any>} latest row per asset */
  assets: new Map(),
  /** @type {EventSource | undefined} */
  stream: undefined,
  /** @type {Map<string, number>} last streamed price per source */
  lastTick: new Map(),
}

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const element = document.createElement(tag)
  if (className) element.className = className
  if (text !== undefined) element.textContent = text
  return element
}

/** A table cell: numeric cells are right-aligned, trends coloured. @param {string} text @param {string} [className] */
const cell = (text, className) => el('td', className, text)

/**
 * Runs one panel's refresh; shows its failure in the panel's error line (`.error` inside the
 * panel, or the element itself), clears it on success.
 * @param {string} id
 * @param {() => Promise<void>} work
 */
async function panel(id, work) {
  const element = byId(id)
  const line = element.classList.contains('error')
    ? element
    : /** @type {HTMLElement} */ (element.querySelector('.error'))
  try {
    await work()
    line.hidden = true
  } catch (error) {
    line.textContent = error instanceof Error ? error.message : String(error)
    line.hidden = false
  }
}

/** @param {string} id @param {string} text */
const setText = (id, text) => {
  byId(id).textContent = text
}

// ── status bar and pipeline ──────────────────────────────────────────────────────────────────

/** "coingecko: request failed; coinmarketcap: no API key", from the auto source's state. @param {any} auto */
function fallbackReason(auto) {
  /** @type {[string, string][]} */
  const entries = [...Object.entries(auto.down ?? {}), ...Object.entries(auto.not_configured ?? {})]
  const reasons = entries.map(([name, why]) => (why.startsWith(`${name}:`) ? why : `${name}: ${why}`))
  return reasons.length > 0 ? reasons.join('; ') : (auto.message ?? 'no reason given')
}

async function refreshStatus() {
  await panel('status-error', async () => {
    const health = await getJson('/health', {}, { acceptStatuses: [503] })
    const pill = byId('health')
    pill.dataset['status'] = health.status
    pill.textContent = health.status
    const sources = health.components?.sources
    const auto = sources?.auto
    setText('sources-mode', `sources: ${sources?.mode ?? '?'}${auto ? ` (${auto.mode})` : ''}`)
    const banner = byId('fallback-banner')
    banner.hidden = auto?.mode !== 'fallback'
    if (auto?.mode === 'fallback') {
      banner.textContent = `Simulated data: no live provider answers (${fallbackReason(auto)})`
    }
  })
}

async function refreshPipeline() {
  await panel('pipeline', async () => {
    const stats = await getJson('/stats')
    setText('stat-received', format.integer(stats.records_received))
    setText('stat-written', format.integer(stats.records_written))
    setText('stat-rejected', format.integer(stats.records_rejected))
    setText('stat-buffered', format.integer(stats.buffered))
    setText('stat-version', format.integer(stats.last_table_version))
    setText('stat-flush', format.time(stats.last_flush_at))
  })
}

// ── market overview ──────────────────────────────────────────────────────────────────────────

/** The provider's change when it gave one, else the one computed from the lake's prices. @param {any} row @param {string} span */
const change = (row, span) => row[`change_${span}_pct`] ?? row[`price_change_${span}_pct`]

async function refreshOverview() {
  await panel('overview', async () => {
    const latest = await getJson('/api/v1/latest', { limit: 100 })
    const body = byId('market-rows')
    state.assets.clear()
    const rows = latest.rows.map((/** @type {any} */ row) => {
      state.assets.set(row.crypto, row)
      const tr = el('tr')
      tr.dataset['crypto'] = row.crypto
      tr.tabIndex = 0
      tr.setAttribute('aria-selected', String(row.crypto === state.selected))
      const name = el('td', 'asset')
      name.append(el('span', 'name', row.name ?? row.crypto), el('span', 'symbol', row.symbol ?? ''))
      const spark = el('td', 'spark')
      spark.append(sparkline(row.sparkline ?? []))
      tr.append(cell(format.integer(row.rank), 'num muted'), name, cell(format.price(row.price_usd), 'num'))
      for (const span of ['1h', '24h', '7d']) {
        const v = change(row, span)
        tr.append(cell(format.percent(v), `num ${format.trend(v, 0.005)}`))
      }
      tr.append(
        cell(format.money(row.market_cap_usd), 'num'),
        cell(format.money(row.volume_24h_usd), 'num'),
        spark,
      )
      return tr
    })
    body.replaceChildren(...rows)
    byId('market-empty').hidden = rows.length > 0
    const first = latest.rows[0]
    if (state.selected === undefined && first !== undefined) select(first.crypto)
  })
}

// ── chart ────────────────────────────────────────────────────────────────────────────────────

function chartTitle() {
  const row = state.selected === undefined ? undefined : state.assets.get(state.selected)
  if (row === undefined) return state.selected ?? 'Chart'
  return `${row.name ?? row.crypto} (${row.symbol ?? '?'})`
}

async function refreshChart() {
  const crypto = state.selected
  const interval = state.interval
  if (crypto === undefined) return
  await panel('chart-panel', async () => {
    const intervalMs = /** @type {number} */ (INTERVAL_MS[interval])
    const start = new Date(Date.now() - CHART_BUCKETS * intervalMs).toISOString()
    const answer = await getJson('/api/v1/candles', { crypto, interval, start })
    if (crypto !== state.selected || interval !== state.interval) return
    setText('chart-title', chartTitle())
    byId('chart').replaceChildren(candleChart(answer.candles, intervalMs))
  })
}

// ── live ticker ──────────────────────────────────────────────────────────────────────────────

/** @param {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected'} connection */
function setConnection(connection) {
  const indicator = byId('ticker-state')
  indicator.dataset['state'] = connection
  indicator.textContent = connection
}

/** @param {any} quote */
function addTick(quote) {
  const previous = state.lastTick.get(quote.source)
  state.lastTick.set(quote.source, quote.price_usd)
  const direction = previous === undefined ? 'flat' : format.trend(quote.price_usd - previous)
  const item = el('li', `tick ${direction}`)
  item.append(
    el('time', 'muted', format.tickTime(quote.ts)),
    el('span', 'source muted', quote.source),
    el('span', 'price', format.price(quote.price_usd)),
    el('span', 'arrow', direction === 'up' ? '▲' : direction === 'down' ? '▼' : '·'),
  )
  const list = byId('ticker')
  list.prepend(item)
  while (list.children.length > TICKER_SIZE) list.lastElementChild?.remove()
}

/** @param {string} crypto */
function openStream(crypto) {
  state.stream?.close()
  state.lastTick.clear()
  byId('ticker').replaceChildren()
  setText('ticker-asset', crypto)
  setConnection('connecting')
  const stream = new EventSource(`/api/v1/stream?crypto=${encodeURIComponent(crypto)}`)
  state.stream = stream
  stream.onopen = () => setConnection('connected')
  stream.onerror = () => {
    if (stream.readyState !== EventSource.CLOSED) return setConnection('reconnecting')
    // The browser gives up on an error answer (e.g. 503 too many streams): try again later.
    setConnection('disconnected')
    setTimeout(() => {
      if (state.stream === stream && state.selected === crypto) openStream(crypto)
    }, STREAM_RETRY_MS)
  }
  stream.addEventListener('quote', (event) => addTick(JSON.parse(/** @type {MessageEvent} */ (event).data)))
  // Events were missed (the server restarted or we were away too long): the tail is stale.
  stream.addEventListener('reset', () => byId('ticker').replaceChildren())
}

// ── catalog ──────────────────────────────────────────────────────────────────────────────────

async function refreshCatalog() {
  await panel('catalog', async () => {
    const [catalog, history] = await Promise.all([
      getJson('/api/v1/catalog'),
      getJson('/api/v1/history', { limit: 10 }),
    ])
    byId('catalog-rows').replaceChildren(
      ...catalog.tables.map((/** @type {any} */ t) => {
        const tr = el('tr')
        tr.dataset['table'] = t.name
        tr.append(
          cell(t.name),
          cell(format.integer(t.version), 'num'),
          cell(format.integer(t.rows), 'num'),
          cell(format.integer(t.files), 'num'),
          cell(format.bytes(t.bytes), 'num'),
          cell(format.dateTime(t.min_ts)),
          cell(format.dateTime(t.max_ts)),
        )
        return tr
      }),
    )
    byId('history-rows').replaceChildren(
      ...history.entries.map((/** @type {any} */ h) => {
        const tr = el('tr')
        tr.append(
          cell(format.integer(h.version), 'num'),
          cell(format.dateTime(h.timestamp)),
          cell(h.operation ?? '—'),
          cell(format.integer(h.files_added), 'num'),
          cell(format.integer(h.rows_added), 'num'),
        )
        return tr
      }),
    )
  })
}

// ── selection, refresh loop ──────────────────────────────────────────────────────────────────

/** @param {string} crypto */
function select(crypto) {
  if (!SLUG.test(crypto) || crypto === state.selected) return
  state.selected = crypto
  window.history.replaceState(null, '', `#${crypto}`)
  for (const tr of byId('market-rows').querySelectorAll('tr')) {
    tr.setAttribute('aria-selected', String(tr.dataset['crypto'] === crypto))
  }
  setText('chart-title', chartTitle())
  openStream(crypto)
  void refreshChart()
}

/** @param {string} interval */
function chooseInterval(interval) {
  state.interval = interval
  for (const button of byId('intervals').querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset['interval'] === interval))
  }
  void refreshChart()
}

async function refresh() {
  await Promise.all([refreshStatus(), refreshPipeline(), refreshOverview(), refreshCatalog(), refreshChart()])
  setText('updated', `updated ${format.time(Date.now())} UTC`)
}

async function loop() {
  // A hidden tab does not poll; it catches up when shown again.
  if (!document.hidden) await refresh()
  window.setTimeout(loop, REFRESH_MS)
}

function start() {
  byId('market-rows').addEventListener('click', (event) => {
    const row = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('tr'))
    if (row?.dataset['crypto']) select(row.dataset['crypto'])
  })
  byId('market-rows').addEventListener('keydown', (event) => {
    const row = /** @type {HTMLElement} */ (event.target)
    if ((event.key === 'Enter' || event.key === ' ') && row.dataset['crypto']) {
      event.preventDefault()
      select(row.dataset['crypto'])
    }
  })
  byId('intervals').addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button')
    if (button?.dataset['interval'] && button.dataset['interval'] in INTERVAL_MS) {
      chooseInterval(button.dataset['interval'])
    }
  })
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh()
  })
  chooseInterval(state.interval)
  const fromHash = decodeURIComponent(window.location.hash.slice(1))
  if (SLUG.test(fromHash)) select(fromHash)
  void loop()
}

start()
