/**
 * An item a source could not use: kept with its raw payload and reason, never dropped. Dead
 * letters are committed to their own Delta table (`dead_letters`), apart from the quotes.
 */
export interface DeadLetter {
  source: string
  /** Stable machine-readable reason, e.g. `price_missing`, `price_not_positive`, `shape_invalid`. */
  reason: string
  /** Human-readable detail (the zod issue, the HTTP status…). */
  detail: string
  /** The raw item or body exactly as received (parsed JSON when it parsed, else text). */
  raw: unknown
  /** Microseconds since epoch, UTC. */
  received_at: number
}
