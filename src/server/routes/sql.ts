/**
 * `POST /api/v1/sql`: the read-only SQL console over the `quotes` (and `dead_letters`) views.
 * The engine refuses anything but a query (SQL_FORBIDDEN) and enforces the time and row limits;
 * this route guards access (bearer token when configured) and bounds the statement's size.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { QueryEngine } from '../../query/index.ts'
import { asOfParam } from '../params.ts'
import { defineRoute } from '../typed-route.ts'

const sqlBody = z.strictObject({
  sql: z.string().min(1).max(20_000).meta({ description: 'One SELECT (or WITH … SELECT, EXPLAIN).' }),
  asOf: asOfParam.optional(),
  timeout_ms: z
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .optional()
    .meta({ description: 'Time limit (the server caps it).' }),
  max_rows: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .meta({ description: 'Row limit (the server caps it); truncated says whether more existed.' }),
})

const sqlResponse = z.object({
  version: z.number().int().meta({ description: 'Version of the quotes table the views show.' }),
  statement_type: z.enum(['SELECT', 'EXPLAIN']),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  row_count: z.number().int(),
  truncated: z.boolean(),
  elapsed_ms: z.number(),
})

export function sqlRoutes(app: FastifyInstance, engine: QueryEngine): void {
  defineRoute(app, {
    method: 'POST',
    url: '/api/v1/sql',
    body: sqlBody,
    response: sqlResponse,
    doc: {
      operationId: 'sql',
      summary: 'Run one read-only SQL query over the quotes table',
      description:
        'Views: `quotes` (all quote columns plus year, month, day) and `dead_letters`. Big integers, ' +
        'decimals and timestamps come back as strings.',
      tag: 'sql',
      protected: true,
      errors: ['QUERY_INVALID', 'SQL_FORBIDDEN', 'SQL_TIMEOUT', 'DELTA_VERSION_NOT_FOUND'],
    },
    handler: async ({ body, reply, request }) => {
      // A client that leaves (the dashboard's SQL page when the user navigates away) closes the
      // connection before the answer: the statement is interrupted instead of holding DuckDB.
      const abandoned = new AbortController()
      const onClose = (): void => {
        if (!reply.raw.writableFinished) abandoned.abort()
      }
      reply.raw.once('close', onClose)
      try {
        return await engine.sql(body.sql, {
          ...(body.asOf && { asOf: body.asOf }),
          ...(body.timeout_ms !== undefined && { timeoutMs: body.timeout_ms }),
          ...(body.max_rows !== undefined && { maxRows: body.max_rows }),
          signal: abandoned.signal,
        })
      } catch (e) {
        if (abandoned.signal.aborted) {
          request.log.info({ code: 'SQL_TIMEOUT' }, 'sql: the client left, the statement was interrupted')
        }
        throw e
      } finally {
        reply.raw.off('close', onClose)
      }
    },
  })
}
