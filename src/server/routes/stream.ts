/**
 * `GET /api/v1/stream`: server-sent events of live quotes (`event: quote`, `id: <event id>`,
 * `data: <quote JSON>`), filtered per client by `crypto=a,b` and `sources=x,y`.
 *
 * Invariants:
 * - A reconnecting client resumes after `Last-Event-ID` (header, or `lastEventId` for clients
 *   that cannot set headers) while the feed's ring still holds it; otherwise it gets one
 *   `event: reset` and should reload, never a silent gap.
 * - At most `maxClients` streams at once (503 `TOO_MANY_STREAMS` beyond); a client that reads
 *   slower than the feed is dropped once `maxBufferedBytes` are queued for it (see
 *   sse-connection.ts), so one stalled client never holds memory without limit.
 * - Closing the app ends every stream, so shutdown never waits on connected browsers.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CryptoVizError } from '../../errors.ts'
import type { LiveEvent, LiveFeed } from '../../stream/live-feed.ts'
import type { ServerMetrics } from '../metrics.ts'
import { slugListParam } from '../params.ts'
import { SseConnection } from '../sse-connection.ts'
import { defineRoute } from '../typed-route.ts'
import { quoteToJson } from '../quote-json.ts'

export interface StreamOptions {
  heartbeatMs: number
  maxClients: number
  maxBufferedBytes: number
  /** Reconnection delay suggested to clients (the SSE `retry` field). */
  retryMs: number
}

// Ids start at the process's start time in microseconds (16 digits today), so a resume must
// accept every safe integer, not a fixed digit count.
const eventId = z
  .string()
  .regex(/^\d{1,16}$/, 'must be a non-negative integer event id')
  .transform(Number)
  .refine(Number.isSafeInteger, 'must be a non-negative integer event id')

const streamQuery = z.strictObject({
  crypto: slugListParam.optional().meta({ description: 'Only these assets (comma-separated slugs).' }),
  sources: slugListParam.optional().meta({ description: 'Only these sources (comma-separated).' }),
  lastEventId: eventId
    .optional()
    .meta({ description: 'Resume after this event id (same as the Last-Event-ID header).' }),
})

export function streamRoutes(
  app: FastifyInstance,
  feed: LiveFeed,
  metrics: ServerMetrics,
  options: StreamOptions,
): void {
  const open = new Set<SseConnection>()
  app.addHook('preClose', async () => {
    for (const c of [...open]) c.end()
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/stream',
    query: streamQuery,
    endless: true,
    doc: {
      operationId: 'stream',
      summary: 'Live quotes as server-sent events',
      description:
        'Events: `quote` (id = event id, data = a quote as in /api/v1/quotes), `reset` when events ' +
        'after Last-Event-ID are no longer held (reload, then reconnect). Comments are heartbeats.',
      tag: 'stream',
      errors: ['TOO_MANY_STREAMS'],
      alternatives: { 'text/event-stream': 'An endless stream of `quote` events.' },
    },
    handler: async ({ query, request, reply }) => {
      const header = request.headers['last-event-id']
      const resumeFrom =
        query.lastEventId ?? (typeof header === 'string' ? eventId.safeParse(header.trim()).data : undefined)
      if (open.size >= options.maxClients) {
        throw new CryptoVizError('TOO_MANY_STREAMS', `at most ${options.maxClients} live streams at once`, {
          kind: 'external',
          canRetry: true,
          details: { retryAfterSeconds: 5 },
        })
      }
      const cryptos = query.crypto && query.crypto.length > 0 ? new Set(query.crypto) : undefined
      const sources = query.sources && query.sources.length > 0 ? new Set(query.sources) : undefined
      const wanted = (e: LiveEvent): boolean =>
        (cryptos === undefined || cryptos.has(e.quote.crypto)) &&
        (sources === undefined || sources.has(e.quote.source))

      reply.hijack()
      const res = reply.raw
      // Headers set by hooks (CORS, rate limit) would be lost with the hijack: carry them over.
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      res.socket?.setNoDelay(true)
      let unsubscribe = (): void => {}
      const heartbeat = setInterval(() => connection.comment('heartbeat'), options.heartbeatMs)
      heartbeat.unref()
      const connection = new SseConnection(res, {
        maxBufferedBytes: options.maxBufferedBytes,
        onClose: (reason) => {
          open.delete(connection)
          metrics.sseClients.set(open.size)
          unsubscribe()
          clearInterval(heartbeat)
          if (reason === 'dropped') {
            metrics.sseDropped.inc()
            request.log.warn({ ip: request.ip }, 'dropped a live-stream client that was not reading')
          }
        },
      })
      open.add(connection)
      metrics.sseClients.set(open.size)
      const send = (e: LiveEvent): void => {
        if (!wanted(e)) return
        if (connection.send({ id: e.id, event: 'quote', data: JSON.stringify(quoteToJson(e.quote)) })) {
          metrics.sseEvents.inc()
        }
      }
      connection.write(`retry: ${options.retryMs}\n: connected, last event id ${feed.lastId}\n\n`)
      if (resumeFrom !== undefined) {
        const missed = feed.since(resumeFrom)
        if (missed === undefined) {
          connection.send({ event: 'reset', data: JSON.stringify({ reason: 'events missed; reload' }) })
        } else {
          for (const e of missed) send(e)
        }
      }
      if (!connection.isOpen) return reply
      unsubscribe = feed.subscribe(send)
      return reply
    },
  })
}
