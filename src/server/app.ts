/**
 * The HTTP application. `buildApp` only assembles routes (tests call `app.inject()` without a
 * socket); `listen` is the caller's business.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { QueryEngine } from '../query/engine.ts'
import type { LiveFeed } from '../stream/live-feed.ts'
import { errorHandler, sendError } from './errors.ts'
import { opsRoutes, type OpsProviders } from './routes/ops.ts'
import { quotesRoutes } from './routes/quotes.ts'
import { streamRoutes, type StreamOptions } from './routes/stream.ts'

export interface AppOptions {
  engine: QueryEngine
  feed: LiveFeed
  ops: OpsProviders
  logger: Logger
  now?: () => number
  stream?: Partial<StreamOptions>
}

export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    disableRequestLogging: true,
    bodyLimit: 1_048_576,
  }) as unknown as FastifyInstance
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  )
  opsRoutes(app, options.ops)
  quotesRoutes(app, options.engine, options.now ?? Date.now)
  streamRoutes(app, options.feed, {
    heartbeatMs: 15_000,
    maxClients: 1_000,
    maxBufferedBytes: 1_048_576,
    ...options.stream,
  })
  return app
}
