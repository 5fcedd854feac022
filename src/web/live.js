// @ts-check
/**
 * The one live stream of the page (`/api/v1/stream`, every quote), shared by the pages that show
 * live data, with a connection indicator in the header.
 *
 * Reconnection: the browser's EventSource reconnects by itself after a network error and sends
 * `Last-Event-ID`, so the server replays what was missed. When the server answers with an error
 * (e.g. 503, too many streams) the browser gives up; we reopen after a pause, passing the last id
 * we saw as `lastEventId`, so the resume works the same. A `reset` event (the missed events are
 * no longer held) tells subscribers to reload their data.
 */

/** @typedef {'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'paused'} LiveState */

const RETRY_MS = 3_000

/** @type {EventSource | undefined} */
let source
/** @type {string | undefined} */
let lastEventId
/** @type {Set<(quotes: any[]) => void>} */
const quoteListeners = new Set()
/** @type {Set<() => void>} */
const resetListeners = new Set()
/** @type {Set<(state: LiveState) => void>} */
const stateListeners = new Set()
/** @type {LiveState} */
let state = 'idle'
/** @type {any[]} */
let pending = []
let scheduled = false
let paused = false
/** @type {number | undefined} */
let retryTimer

/** @param {LiveState} next */
function setState(next) {
  state = next
  for (const listener of stateListeners) listener(next)
}

/** Quotes are handed over once per animation frame, as a batch: one DOM update per frame. */
function deliver() {
  scheduled = false
  const batch = pending
  pending = []
  if (batch.length === 0) return
  for (const listener of quoteListeners) listener(batch)
}

function open() {
  window.clearTimeout(retryTimer)
  source?.close()
  const url =
    lastEventId === undefined
      ? '/api/v1/stream'
      : `/api/v1/stream?lastEventId=${encodeURIComponent(lastEventId)}`
  const stream = new EventSource(url)
  source = stream
  setState(state === 'idle' ? 'connecting' : 'reconnecting')
  stream.onopen = () => setState('live')
  stream.onerror = () => {
    if (stream !== source) return
    if (stream.readyState !== EventSource.CLOSED) return setState('reconnecting')
    setState('offline')
    retryTimer = window.setTimeout(() => {
      if (stream === source && !paused) open()
    }, RETRY_MS)
  }
  stream.addEventListener('quote', (event) => {
    const message = /** @type {MessageEvent} */ (event)
    if (message.lastEventId) lastEventId = message.lastEventId
    pending.push(JSON.parse(message.data))
    if (!scheduled) {
      scheduled = true
      window.requestAnimationFrame(deliver)
    }
  })
  stream.addEventListener('reset', () => {
    for (const listener of resetListeners) listener()
  })
}

/** Opens the stream (again) unless it is open. */
export function connect() {
  paused = false
  if (source === undefined || source.readyState === EventSource.CLOSED) open()
  else setState(source.readyState === EventSource.OPEN ? 'live' : state)
}

/** Closes the stream (time travel shows a fixed past: nothing live to show). */
export function pause() {
  paused = true
  window.clearTimeout(retryTimer)
  source?.close()
  source = undefined
  setState('paused')
}

/** @param {(quotes: any[]) => void} listener called with each frame's batch of quotes */
export function onQuotes(listener) {
  quoteListeners.add(listener)
  return () => quoteListeners.delete(listener)
}

/** @param {() => void} listener */
export function onReset(listener) {
  resetListeners.add(listener)
  return () => resetListeners.delete(listener)
}

/** @param {(state: LiveState) => void} listener */
export function onState(listener) {
  stateListeners.add(listener)
  listener(state)
  return () => stateListeners.delete(listener)
}
