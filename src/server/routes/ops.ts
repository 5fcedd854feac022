/**
 * Operations endpoints: `/health` (liveness with component status), `/ready` (can this instance
 * serve reads: the lake answers and no component is down), `/stats` (counters), `/metrics`
 * (Prometheus) and `/api/v1/openapi.json` (this API's description).
 *
 * Payload keys are snake_case (`snake-case.ts`), whatever the providers' objects use.
 *
 * Probes and scrapers are exempt from rate limiting; none of these routes exposes secrets (the
 * providers return counters and states, never configuration values).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { QueryEngine } from '../../query/index.ts'
import type { ServerMetrics } from '../metrics.ts'
import { buildOpenApi, type OpenApiInfo } from '../openapi.ts'
import { snakeCaseKeys } from '../snake-case.ts'
import { defineRoute, type DocumentedRoute } from '../typed-route.ts'

export interface ComponentStatus {
  status: 'ok' | 'degraded' | 'down'
  [key: string]: unknown
}

export interface OpsProviders {
  health: () => Promise<Record<string, ComponentStatus>>
  stats: () => Promise<Record<string, unknown>>
}

const componentJson = z.looseObject({ status: z.enum(['ok', 'degraded', 'down']) })

const healthResponse = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  components: z.record(z.string(), componentJson),
})

const readyResponse = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), componentJson),
})

/**
 * The lake as readers find it: the latest version and its live files as the query engine reads
 * them (so a store that cannot be listed or a log that cannot be read shows as down), never a
 * status taken on trust.
 */
async function checkLake(engine: QueryEngine, log: FastifyBaseLogger): Promise<ComponentStatus> {
  try {
    const snapshot = await engine.snapshot()
    return { status: 'ok', version: snapshot.version, files: snapshot.files().length }
  } catch (err) {
    log.warn({ err }, 'the lake is not readable')
    return { status: 'down', error: 'the quotes table cannot be read' }
  }
}

function overall(components: Record<string, ComponentStatus>): ComponentStatus['status'] {
  const statuses = Object.values(components).map((c) => c.status)
  return statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok'
}

export function opsRoutes(
  app: FastifyInstance,
  deps: {
    engine: QueryEngine
    ops: OpsProviders
    metrics: ServerMetrics
    routes: readonly DocumentedRoute[]
    info: OpenApiInfo
  },
): void {
  const { engine, ops, metrics } = deps
  defineRoute(app, {
    method: 'GET',
    url: '/health',
    response: healthResponse,
    doc: {
      operationId: 'health',
      summary: 'Liveness, with the status of each component',
      description: '200 while serving (a degraded component still serves), 503 when a component is down.',
      tag: 'operations',
      unlimited: true,
    },
    handler: async ({ reply, request }) => {
      const [components, lake] = await Promise.all([ops.health(), checkLake(engine, request.log)])
      // What the runtime knows of the lake (its warehouse) stays; whether it answers is checked here.
      const known = components['lake']
      components['lake'] =
        known?.status === 'degraded' && lake.status === 'down'
          ? // An outage the processor rides out (commits retried, data kept): degraded with its
            // reason, not down, or a liveness probe would restart the process and lose what it
            // holds. /ready still says the lake cannot be read.
            { ...known, read_error: lake['error'] }
          : { ...known, ...lake }
      const status = overall(components)
      return reply.code(status === 'down' ? 503 : 200).send({ status, components: snakeCaseKeys(components) })
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/ready',
    response: readyResponse,
    doc: {
      operationId: 'ready',
      summary: 'Readiness: the lake is readable and no component is down',
      description: '200 when ready, 503 otherwise; `checks` says which check failed.',
      tag: 'operations',
      unlimited: true,
    },
    handler: async ({ reply, request }) => {
      const checks: Record<string, ComponentStatus> = { lake: await checkLake(engine, request.log) }
      try {
        Object.assign(checks, await ops.health(), { lake: checks['lake'] })
      } catch (err) {
        request.log.warn({ err }, 'readiness: component health unavailable')
        checks['components'] = { status: 'down', error: 'component health unavailable' }
      }
      const ready = overall(checks) !== 'down'
      return reply.code(ready ? 200 : 503).send({ ready, checks: snakeCaseKeys(checks) })
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/stats',
    response: z.record(z.string(), z.unknown()),
    doc: {
      operationId: 'stats',
      summary: 'Pipeline counters: records received, written, rejected; batches; files; bytes',
      tag: 'operations',
      unlimited: true,
    },
    handler: async () => snakeCaseKeys(await ops.stats()) as Record<string, unknown>,
  })

  defineRoute(app, {
    method: 'GET',
    url: '/metrics',
    doc: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'operations',
      unlimited: true,
      alternatives: { 'text/plain': 'Prometheus text exposition format 0.0.4.' },
    },
    handler: async ({ reply }) => reply.type(metrics.contentType).send(await metrics.render()),
  })

  let document: Record<string, unknown> | undefined
  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/openapi.json',
    response: z.record(z.string(), z.unknown()),
    doc: {
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'operations',
      unlimited: true,
    },
    // Routes are all registered by the first request; the document never changes afterwards.
    handler: async () => (document ??= buildOpenApi(deps.routes, deps.info)),
  })
}
