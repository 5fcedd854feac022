/**
 * Typed errors with stable codes. Every error CryptoViz raises on purpose is a `CryptoVizError`
 * whose `code` is one of `ERROR_CODES`; the HTTP layer maps codes to statuses in one place and a
 * test checks that each code is documented in docs/errors.md.
 *
 * `kind` separates "your input is wrong" (`user`) from "the outside world failed" (`external`,
 * often retryable) from "this is our bug or the data is damaged" (`internal`).
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'STORAGE_NOT_FOUND',
  'STORAGE_IO',
  'STORAGE_PRECONDITION_UNSUPPORTED',
  'DELTA_TABLE_NOT_FOUND',
  'DELTA_UNSUPPORTED_FEATURE',
  'DELTA_LOG_CORRUPT',
  'DELTA_VERSION_NOT_FOUND',
  'DELTA_COMMIT_CONFLICT',
  'DELTA_SCHEMA_MISMATCH',
  'DELTA_APPEND_ONLY',
  'DELTA_NULL_VIOLATION',
  'WRITER_FENCED',
  'BROKER_UNAVAILABLE',
  'SOURCE_HTTP',
  'SOURCE_RATE_LIMITED',
  'SOURCE_AUTH',
  'SOURCE_BAD_RESPONSE',
  'SOURCE_TIMEOUT',
  'SOURCE_CIRCUIT_OPEN',
  'SOURCE_BUDGET_EXHAUSTED',
  'QUERY_INVALID',
  'SQL_FORBIDDEN',
  'SQL_TIMEOUT',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'SHUTTING_DOWN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_STREAMS',
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]
export type ErrorKind = 'user' | 'external' | 'internal'

export interface CryptoVizErrorOptions {
  cause?: unknown
  kind?: ErrorKind
  canRetry?: boolean
  details?: Record<string, unknown>
}

export class CryptoVizError extends Error {
  readonly code: ErrorCode
  readonly kind: ErrorKind
  readonly canRetry: boolean
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: CryptoVizErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CryptoVizError'
    this.code = code
    this.kind = options.kind ?? 'internal'
    this.canRetry = options.canRetry ?? false
    this.details = options.details
  }
}

export const isCryptoVizError = (e: unknown, code?: ErrorCode): e is CryptoVizError =>
  e instanceof CryptoVizError && (code === undefined || e.code === code)
