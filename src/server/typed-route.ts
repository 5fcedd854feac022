/**
 * Routes declare zod schemas for their query string, body and JSON response. The same schemas
 * validate requests (Fastify's validator compiler runs zod) and describe the route in the OpenAPI
 * document (`z.toJSONSchema`), so the document cannot drift from what the server accepts.
 *
 * Invariants:
 * - A handler only ever sees parsed, typed input; a request that does not match its schema gets a
 *   400 `INVALID_ARGUMENT` naming each bad field before the handler runs.
 * - With `checkResponses` on (tests), a JSON 200 body that does not match the declared response
 *   schema is a 500, so a test that only asserts "no 5xx" also proves the output schemas true.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { CryptoVizError, type ErrorCode } from '../errors.ts'
import { describeIssues } from '../params/params.ts'

export interface RouteDoc {
  operationId: string
  summary: string
  description?: string
  tag: 'quotes' | 'catalog' | 'sql' | 'stream' | 'operations'
  /** Error codes the route answers with besides the ones every route may send. */
  errors?: readonly ErrorCode[]
  /** 200 media types other than JSON (downloads, event streams), with what they carry. */
  alternatives?: Readonly<Record<string, string>>
  /** Requires the API bearer token when one is configured. */
  protected?: boolean
  /** Exempt from per-client rate limiting (liveness probes, metric scrapers). */
  unlimited?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc
  }
}

export interface RouteInput<Q extends z.ZodType, B extends z.ZodType> {
  query: z.output<Q>
  body: z.output<B>
  request: FastifyRequest
  reply: FastifyReply
}

export interface RouteSpec<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: 'GET' | 'POST'
  url: string
  doc: RouteDoc
  query?: Q
  body?: B
  /** The JSON 200 body; omitted by routes that answer with something else (SSE, metrics). */
  response?: R
  /** An endless response (SSE): no automatic HEAD route, which would subscribe for nothing. */
  endless?: boolean
  /** Returns the JSON body, or the reply when it answered itself (downloads, streams). */
  handler: (input: RouteInput<Q, B>) => Promise<z.input<R> | FastifyReply>
}

/** The route options Fastify keeps, as the OpenAPI builder reads them back. */
export interface DocumentedRoute {
  method: 'GET' | 'POST'
  url: string
  doc: RouteDoc
  query?: z.ZodType
  body?: z.ZodType
  response?: z.ZodType
}

export function defineRoute<
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
  R extends z.ZodType = z.ZodUnknown,
>(app: FastifyInstance, spec: RouteSpec<Q, B, R>): void {
  app.route({
    method: spec.method,
    url: spec.url,
    config: { doc: spec.doc },
    exposeHeadRoute: spec.method === 'GET' && spec.endless !== true,
    schema: {
      // Every route validates its query string: a route without parameters refuses unknown ones.
      querystring: spec.query ?? z.strictObject({}),
      ...(spec.body && { body: spec.body }),
      ...(spec.response && { response: { 200: spec.response } }),
    },
    handler: (request, reply) =>
      spec.handler({
        query: request.query as z.output<Q>,
        body: request.body as z.output<B>,
        request,
        reply,
      }),
  })
}

/**
 * Installs zod as the validator and a JSON serializer, and collects every documented route for
 * the OpenAPI document. Must run before any route is registered.
 */
export function useZodSchemas(app: FastifyInstance, options: { checkResponses: boolean }): DocumentedRoute[] {
  const routes: DocumentedRoute[] = []
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const zodSchema = schema as unknown as z.ZodType
    const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'input')
    return (data: unknown) => {
      const r = zodSchema.safeParse(data)
      if (r.success) return { value: r.data }
      return {
        error: new CryptoVizError('INVALID_ARGUMENT', describeIssues(r.error, part), { kind: 'user' }),
      }
    }
  })
  app.setSerializerCompiler(({ schema }) => {
    const zodSchema = schema as unknown as z.ZodType
    return (data: unknown) => {
      if (options.checkResponses) {
        const r = zodSchema.safeParse(data)
        if (!r.success) {
          throw new CryptoVizError(
            'INTERNAL',
            `response does not match its schema: ${describeIssues(r.error, 'body')}`,
          )
        }
      }
      return JSON.stringify(data)
    }
  })
  app.addHook('onRoute', (route) => {
    const doc = route.config?.doc
    if (doc === undefined || (route.method !== 'GET' && route.method !== 'POST')) return
    const schema = route.schema as
      { querystring?: z.ZodType; body?: z.ZodType; response?: Record<number, z.ZodType> } | undefined
    routes.push({
      method: route.method as 'GET' | 'POST',
      url: route.url,
      doc,
      ...(schema?.querystring && { query: schema.querystring }),
      ...(schema?.body && { body: schema.body }),
      ...(schema?.response?.[200] && { response: schema.response[200] }),
    })
  })
  return routes
}
