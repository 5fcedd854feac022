/**
 * How errors reach HTTP clients: one status per error code, in one place, and a JSON body
 * `{ error: { code, message } }`. Internal errors are logged with their cause and answered with a
 * generic message, so no stack trace or path leaks to a client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CryptoVizError, type ErrorCode } from '../errors.ts'

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  QUERY_INVALID: 400,
  SQL_FORBIDDEN: 400,
  DELTA_VERSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  DELTA_TABLE_NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  SQL_TIMEOUT: 408,
  SHUTTING_DOWN: 503,
}

export const statusOf = (code: ErrorCode): number => STATUS[code] ?? 500

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } })
}

export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error instanceof CryptoVizError) {
    const status = statusOf(error.code)
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    void sendError(reply, status, error.code, status >= 500 ? 'internal error' : error.message)
    return
  }
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined || (fastifyError.statusCode ?? 500) < 500) {
    void sendError(
      reply,
      fastifyError.statusCode ?? 400,
      fastifyError.code ?? 'INVALID_ARGUMENT',
      error.message,
    )
    return
  }
  request.log.error({ err: error }, 'request failed')
  void sendError(reply, 500, 'INTERNAL', 'internal error')
}
