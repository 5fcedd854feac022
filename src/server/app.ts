/**
 * The HTTP application. `buildApp` only assembles routes and hooks (tests call `app.inject()`
 * without a socket); `listen` is the caller's business.
 *
 * Request pipeline, in order: CORS (only when origins are configured, so even a 429 carries the
 * headers a browser needs to read it) → 503 SHUTTING_DOWN once closing → per-client rate limit → bearer token on protected routes
 * → zod validation → handler. Every failure answers `{ error: { code, message } }` with the
 * code's one status (errors.ts).
 */
import cors from '@fastify/cors'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { CryptoVizError } from '../errors.ts'
import type { QueryEngine } from '../query/index.ts'
import type { LiveFeed } from '../stream/live-feed.ts'
import { useBearerToken } from './auth.ts'
import { useRateLimit } from './client-rate-limit.ts'
import { errorHandler, sendError } from './errors.ts'
import { ServerMetrics, useRequestMetrics } from './metrics.ts'
import { catalogRoutes } from './routes/catalog.ts'
import { gapsRoutes } from './routes/gaps.ts'
import { opsRoutes, type OpsProviders } from './routes/ops.ts'
import { quotesRoutes } from './routes/quotes.ts'
import { sqlRoutes } from './routes/sql.ts'
import { streamRoutes, type StreamOptions } from './routes/stream.ts'
import { webRoutes } from './routes/web.ts'
import { useZodSchemas } from './typed-route.ts'

/** The `api.*` settings (src/config/settings.ts). */
export interface ApiOptions {
  /** Bearer token for protected routes; open when absent. */
  token?: string | undefined
  /** Comma-separated origins or `*`; CORS off when absent. */
  corsOrigins?: string | undefined
  /** Per client IP; 0 = off. */
  rateLimitPerSecond: number
  rateLimitBurst: number
  maxStreams: number
  bodyLimitBytes: number
}

export const API_DEFAULTS = {
  /** Embedders opt in; the CLI passes its configured 50/s. */
  rateLimitPerSecond: 0,
  rateLimitBurst: 100,
  maxStreams: 1_000,
  /** 64 KiB: the largest body is one SQL statement. */
  bodyLimitBytes: 65_536,
} satisfies ApiOptions

export const STREAM_DEFAULTS = {
  heartbeatMs: 15_000,
  /** 1 MiB queued for one client before it is dropped. */
  maxBufferedBytes: 1_048_576,
  retryMs: 2_000,
} satisfies Partial<StreamOptions>

export interface AppOptions {
  engine: QueryEngine
  feed: LiveFeed
  ops: OpsProviders
  logger: Logger
  /** Clock in milliseconds (default ranges end "now"). */
  now?: () => number
  api?: Partial<ApiOptions>
  stream?: Partial<Omit<StreamOptions, 'maxClients'>>
  /** Pass one to feed it from outside (e.g. flush durations); one is created otherwise. */
  metrics?: ServerMetrics
  /** Refuse (500) any JSON 200 body that does not match its route's schema; for tests. */
  checkResponses?: boolean
}

export function buildApp(options: AppOptions): FastifyInstance {
  const api: ApiOptions = { ...API_DEFAULTS, ...options.api }
  const app = Fastify({
    loggerInstance: options.logger,
    // Requests are measured by /metrics; logging each one would drown the pipeline's logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: api.bodyLimitBytes,
    // Requests still arriving on open connections while closing get our own 503 (see below).
    return503OnClosing: false,
    // Malformed URLs and the like: same error body as everything else.
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, 'INVALID_ARGUMENT', error.message)
    },
  }) as unknown as FastifyInstance
  const metrics = options.metrics ?? new ServerMetrics({ stats: options.ops.stats })
  const routes = useZodSchemas(app, { checkResponses: options.checkResponses ?? false })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  )
  useRequestMetrics(app, metrics)

  const origins = api.corsOrigins
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (origins && origins.length > 0) {
    void app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
      exposedHeaders: ['content-disposition', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining'],
      maxAge: 600,
    })
  }

  // Registered after CORS so its hooks run first (see the module comment).
  void app.register(async (scope) => {
    let closing = false
    scope.addHook('preClose', async () => {
      closing = true
    })
    scope.addHook('onRequest', async () => {
      if (closing) {
        throw new CryptoVizError('SHUTTING_DOWN', 'the server is shutting down', {
          kind: 'external',
          canRetry: true,
        })
      }
    })
    useRateLimit(scope, { perSecond: api.rateLimitPerSecond, burst: api.rateLimitBurst }, () =>
      metrics.rateLimited.inc(),
    )
    useBearerToken(scope, api.token)
    const now = options.now ?? Date.now
    opsRoutes(scope, {
      engine: options.engine,
      ops: options.ops,
      metrics,
      routes,
      info: {
        title: 'CryptoViz API',
        version: '1',
        description:
          'Cryptocurrency quotes from a Delta Lake warehouse: ranges, candles, market overview, ' +
          'cross-source comparison, catalog, time travel (asOf), downloads, SQL and a live stream. ' +
          'Errors are {"error":{"code","message"}}; see docs/errors.md.',
        tokenConfigured: api.token !== undefined,
        rateLimited: api.rateLimitPerSecond > 0,
      },
    })
    quotesRoutes(scope, options.engine, metrics, now)
    gapsRoutes(scope, options.engine, now)
    catalogRoutes(scope, options.engine)
    sqlRoutes(scope, options.engine)
    streamRoutes(scope, options.feed, metrics, {
      ...STREAM_DEFAULTS,
      ...options.stream,
      maxClients: api.maxStreams,
    })
    webRoutes(scope)
  })
  return app
}
