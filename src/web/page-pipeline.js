// @ts-check
/**
 * Pipeline (`/pipeline`): what the ingestion is doing. Counters and per-source health from
 * `/stats` (last success, errors, backoff, credits), ingest rate and commit latency sampled every
 * POLL_MS (rates from counter deltas; latency from the flush histogram of `/metrics`), dead
 * letters (count from the catalog, recent samples and reasons through the SQL console), gaps of
 * the last hours (`/api/v1/gaps`), the processor's consumer lag per topic and partition
 * (`consumer_lag`), table maintenance (`maintenance`, whatever shape it has, shown as nested
 * lists and tables) and whatever else `/stats` reports, listed as it is.
 *
 * First paint depends on `/stats` alone: `/metrics` (commit latency) is read after the counters
 * are on screen, and the dead-letter samples (an SQL query, which may queue behind a slow one)
 * load in the background, only when the catalog says there are any.
 */
import { getJson, getText, postJson } from './api.js'
import { lineChart } from './chart.js'
import { guarded, h, panel, table, td } from './dom.js'
import * as format from './format.js'

const POLL_MS = 2_000
const GAP_HOURS = 6
/** /stats keys shown by a dedicated view; the others go to the "More" list. */
const SHOWN = new Set([
  'records_received',
  'records_written',
  'records_rejected',
  'batches',
  'files',
  'bytes_written',
  'last_table_version',
  'last_flush_at',
  'flush_errors',
  'consecutive_flush_errors',
  'last_flush_error',
  'buffered',
  'sources',
  'live_clients',
  'uptime_s',
  'memory_mb',
  'consumer_lag',
  'maintenance',
])

/** @param {string} key @param {unknown} v */
const isTime = (key, v) =>
  /(_at|_time|^at|timestamp)$/.test(key) &&
  ((typeof v === 'number' && v > 1e11) || (typeof v === 'string' && !Number.isNaN(Date.parse(v))))

/** `last_run_at` → "last run at". @param {string} key */
const label = (key) => key.replaceAll('_', ' ')

/**
 * Any JSON value as readable nodes: scalars as text (times formatted), arrays of objects as a
 * table with one column per key, objects as a definition list, nesting as deep as the value.
 * @param {unknown} value
 * @param {string} key the value's key (names the tables and picks time formatting)
 * @returns {Node}
 */
export function describeValue(value, key = '') {
  if (value === null || value === undefined) return document.createTextNode('—')
  if (isTime(key, value)) return document.createTextNode(format.dateTime(/** @type {any} */ (value)))
  if (typeof value === 'number')
    return document.createTextNode(Number.isInteger(value) ? format.integer(value) : String(value))
  if (typeof value !== 'object') return document.createTextNode(String(value))
  if (Array.isArray(value)) {
    if (value.length === 0) return document.createTextNode('none')
    if (value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))]
      const t = table(
        label(key) || 'values',
        keys.map((k) => ({ label: label(k) })),
      )
      t.tbody.replaceChildren(
        ...value.map((row) => h('tr', {}, ...keys.map((k) => td(describeValue(row[k], k))))),
      )
      return t.element
    }
    return document.createTextNode(value.map((v) => String(v)).join(', '))
  }
  return h(
    'dl',
    { class: 'kv' },
    ...Object.entries(value).flatMap(([k, v]) => [
      h('dt', { text: label(k) }),
      h('dd', {}, describeValue(v, k)),
    ]),
  )
}

/**
 * The sum and count of a Prometheus histogram in `/metrics` text.
 * @param {string} text
 * @param {string} name
 */
export function histogramTotals(text, name) {
  const value = (/** @type {string} */ suffix) => {
    const m = new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text)
    return m ? Number(m[1]) : undefined
  }
  return { sum: value('sum'), count: value('count') }
}

/** @param {number | null | undefined} ms */
const ago = (ms) => (ms == null ? 'never' : `${format.integer(Math.max(0, (Date.now() - ms) / 1000))} s ago`)

/**
 * @param {HTMLElement} view
 * @param {{}} _params
 * @param {import('./app.js').PageContext} ctx
 */
export function mountPipeline(view, _params, ctx) {
  const counters = panel('counters-panel', 'Counters')
  const dl = h('dl', { class: 'counters', id: 'counters' })
  counters.body.append(dl)
  const rates = panel('rates-panel', 'Ingest rate (quotes/s) and commit latency (ms)')
  const rateBox = h('div', { class: 'chart-box small', id: 'rate-chart' })
  const latencyBox = h('div', { class: 'chart-box small', id: 'latency-chart' })
  const rateInfo = h('p', {
    class: 'muted',
    id: 'rate-info',
    text: 'Committed rows per second from the recent commits; received quotes per second sampled every 2 s; commit latency from each new micro-batch.',
  })
  rates.body.append(rateBox, latencyBox, rateInfo)
  const sources = panel('sources-panel', 'Sources')
  const sourcesTable = table('Health of each source', [
    { label: 'Source' },
    { label: 'State' },
    { label: 'Last success' },
    { label: 'Quotes', numeric: true },
    { label: 'Errors', numeric: true },
    { label: 'Backoff', numeric: true },
    { label: 'Credits' },
    { label: 'Last error' },
  ])
  sourcesTable.tbody.id = 'sources-rows'
  sources.body.append(sourcesTable.element)
  const dead = panel('dead-panel', 'Dead letters')
  const deadCount = h('p', { id: 'dead-count', class: 'big num', text: '—' })
  const deadTable = table('Most recent dead letters', [
    { label: 'Received (UTC)' },
    { label: 'Source' },
    { label: 'Reason' },
    { label: 'Detail' },
  ])
  deadTable.tbody.id = 'dead-rows'
  const deadNote = h('p', { class: 'muted', id: 'dead-note' })
  dead.body.append(deadCount, deadNote, deadTable.element)
  const gaps = panel('gaps-panel', `Gaps in the last ${GAP_HOURS} hours`)
  const gapsTable = table('Silences longer than three polling intervals', [
    { label: 'Source' },
    { label: 'Asset' },
    { label: 'From (UTC)' },
    { label: 'To (UTC)' },
    { label: 'Duration', numeric: true },
    { label: 'Missed polls', numeric: true },
  ])
  gapsTable.tbody.id = 'gaps-rows'
  const gapsInfo = h('p', { class: 'muted', id: 'gaps-info' })
  gaps.body.append(gapsInfo, gapsTable.element)
  const lagPanel = panel('lag-panel', 'Consumer lag')
  const lagTable = table('Consumer lag per topic and partition', [
    { label: 'Topic' },
    { label: 'Partition', numeric: true },
    { label: 'Lag', numeric: true },
    { label: 'Position', numeric: true },
    { label: 'Log end', numeric: true },
    { label: 'Paused' },
  ])
  lagTable.tbody.id = 'lag-rows'
  const lagInfo = h('p', { class: 'muted', id: 'lag-info' })
  lagPanel.body.append(lagInfo, lagTable.element)
  lagPanel.section.hidden = true
  const maintenancePanel = panel('maintenance-panel', 'Table maintenance')
  const maintenanceBody = h('div', { id: 'maintenance' })
  maintenancePanel.body.append(maintenanceBody)
  maintenancePanel.section.hidden = true
  const more = panel('more-panel', 'More from /stats')
  const moreList = h('dl', { class: 'kv', id: 'more-stats' })
  more.body.append(moreList)
  view.append(
    h('h1', { text: 'Pipeline' }),
    counters.section,
    h('div', { class: 'grid two' }, rates.section, sources.section),
    h('div', { class: 'grid two' }, lagPanel.section, maintenancePanel.section),
    h('div', { class: 'grid two' }, dead.section, gaps.section),
    more.section,
  )

  const rateChart = lineChart(rateBox, ctx.signal, {
    label: 'Quotes received per second',
    value: (v) => v.toFixed(1),
  })
  const latencyChart = lineChart(latencyBox, ctx.signal, {
    label: 'Average commit latency in milliseconds',
    value: (v) => `${v.toFixed(0)} ms`,
  })
  /** @type {{ t: number, received: number, written: number, flushSum?: number, flushCount?: number } | undefined} */
  let previous
  let maxIntervalMs = 60_000

  /** @param {string} label @param {string} value @param {string} id */
  const counter = (label, value, id) => h('div', {}, h('dt', { text: label }), h('dd', { id, text: value }))

  async function poll() {
    await guarded(counters, async () => {
      const stats = await getJson('/stats', {}, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      dl.replaceChildren(
        counter('received', format.integer(stats.records_received), 'stat-received'),
        counter('written', format.integer(stats.records_written), 'stat-written'),
        counter('rejected', format.integer(stats.records_rejected), 'stat-rejected'),
        counter('buffered', format.integer(stats.buffered), 'stat-buffered'),
        counter('batches', format.integer(stats.batches), 'stat-batches'),
        counter('table version', format.integer(stats.last_table_version), 'stat-version'),
        counter('last flush', format.time(stats.last_flush_at), 'stat-flush'),
        counter('flush errors', format.integer(stats.flush_errors), 'stat-flush-errors'),
        counter('live clients', format.integer(stats.live_clients), 'stat-clients'),
        counter('uptime', `${format.integer(stats.uptime_s)} s`, 'stat-uptime'),
      )
      const list = stats.sources ?? []
      maxIntervalMs = Math.max(1_000, ...list.map((/** @type {any} */ s) => s.interval_ms ?? 0))
      sourcesTable.tbody.replaceChildren(
        ...list.map((/** @type {any} */ s) =>
          h(
            'tr',
            { 'data-source': s.source },
            td(s.source),
            td(s.circuit && s.circuit !== 'closed' ? `${s.state} (circuit ${s.circuit})` : s.state),
            td(ago(s.last_success_at)),
            td(format.integer(s.quotes), 'num'),
            td(
              `${format.integer(s.failures)}${s.consecutive_failures > 0 ? ` (${s.consecutive_failures} in a row)` : ''}`,
              'num',
            ),
            td(s.current_backoff_ms > 0 ? `${format.integer(s.current_backoff_ms / 1000)} s` : '—', 'num'),
            td(
              s.credit_budget != null
                ? `${format.integer(s.credits_used)} / ${format.integer(s.credit_budget)}`
                : '—',
            ),
            td(s.last_error ? `${s.last_error.code}: ${s.last_error.message}` : '—'),
          ),
        ),
      )
      showLag(stats.consumer_lag)
      maintenancePanel.section.hidden = stats.maintenance === undefined
      if (stats.maintenance !== undefined)
        maintenanceBody.replaceChildren(describeValue(stats.maintenance, 'maintenance'))
      const extra = Object.entries(stats).filter(([k]) => !SHOWN.has(k))
      more.section.hidden = extra.length === 0
      moreList.replaceChildren(
        ...extra.flatMap(([k, v]) => [
          h('dt', { text: k }),
          h('dd', {}, h('code', { text: typeof v === 'object' ? JSON.stringify(v, null, 1) : String(v) })),
        ]),
      )
      performance.mark('cryptoviz:data')
      const metrics = await getText('/metrics').catch(() => '')
      if (ctx.signal.aborted) return
      const now = Date.now()
      const flush = histogramTotals(metrics, 'cryptoviz_flush_duration_seconds')
      const time = Math.floor(now / 1000)
      if (previous !== undefined && now > previous.t) {
        const rate = ((stats.records_received - previous.received) * 1000) / (now - previous.t)
        rateChart.add('received/s', { time, value: Math.max(0, rate) })
        rateInfo.textContent = `${rate.toFixed(1)} quotes/s received; ${format.integer(stats.records_written)} written in ${format.integer(stats.batches)} batches.`
        if (
          flush.count !== undefined &&
          flush.sum !== undefined &&
          previous.flushCount !== undefined &&
          flush.count > previous.flushCount
        ) {
          const ms = ((flush.sum - (previous.flushSum ?? 0)) / (flush.count - previous.flushCount)) * 1000
          latencyChart.add('commit ms', { time, value: ms })
        }
      }
      previous = {
        t: now,
        received: stats.records_received,
        written: stats.records_written,
        flushSum: flush.sum,
        flushCount: flush.count,
      }
    })
  }

  /** The consumer-lag table; hidden when /stats has no `consumer_lag` (no processor here). @param {unknown} lag */
  function showLag(lag) {
    lagPanel.section.hidden = !Array.isArray(lag)
    if (!Array.isArray(lag)) return
    const total = lag.reduce((sum, p) => sum + (Number(p.lag) || 0), 0)
    const paused = lag.filter((p) => p.paused).length
    lagInfo.textContent =
      lag.length === 0
        ? 'This processor owns no partition right now.'
        : `${format.integer(total)} records not yet read over ${lag.length} partitions${paused > 0 ? `; ${paused} paused (back-pressure)` : ''}. Position is the next offset this processor reads; log end is the broker's next offset.`
    lagTable.tbody.replaceChildren(
      ...lag.map((/** @type {any} */ p) =>
        h(
          'tr',
          { 'data-topic': p.topic, 'data-partition': String(p.partition) },
          td(p.topic),
          td(String(p.partition), 'num'),
          td(format.integer(p.lag), 'num'),
          td(format.integer(p.position), 'num'),
          td(format.integer(p.end), 'num'),
          td(p.paused ? 'paused' : 'no'),
        ),
      ),
    )
  }

  async function loadDeadLetters() {
    await guarded(dead, async () => {
      const catalog = await getJson('/api/v1/catalog', {}, { signal: ctx.signal })
      if (ctx.signal.aborted) return
      const table = catalog.tables.find((/** @type {any} */ t) => t.name === 'dead_letters')
      const rows = table?.rows ?? 0
      deadCount.textContent = format.integer(rows)
      if (rows === 0) {
        deadNote.textContent = 'None: every item received was usable.'
        deadTable.tbody.replaceChildren()
        return
      }
      deadNote.textContent = 'Loading the most recent samples…'
      try {
        const answer = await postJson(
          '/api/v1/sql',
          {
            sql: 'SELECT received_at, source, reason, detail FROM dead_letters ORDER BY received_at DESC LIMIT 10',
          },
          { signal: ctx.signal },
        )
        if (ctx.signal.aborted) return
        deadNote.textContent =
          answer.row_count === 0 ? 'None: every item received was usable.' : 'Most recent first.'
        deadTable.tbody.replaceChildren(
          ...answer.rows.map((/** @type {any} */ r) =>
            h('tr', {}, td(format.dateTime(r.received_at)), td(r.source), td(r.reason), td(r.detail ?? '')),
          ),
        )
      } catch (e) {
        if (ctx.signal.aborted) return
        const err = /** @type {any} */ (e)
        deadNote.textContent =
          err?.status === 401
            ? 'Samples need the API token: run the query on the SQL page.'
            : `Samples unavailable: ${err?.message ?? err}`
      }
    })
  }

  async function loadGaps() {
    await guarded(gaps, async () => {
      const end = Date.now()
      const answer = await getJson(
        '/api/v1/gaps',
        {
          start: new Date(end - GAP_HOURS * 3_600_000).toISOString(),
          end: new Date(end).toISOString(),
          intervalMs: maxIntervalMs,
          factor: 3,
        },
        { signal: ctx.signal },
      )
      if (ctx.signal.aborted) return
      gapsInfo.textContent = `${answer.count} gaps over ${answer.cryptos.length} assets (silence longer than 3 × ${format.integer(answer.interval_ms / 1000)} s).`
      gapsTable.tbody.replaceChildren(
        ...answer.gaps
          .slice(0, 50)
          .map((/** @type {any} */ g) =>
            h(
              'tr',
              {},
              td(g.source),
              td(
                h('a', { href: `/asset/${encodeURIComponent(g.crypto)}`, 'data-nav': true, text: g.crypto }),
              ),
              td(format.dateTime(g.from)),
              td(format.dateTime(g.to)),
              td(`${format.integer(g.duration_ms / 1000)} s`, 'num'),
              td(format.integer(g.missed_polls), 'num'),
            ),
          ),
      )
    })
  }

  /** The chart starts with the recent micro-batch commits (rows per second between commits). */
  async function prefillRates() {
    const history = await getJson('/api/v1/history', { limit: 200 }, { signal: ctx.signal }).catch(
      () => undefined,
    )
    if (history === undefined || ctx.signal.aborted) return
    const commits = history.entries
      .filter((/** @type {any} */ e) => e.operation === 'STREAMING UPDATE')
      .map((/** @type {any} */ e) => ({ t: Date.parse(e.timestamp), rows: e.rows_added }))
      .reverse()
    /** @type {{ time: number, value: number }[]} */
    const points = []
    for (let k = 1; k < commits.length; k++) {
      const a = commits[k - 1]
      const b = commits[k]
      const time = Math.floor(b.t / 1000)
      if (b.t > a.t && time > (points.at(-1)?.time ?? 0))
        points.push({ time, value: (b.rows * 1000) / (b.t - a.t) })
    }
    if (points.length > 0) rateChart.set('committed/s', points)
  }

  // The counters first; the rest once they are on screen, so a slow answer cannot hold them up.
  void poll().then(() => {
    void prefillRates()
    void loadGaps()
    void loadDeadLetters()
  })
  const timer = window.setInterval(() => {
    if (!document.hidden) void poll()
  }, POLL_MS)
  const slow = window.setInterval(() => {
    if (!document.hidden) {
      void loadGaps()
      void loadDeadLetters()
    }
  }, 30_000)
  ctx.signal.addEventListener('abort', () => {
    window.clearInterval(timer)
    window.clearInterval(slow)
  })
}
