/**
 * Retry timing: exponential backoff with jitter, and the provider's `Retry-After` header.
 *
 * Jitter spreads retries of many clients (and of our own sources) so they do not hit a provider
 * in lock step after an outage. "Equal jitter" keeps at least half of the exponential delay, so a
 * retry never comes back almost immediately after a rate-limit answer.
 */

/**
 * Delay before retry number `attempt` (1 = the first retry): half of `min(max, base·2^(attempt−1))`
 * plus a random share of the other half.
 */
export function jitteredBackoff(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  // The exponent is capped so that a long outage cannot overflow to Infinity (or NaN with base 0).
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)))
  return Math.round(exp / 2 + random() * (exp / 2))
}

/**
 * Milliseconds to wait according to a `Retry-After` header: delta-seconds or an HTTP date
 * (RFC 9110 §10.2.3). Undefined when the header is absent or unreadable; never negative.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
