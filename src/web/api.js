// @ts-check
/**
 * The dashboard's one way to call the API. Every failure (server unreachable, an error answer,
 * a body that is not JSON) becomes an `ApiError` whose message names the route and the server's
 * own `{ error: { code, message } }`, so a panel can show it as it is.
 *
 * Time travel: while the user looks at an older version, `setAsOf` makes every read carry
 * `asOf` (reads that cannot time-travel pass `asOf: undefined` explicitly).
 */

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number | undefined} status
   * @param {string | undefined} [code]
   */
  constructor(message, status, code) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

/** @type {string | undefined} */
let asOf

/** @param {string | undefined} value a table version (digits) or an ISO time; undefined = live */
export function setAsOf(value) {
  asOf = value
}

export const currentAsOf = () => asOf

/**
 * @param {Response} response
 * @param {string} path
 * @param {number[]} [acceptStatuses]
 */
async function answer(response, path, acceptStatuses = []) {
  /** @type {any} */
  let body
  try {
    body = await response.json()
  } catch {
    throw new ApiError(`${path}: HTTP ${response.status}, not a JSON answer`, response.status)
  }
  if (response.ok || acceptStatuses.includes(response.status)) return body
  const error = body?.error
  const detail = error ? `${error.code}: ${error.message}` : `HTTP ${response.status}`
  throw new ApiError(`${path}: ${detail}`, response.status, error?.code)
}

/**
 * GET `path` with the given query parameters (undefined ones are left out) and return its JSON;
 * `asOf` is added while time-travelling unless the parameters name it.
 * `acceptStatuses` lists error statuses whose body is still an answer (`/health` is 503 when a
 * component is down, and says which).
 * @param {string} path
 * @param {Record<string, string | number | undefined>} [params]
 * @param {{ acceptStatuses?: number[], signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function getJson(path, params = {}, options = {}) {
  const url = new URL(path, window.location.origin)
  const all = 'asOf' in params || !path.startsWith('/api/') ? params : { ...params, asOf }
  for (const [key, value] of Object.entries(all)) {
    if (value !== undefined) url.searchParams.set(key, String(value))
  }
  let response
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal: options.signal ?? null })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(`${path}: the server does not answer`, undefined)
  }
  return answer(response, path, options.acceptStatuses)
}

/**
 * GET a text resource (e.g. /metrics).
 * @param {string} path
 */
export async function getText(path) {
  let response
  try {
    response = await fetch(path)
  } catch {
    throw new ApiError(`${path}: the server does not answer`, undefined)
  }
  if (!response.ok) throw new ApiError(`${path}: HTTP ${response.status}`, response.status)
  return response.text()
}

/**
 * POST JSON and return the JSON answer.
 * @param {string} path
 * @param {unknown} body
 * @param {{ token?: string, signal?: AbortSignal }} [options] aborting the signal abandons the
 *   request (the server sees the connection close)
 * @returns {Promise<any>}
 */
export async function postJson(path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'content-type': 'application/json' }
  if (options.token) headers['authorization'] = `Bearer ${options.token}`
  let response
  try {
    response = await fetch(path, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: options.signal ?? null,
    })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(`${path}: the server does not answer`, undefined)
  }
  return answer(response, path)
}
