// @ts-check
/**
 * The dashboard shell: client-side routes with real URLs (a link or a reload restores the page),
 * the header (health, live-stream indicator, theme), and time travel.
 *
 * Routes: `/` market, `/asset/<crypto>`, `/lakehouse`, `/history`, `/sql`, `/pipeline`; the
 * server answers index.html for each. Time travel is `?asOf=<version or ISO time>` on any of
 * them: it is kept when moving between pages, every read carries it, a banner says so, the live
 * stream is closed, and "Back to live" drops it.
 *
 * Invariants: one page is mounted at a time; unmounting stops its timers and listeners, and an
 * answer arriving for an unmounted page is dropped (pages check `signal.aborted`).
 */
import { currentAsOf, getJson, setAsOf } from './api.js'
import { byId, h } from './dom.js'
import * as format from './format.js'
import * as live from './live.js'
import { mountAsset } from './page-asset.js'
import { mountHistory } from './page-history.js'
import { mountLakehouse } from './page-lakehouse.js'
import { mountMarket } from './page-market.js'
import { mountPipeline } from './page-pipeline.js'
import { mountSql } from './page-sql.js'
import { applyTheme, initialTheme, THEME_EVENT } from './theme.js'

const HEALTH_MS = 5_000
const SLUG = /^[a-z0-9][a-z0-9._-]*$/

/**
 * @typedef {object} PageContext
 * @property {AbortSignal} signal aborted when the page is left
 * @property {string | undefined} asOf the time-travel target, undefined when live
 * @property {(path: string) => void} navigate
 * @property {(asOf: string | undefined) => void} travel
 */

/** @type {AbortController | undefined} */
let mounted

/** @param {string} pathname */
function route(pathname) {
  const asset = /^\/asset\/([^/]+)\/?$/.exec(pathname)
  if (asset) {
    const crypto = decodeURIComponent(asset[1] ?? '')
    if (SLUG.test(crypto)) return { page: 'asset', title: crypto, mount: mountAsset, params: { crypto } }
  }
  switch (pathname.replace(/\/$/, '') || '/') {
    case '/':
      return { page: 'market', title: 'Market', mount: mountMarket, params: {} }
    case '/lakehouse':
      return { page: 'lakehouse', title: 'Lakehouse', mount: mountLakehouse, params: {} }
    case '/history':
      return { page: 'history', title: 'History', mount: mountHistory, params: {} }
    case '/sql':
      return { page: 'sql', title: 'SQL', mount: mountSql, params: {} }
    case '/pipeline':
      return { page: 'pipeline', title: 'Pipeline', mount: mountPipeline, params: {} }
    default:
      return undefined
  }
}

/** A path with the current time-travel target kept on it. @param {string} path */
function withAsOf(path) {
  const asOf = currentAsOf()
  if (asOf === undefined) return path
  const url = new URL(path, window.location.origin)
  url.searchParams.set('asOf', asOf)
  return url.pathname + url.search
}

/** @param {string} path */
function navigate(path) {
  const target = withAsOf(path)
  if (target !== window.location.pathname + window.location.search) window.history.pushState(null, '', target)
  render(true)
}

/** @param {string | undefined} asOf */
function travel(asOf) {
  const url = new URL(window.location.href)
  if (asOf === undefined) url.searchParams.delete('asOf')
  else url.searchParams.set('asOf', asOf)
  window.history.pushState(null, '', url.pathname + url.search)
  render(false)
}

function showAsOf() {
  const asOf = currentAsOf()
  const banner = byId('asof-banner')
  banner.hidden = asOf === undefined
  document.body.dataset['asof'] = asOf === undefined ? '' : asOf
  if (asOf === undefined) {
    live.connect()
    return
  }
  live.pause()
  const what = /^\d+$/.test(asOf) ? `version ${asOf}` : format.dateTime(asOf)
  byId('asof-text').textContent =
    `Time travel: you are looking at the lake as of ${what}. Nothing here is live.`
}

/** Mounts the page of the current URL. @param {boolean} focus move focus to the page (navigation) */
function render(focus) {
  mounted?.abort()
  mounted = new AbortController()
  const url = new URL(window.location.href)
  const asOf = url.searchParams.get('asOf') ?? undefined
  setAsOf(asOf && /^[\dT:.\-+Z ]{1,40}$/.test(asOf) ? asOf : undefined)
  showAsOf()
  const view = byId('view')
  const found = route(url.pathname)
  for (const link of document.querySelectorAll('#nav a')) {
    const active =
      found !== undefined &&
      link.getAttribute('data-page') === (found.page === 'asset' ? 'market' : found.page)
    if (active) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  if (found === undefined) {
    document.title = 'Not found · CryptoViz'
    view.replaceChildren(
      h('h1', { text: 'No such page' }),
      h('p', {}, 'Try the ', h('a', { href: '/', 'data-nav': true, text: 'market' }), '.'),
    )
    return
  }
  document.title = `${found.title} · CryptoViz`
  view.replaceChildren()
  view.dataset['page'] = found.page
  found.mount(view, /** @type {any} */ (found.params), {
    signal: mounted.signal,
    asOf: currentAsOf(),
    navigate,
    travel,
  })
  if (focus) view.focus({ preventScroll: false })
}

/** "coingecko: request failed; coinmarketcap: no API key", from the auto source's state. @param {any} auto */
function fallbackReason(auto) {
  /** @type {[string, string][]} */
  const entries = [...Object.entries(auto.down ?? {}), ...Object.entries(auto.not_configured ?? {})]
  const reasons = entries.map(([name, why]) => (why.startsWith(`${name}:`) ? why : `${name}: ${why}`))
  return reasons.length > 0 ? reasons.join('; ') : (auto.message ?? 'no reason given')
}

async function refreshHealth() {
  const pill = byId('health')
  try {
    const health = await getJson('/health', {}, { acceptStatuses: [503] })
    pill.dataset['status'] = health.status
    pill.textContent = health.status
    const sources = health.components?.sources
    const auto = sources?.auto
    pill.title = `sources: ${sources?.mode ?? '?'}${auto ? ` (${auto.mode})` : ''}`
    const banner = byId('fallback-banner')
    banner.hidden = auto?.mode !== 'fallback'
    if (auto?.mode === 'fallback') {
      banner.textContent = `Simulated data: no live provider answers (${fallbackReason(auto)})`
    }
  } catch {
    pill.dataset['status'] = 'down'
    pill.textContent = 'unreachable'
  }
}

function start() {
  applyTheme(initialTheme())
  byId('theme').addEventListener('click', () => {
    applyTheme(document.documentElement.dataset['theme'] === 'dark' ? 'light' : 'dark', true)
  })
  window.addEventListener(THEME_EVENT, () => {
    const dark = document.documentElement.dataset['theme'] === 'dark'
    byId('theme').setAttribute('aria-label', dark ? 'Switch to light theme' : 'Switch to dark theme')
  })
  live.onState((state) => {
    const pill = byId('live')
    pill.dataset['state'] = state
    byId('live-text').textContent = `live: ${state}`
  })
  byId('asof-live').addEventListener('click', () => travel(undefined))
  // Same-origin links with data-nav (and page links built by the pages) route without a reload.
  document.addEventListener('click', (event) => {
    const target = /** @type {HTMLElement} */ (event.target)
    const link = /** @type {HTMLAnchorElement | null} */ (target.closest('a[data-nav]'))
    if (link === null || event.defaultPrevented || event.button !== 0) return
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(link.getAttribute('href') ?? '/')
  })
  window.addEventListener('popstate', () => render(false))
  render(false)
  void refreshHealth()
  window.setInterval(() => {
    if (!document.hidden) void refreshHealth()
  }, HEALTH_MS)
}

start()
