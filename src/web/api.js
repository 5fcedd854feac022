// @ts-check
/**
 * The dashboard's one way to call the API. Every failure (server unreachable, an error answer,
 * a body that is not JSON) becomes an `ApiError` whose message names the route and the server's
 * own `{ error: { code, message } }`, so a panel can show it as it is.
 */

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number | undefined} status
   */
  constructor(message, status) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

/**
 * GET `path` with the given query parameters (undefined ones are left out) and return its JSON.
 * `acceptStatuses` lists error statuses whose body is still an answer (`/health` is 503 when a
 * component is down, and says which).
 * @param {string} path
 * @param {Record<string, string | number | undefined>} [params]
 * @param {{ acceptStatuses?: number[] }} [options]
 * @returns {Promise<any>}
 */
export async function getJson(path, params = {}, options = {}) {
  const url = new URL(path, window.location.origin)
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, String(value))
  }
  let response
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } })
  } catch {
    throw new ApiError(`${path}: the server does not answer`, undefined)
  }
  /** @type {any} */
  let body
  try {
    body = await response.json()
  } catch {
    throw new ApiError(`${path}: HTTP ${response.status}, not a JSON answer`, response.status)
  }
  if (response.ok || options.acceptStatuses?.includes(response.status)) return body
  const error = body?.error
  const detail = error ? `${error.code}: ${error.message}` : `HTTP ${response.status}`
  throw new ApiError(`${path}: ${detail}`, response.status)
}
