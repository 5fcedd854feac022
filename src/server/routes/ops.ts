/** Operations endpoints: `/health` (liveness with component status) and `/stats` (counters). */
import type { FastifyInstance } from 'fastify'

export interface ComponentStatus {
  status: 'ok' | 'degraded' | 'down'
  [key: string]: unknown
}

export interface OpsProviders {
  health: () => Promise<Record<string, ComponentStatus>>
  stats: () => Promise<Record<string, unknown>>
}

export function opsRoutes(app: FastifyInstance, ops: OpsProviders): void {
  app.get('/health', async (_request, reply) => {
    const components = await ops.health()
    const statuses = Object.values(components).map((c) => c.status)
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok'
    // A degraded component (e.g. sources falling back to simulation) still serves: 200.
    return reply.code(status === 'down' ? 503 : 200).send({ status, components })
  })
  app.get('/stats', async () => ops.stats())
}
