/**
 * JSON payloads use snake_case keys, like the quote's fields (`price_usd`, `files_scanned`). The
 * operations payloads gather TypeScript objects from every part (a collector's `lastSuccessAt`, the
 * auto source's `notConfigured`); they are converted here, at the HTTP edge, so one payload never
 * mixes `last_success_at` with `lastSuccessAt`.
 *
 * Keys without capitals (snake_case already, source and asset slugs) are left as they are.
 */

/** `lastSuccessAt` → `last_success_at`; `currentBackoffMs` → `current_backoff_ms`. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** The value with every object key, at every depth, in snake_case. */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeCaseKeys(v)]))
}
