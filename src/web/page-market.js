// @ts-check
/**
 * Market (`/`): every asset's latest quote in a sortable, searchable table that updates live,
 * the top movers of the last 24 hours, and which source each price comes from.
 *
 * Live updates touch only the cells whose value changed, once per animation frame (the stream
 * batches quotes per frame), and never re-sort or rebuild rows: at 20 quotes/s the page does a
 * few text writes per frame, no layout thrash. The full table (order, changes, sparklines) is
 * re-read every REFRESH_MS and applied incrementally: new rows are built at once, existing rows
 * are rewritten (only their changed cells) a few per animation frame within FRAME_BUDGET_MS, the
 * movers only when the top three change, and the table has a fixed layout, so a refresh of a
 * hundred assets is many small tasks, never one long one. Paint stays small too (measured with a
 * trace at 100 assets): the price flash is on/off rather than a fade that repaints every frame,
 * and nothing in the table gets a compositing layer or paint containment of its own (either made
 * layerizing the page the long task: see dashboard.css).
 *
 * The table body is windowed: only the rows in view plus OVERSCAN_PX above and below are in the
 * DOM, between two spacer bodies whose heights stand for the rows left out, so at 100 assets the
 * page styles, lays out, paints and layerizes ~30 rows instead of 100 (sparklines included). The
 * table keeps its semantics: `aria-rowcount` is the whole table's, each row has its
 * `aria-rowindex`, sort and search work on every asset, and a focused row scrolls into view and
 * so into the window. A quote or refresh for a row out of the window only marks it stale; it is
 * rewritten from the latest data when it enters the window. Invariant: the rows in the body are
 * exactly `order[start..end)`, in order, each written from its latest data. A reorder moves only
 * the rows out of place (re-inserting every row on a rank swap re-styled and repainted the whole
 * table, a long task at 100 assets).
 */
import { getJson } from './api.js'
import { sparkline } from './charts.js'
import { guarded, h, panel } from './dom.js'
import * as format from './format.js'
import * as live from './live.js'

const REFRESH_MS = 10_000
const FLASH_MS = 600
/** Main-thread time one animation frame may spend rewriting rows after a refresh. */
const FRAME_BUDGET_MS = 6
/** Rows kept in the DOM beyond each edge of the viewport, in pixels (a fast scroll stays filled). */
const OVERSCAN_PX = 600
/** A row's height before one is measured (a row with a 32-px sparkline and the cell padding). */
const ESTIMATED_ROW_PX = 45

/** @type {{ key: string, label: string, numeric: boolean, value: (row: any) => any }[]} */
const COLUMNS = [
  { key: 'rank', label: '#', numeric: true, value: (r) => r.rank ?? Infinity },
  { key: 'name', label: 'Asset', numeric: false, value: (r) => (r.name ?? r.crypto).toLowerCase() },
  { key: 'price', label: 'Price', numeric: true, value: (r) => r.price_usd },
  { key: '1h', label: '1h', numeric: true, value: (r) => change(r, '1h') },
  { key: '24h', label: '24h', numeric: true, value: (r) => change(r, '24h') },
  { key: '7d', label: '7d', numeric: true, value: (r) => change(r, '7d') },
  { key: 'cap', label: 'Market cap', numeric: true, value: (r) => r.market_cap_usd },
  { key: 'volume', label: 'Volume 24h', numeric: true, value: (r) => r.volume_24h_usd },
  { key: 'source', label: 'Source', numeric: false, value: (r) => r.source },
]

/** The provider's change when it gave one, else the one computed from the lake's prices. @param {any} row @param {string} span */
const change = (row, span) => row[`change_${span}_pct`] ?? row[`price_change_${span}_pct`]

/** @param {string} source */
export const sourceBadge = (source) => h('span', { class: `badge source-${source}`, text: source })

/**
 * @param {HTMLElement} view
 * @param {{}} _params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountMarket(view, _params, ctx) {
  const state = {
    /** @type {any[]} */
    rows: [],
    sort: 'rank',
    descending: false,
    query: '',
    /** @type {Map<string, any>} each asset's row elements, built when first in the window */
    cells: new Map(),
    /** @type {any[]} the rows shown (searched and sorted), of which the window is a slice */
    order: [],
    /** The window: `order[start..end)` is in the DOM. */
    start: 0,
    end: 0,
    rowPx: ESTIMATED_ROW_PX,
  }
  const search = h('input', {
    type: 'search',
    id: 'market-search',
    placeholder: 'Search name or symbol',
    autocomplete: 'off',
  })
  const searchBox = h(
    'div',
    { class: 'search' },
    h('label', { for: 'market-search', class: 'sr-only', text: 'Search assets' }),
    search,
  )
  const movers = panel('movers', 'Top movers (24h)')
  const market = panel('market', 'Market', searchBox)
  const count = h('p', { class: 'muted', id: 'market-count' })
  const headRow = h('tr', { 'aria-rowindex': '1' })
  const tbody = h('tbody', { id: 'market-rows' })
  /** A body of one empty row standing for the rows left out of the window, hidden from readers. */
  const spacer = () => {
    const cell = h('td', { colspan: COLUMNS.length + 1 })
    return {
      body: h('tbody', { class: 'spacer', 'aria-hidden': 'true', hidden: true }, h('tr', {}, cell)),
      cell,
    }
  }
  const above = spacer()
  const below = spacer()
  const tableEl = h(
    'table',
    { class: 'market' },
    h('caption', { class: 'sr-only', text: 'Latest quote of every asset; column headers sort' }),
    h('thead', {}, headRow),
    above.body,
    tbody,
    below.body,
  )
  market.body.append(
    h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Market table' }, tableEl),
    count,
  )
  view.append(h('h1', { class: 'sr-only', text: 'Market' }), movers.section, market.section)

  for (const c of [...COLUMNS, { key: 'spark', label: 'Last 7 days', numeric: false, value: () => 0 }]) {
    const th = h('th', { scope: 'col', class: c.numeric ? 'num' : undefined, 'data-key': c.key })
    if (c.key === 'spark') th.textContent = c.label
    else th.append(h('button', { type: 'button', class: 'sort', 'data-sort': c.key, text: c.label }))
    headRow.append(th)
  }
  headRow.addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button[data-sort]')
    const key = button?.getAttribute('data-sort')
    if (!key) return
    if (state.sort === key) state.descending = !state.descending
    else {
      state.sort = key
      state.descending = !['rank', 'name', 'source'].includes(key)
    }
    draw()
  })
  search.addEventListener('input', () => {
    state.query = /** @type {HTMLInputElement} */ (search).value.trim().toLowerCase()
    draw()
  })

  function visibleRows() {
    const column = COLUMNS.find((c) => c.key === state.sort) ?? COLUMNS[0]
    const q = state.query
    const rows = state.rows.filter(
      (r) =>
        q === '' ||
        String(r.name ?? '')
          .toLowerCase()
          .includes(q) ||
        String(r.symbol ?? '')
          .toLowerCase()
          .includes(q) ||
        r.crypto.includes(q),
    )
    const sign = state.descending ? -1 : 1
    return rows.sort((a, b) => {
      const x = column?.value(a)
      const y = column?.value(b)
      if (x == null || Number.isNaN(x)) return 1
      if (y == null || Number.isNaN(y)) return -1
      return x < y ? -sign : x > y ? sign : 0
    })
  }

  /**
   * A row's elements, built once per asset.
   * @param {any} row
   */
  function createRow(row) {
    const cell = (/** @type {string} */ className) => h('td', { class: className })
    const name = h(
      'a',
      { href: `/asset/${encodeURIComponent(row.crypto)}`, 'data-nav': true, class: 'asset' },
      h('span', { class: 'name', text: row.name ?? row.crypto }),
      h('span', { class: 'symbol', text: row.symbol ?? '' }),
    )
    const cells = {
      rank: cell('num muted'),
      price: cell('num price'),
      changes: ['1h', '24h', '7d'].map(() => cell('num')),
      cap: cell('num'),
      volume: cell('num'),
      source: cell(''),
      spark: cell('spark'),
      sparkKey: '',
      last: row.price_usd,
      tr: h('tr', { 'data-crypto': row.crypto }),
    }
    cells.tr.append(
      cells.rank,
      h('td', {}, name),
      cells.price,
      ...cells.changes,
      cells.cap,
      cells.volume,
      cells.source,
      cells.spark,
    )
    state.cells.set(row.crypto, cells)
    return cells
  }

  /** Writes only what changed. @param {any} cells @param {any} row */
  function updateRow(cells, row) {
    /** @param {HTMLElement} el @param {string} text */
    const text = (el, text) => {
      if (el.textContent !== text) el.textContent = text
    }
    text(cells.rank, format.integer(row.rank))
    text(cells.price, format.price(row.price_usd))
    cells.last = row.price_usd
    ;['1h', '24h', '7d'].forEach((span, k) => {
      const v = change(row, span)
      const el = cells.changes[k]
      text(el, format.percent(v))
      const className = `num ${format.trend(v, 0.005)}`
      if (el.className !== className) el.className = className
    })
    text(cells.cap, format.money(row.market_cap_usd))
    text(cells.volume, format.money(row.volume_24h_usd))
    if (cells.source.textContent !== row.source) cells.source.replaceChildren(sourceBadge(row.source))
    const points = row.sparkline ?? []
    // Redrawn when an hour is added, not on every refresh: a hundred SVGs per refresh is a long
    // task, and the current hour's point moves by a pixel at most.
    const sparkKey = `${row.sparkline_start}:${points.length}`
    if (sparkKey !== cells.sparkKey) {
      cells.sparkKey = sparkKey
      cells.spark.replaceChildren(sparkline(points))
    }
  }

  /** @type {Map<string, any>} refreshed rows whose cells are still to be rewritten */
  const pending = new Map()
  let frame = 0
  /** Rows in the window (by asset): the only ones written to as data arrives. */
  const inWindow = new Set()
  /** Rows out of the window whose data changed since last written: rewritten when they enter it. */
  const stale = new Set()

  /** @param {any[]} rows */
  function scheduleUpdates(rows) {
    for (const row of rows) {
      if (!state.cells.has(row.crypto)) continue
      if (inWindow.has(row.crypto)) pending.set(row.crypto, row)
      else stale.add(row.crypto)
    }
    if (frame === 0 && pending.size > 0) frame = window.requestAnimationFrame(flushUpdates)
  }
  function flushUpdates() {
    frame = 0
    const started = performance.now()
    for (const [crypto, row] of pending) {
      pending.delete(crypto)
      if (inWindow.has(crypto)) updateRow(state.cells.get(crypto), row)
      else stale.add(crypto)
      if (performance.now() - started > FRAME_BUDGET_MS) break
    }
    if (pending.size > 0 && !ctx.signal.aborted) frame = window.requestAnimationFrame(flushUpdates)
  }
  ctx.signal.addEventListener('abort', () => window.cancelAnimationFrame(frame))

  /** Shows the rows in the current order: the header's sort state, the count and the window. */
  function draw() {
    for (const th of headRow.children) {
      const key = th.getAttribute('data-key')
      if (key === state.sort) th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending')
      else th.removeAttribute('aria-sort')
    }
    state.order = visibleRows()
    tableEl.setAttribute('aria-rowcount', String(state.order.length + 1))
    placeWindow()
    onViewport() // once more after this frame's layout, with the rows' measured height
    count.textContent =
      state.rows.length === 0
        ? 'No quotes yet: waiting for the first micro-batch…'
        : `${state.order.length} of ${state.rows.length} assets${ctx.asOf ? '' : ', prices update live'}`
  }

  /**
   * Puts `order[start..end)` in the body for the current scroll position: reads the geometry
   * first, then writes (one layout). Rows entering the window are built or caught up first.
   */
  function placeWindow() {
    const rendered = tbody.children.length
    if (rendered > 0) {
      // The mean height of the rows in the body: exact for equal rows, close enough otherwise.
      const first = /** @type {HTMLElement} */ (tbody.firstElementChild).getBoundingClientRect()
      const last = /** @type {HTMLElement} */ (tbody.lastElementChild).getBoundingClientRect()
      if (last.bottom > first.top) state.rowPx = (last.bottom - first.top) / rendered
    }
    // Where the first row of the whole table would be, in viewport coordinates.
    const bodyTop = (above.body.hidden ? tbody : above.body).getBoundingClientRect().top
    const n = state.order.length
    const from = Math.floor((-bodyTop - OVERSCAN_PX) / state.rowPx)
    const to = Math.ceil((window.innerHeight - bodyTop + OVERSCAN_PX) / state.rowPx)
    // Scrolled past the end of a table that just got shorter (a search): show its last rows; the
    // scroll clamps to the shorter page and the next frame places the window exactly.
    const span = Math.ceil((window.innerHeight + 2 * OVERSCAN_PX) / state.rowPx)
    state.start = Math.max(0, from >= n ? n - span : from)
    state.end = Math.max(state.start, Math.min(to, n))
    // A focused row in the window keeps its neighbours in the DOM, so Tab and Shift+Tab reach the
    // next row even at the window's edge, before the scroll that focusing causes moves the window.
    const focused = /** @type {HTMLElement | null} */ (document.activeElement)?.closest('tr[data-crypto]')
    const at =
      focused && tbody.contains(focused)
        ? state.order.findIndex((r) => r.crypto === focused.dataset['crypto'])
        : -1
    if (at >= state.start && at < state.end) {
      state.start = Math.max(0, Math.min(state.start, at - 1))
      state.end = Math.min(n, Math.max(state.end, at + 2))
    }
    const rows = state.order.slice(state.start, state.end)
    inWindow.clear()
    const trs = rows.map((row, k) => {
      let cells = state.cells.get(row.crypto)
      if (cells === undefined) {
        cells = createRow(row)
        updateRow(cells, row)
      } else if (stale.delete(row.crypto)) updateRow(cells, row)
      inWindow.add(row.crypto)
      const index = String(state.start + k + 2) // the header row is row 1
      if (cells.tr.getAttribute('aria-rowindex') !== index) cells.tr.setAttribute('aria-rowindex', index)
      return cells.tr
    })
    // Rows are kept and updated in place: the rows leaving the window go first, then only the rows
    // out of place are moved (two assets swapping ranks moves one row, a window moving down by
    // two rows moves none), so a focused row keeps its focus and the body is not re-styled whole.
    const keep = new Set(trs)
    for (const tr of [...tbody.children]) if (!keep.has(tr)) tr.remove()
    trs.forEach((tr, k) => {
      const at = tbody.children[k]
      if (at !== tr) tbody.insertBefore(tr, at ?? null)
    })
    setSpacer(above, state.start * state.rowPx)
    setSpacer(below, (n - state.end) * state.rowPx)
  }

  /** @param {{ body: HTMLElement, cell: HTMLElement }} which @param {number} px */
  function setSpacer(which, px) {
    const height = `${Math.round(px)}px`
    if (which.body.hidden !== (px === 0)) which.body.hidden = px === 0
    if (which.cell.style.height !== height) which.cell.style.height = height
  }

  // Scrolling or resizing moves the window, at most once per animation frame.
  let windowFrame = 0
  const onViewport = () => {
    if (windowFrame === 0)
      windowFrame = window.requestAnimationFrame(() => {
        windowFrame = 0
        placeWindow()
      })
  }
  window.addEventListener('scroll', onViewport, { passive: true, signal: ctx.signal })
  tbody.addEventListener('focusin', () => placeWindow(), { signal: ctx.signal })
  window.addEventListener('resize', onViewport, { passive: true, signal: ctx.signal })
  ctx.signal.addEventListener('abort', () => window.cancelAnimationFrame(windowFrame))

  let moversKey = ''
  function drawMovers() {
    const known = state.rows.filter((r) => change(r, '24h') != null)
    const up = known
      .filter((r) => change(r, '24h') > 0)
      .sort((a, b) => change(b, '24h') - change(a, '24h'))
      .slice(0, 3)
    const down = known
      .filter((r) => change(r, '24h') < 0)
      .sort((a, b) => change(a, '24h') - change(b, '24h'))
      .slice(0, 3)
    const key = [...up, ...down]
      .map((r) => `${r.crypto}:${format.price(r.price_usd)}:${format.percent(change(r, '24h'))}`)
      .join('|')
    if (key === moversKey) return
    moversKey = key
    /** @param {string} title @param {any[]} rows */
    const list = (title, rows) =>
      h(
        'div',
        { class: 'movers-list' },
        h('h3', { text: title }),
        h(
          'ol',
          {},
          ...rows.map((r) =>
            h(
              'li',
              {},
              h('a', {
                href: `/asset/${encodeURIComponent(r.crypto)}`,
                'data-nav': true,
                text: r.name ?? r.crypto,
              }),
              h('span', { class: 'num muted', text: format.price(r.price_usd) }),
              h('span', {
                class: `num ${format.trend(change(r, '24h'), 0.005)}`,
                text: format.percent(change(r, '24h')),
              }),
            ),
          ),
        ),
      )
    movers.body.replaceChildren(h('div', { class: 'movers' }, list('Gainers', up), list('Losers', down)))
  }

  async function refresh() {
    await guarded(market, async () => {
      const latest = await getJson('/api/v1/latest', { limit: 1000 }, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      state.rows = latest.rows
      const built = new Set(state.cells.keys())
      draw()
      // Rows built by this draw are written already; the others are rewritten a few per frame.
      scheduleUpdates(state.rows.filter((r) => built.has(r.crypto)))
      drawMovers()
      performance.mark('cryptoviz:data')
    })
  }

  /** @param {any[]} quotes */
  function onQuotes(quotes) {
    /** @type {Map<string, any>} */
    const newest = new Map()
    for (const q of quotes) newest.set(q.crypto, q)
    for (const [crypto, q] of newest) {
      const cells = state.cells.get(crypto)
      if (cells === undefined) continue
      const row = state.rows.find((r) => r.crypto === crypto)
      if (row) Object.assign(row, { price_usd: q.price_usd, source: q.source, ts: q.ts })
      if (!inWindow.has(crypto)) {
        // Out of the window: no write, no flash; the row is caught up when it enters the window.
        stale.add(crypto)
        continue
      }
      const price = format.price(q.price_usd)
      if (cells.price.textContent !== price) cells.price.textContent = price
      const direction = format.trend(q.price_usd - cells.last)
      cells.last = q.price_usd
      if (cells.source.textContent !== q.source) cells.source.replaceChildren(sourceBadge(q.source))
      if (direction !== 'flat') {
        cells.tr.dataset['flash'] = direction
        const tr = cells.tr
        window.setTimeout(() => delete tr.dataset['flash'], FLASH_MS)
      }
    }
  }

  void refresh()
  if (ctx.asOf === undefined) {
    const timer = window.setInterval(() => {
      if (!document.hidden) void refresh()
    }, REFRESH_MS)
    const offQuotes = live.onQuotes(onQuotes)
    const offReset = live.onReset(() => void refresh())
    ctx.signal.addEventListener('abort', () => {
      window.clearInterval(timer)
      offQuotes()
      offReset()
    })
  }
}
