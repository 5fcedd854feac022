/**
 * How errors reach HTTP clients: one status per error code, in one place, and a JSON body
 * `{ error: { code, message } }` for every failure, Fastify's own included.
 *
 * Invariants:
 * - `STATUS` is total over `ERROR_CODES`: adding a code without choosing its status fails the
 *   type check, and a code always answers with the same status.
 * - Every 5xx is logged with its cause; internal ones are answered with a generic message, so no
 *   stack trace, path or SQL leaks to a client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CryptoVizError, type ErrorCode } from '../errors.ts'

export const STATUS: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 500,
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  STORAGE_NOT_FOUND: 500,
  STORAGE_IO: 503,
  STORAGE_PRECONDITION_UNSUPPORTED: 500,
  DELTA_TABLE_NOT_FOUND: 404,
  DELTA_UNSUPPORTED_FEATURE: 500,
  DELTA_LOG_CORRUPT: 500,
  DELTA_VERSION_NOT_FOUND: 404,
  DELTA_COMMIT_CONFLICT: 409,
  DELTA_SCHEMA_MISMATCH: 422,
  DELTA_APPEND_ONLY: 409,
  DELTA_NULL_VIOLATION: 422,
  WRITER_FENCED: 409,
  BROKER_UNAVAILABLE: 503,
  SOURCE_HTTP: 502,
  SOURCE_RATE_LIMITED: 503,
  SOURCE_AUTH: 502,
  SOURCE_BAD_RESPONSE: 502,
  SOURCE_TIMEOUT: 504,
  SOURCE_CIRCUIT_OPEN: 503,
  SOURCE_BUDGET_EXHAUSTED: 503,
  QUERY_INVALID: 400,
  SQL_FORBIDDEN: 400,
  SQL_TIMEOUT: 408,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_STREAMS: 503,
  INTERNAL: 500,
}

export const statusOf = (code: ErrorCode): number => STATUS[code]

/** The body every failed request gets. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const body: ErrorBody = { error: { code, message } }
  return reply.code(statusOf(code)).type('application/json; charset=utf-8').send(body)
}

/** Fastify's own 4xx errors (body parsing, limits) in our codes. */
function codeOfFastifyError(error: FastifyError): ErrorCode {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE'
    default:
      if (error.statusCode === 413) return 'PAYLOAD_TOO_LARGE'
      if (error.statusCode === 415) return 'UNSUPPORTED_MEDIA_TYPE'
      if (error.statusCode === 404) return 'NOT_FOUND'
      return 'INVALID_ARGUMENT'
  }
}

export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error instanceof CryptoVizError) {
    const status = statusOf(error.code)
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    if (error.code === 'RATE_LIMITED' || (status === 503 && error.canRetry)) {
      const seconds = Number(error.details?.['retryAfterSeconds'] ?? 1)
      void reply.header('retry-after', String(Math.max(1, Math.ceil(seconds))))
    }
    const hide = status === 500 || (status > 500 && error.kind === 'internal')
    void sendError(reply, error.code, hide ? 'internal error' : error.message)
    return
  }
  const fastifyError = error as FastifyError
  const status = fastifyError.statusCode ?? 500
  if (status >= 400 && status < 500) {
    void sendError(reply, codeOfFastifyError(fastifyError), error.message)
    return
  }
  request.log.error({ err: error }, 'request failed')
  void sendError(reply, 'INTERNAL', 'internal error')
}
