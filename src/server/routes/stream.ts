/**
 * `GET /api/v1/stream`: server-sent events of live quotes (`event: quote`, `id: <event id>`,
 * `data: <quote JSON>`), optionally filtered by `crypto=a,b`. Reconnecting clients resume from
 * `Last-Event-ID` while the feed's ring still holds it. A client whose socket buffer grows past
 * `maxBufferedBytes` is disconnected rather than buffered without limit.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { LiveEvent, LiveFeed } from '../../stream/live-feed.ts'
import { parseParams, slugListParam } from '../params.ts'
import { quoteToJson } from './quotes.ts'
import { sendError } from '../errors.ts'

const streamQuery = z.strictObject({ crypto: slugListParam.optional() })

export interface StreamOptions {
  heartbeatMs: number
  maxClients: number
  maxBufferedBytes: number
}

export function streamRoutes(app: FastifyInstance, feed: LiveFeed, options: StreamOptions): void {
  let clients = 0
  app.get('/api/v1/stream', async (request, reply) => {
    const q = parseParams(streamQuery, request.query)
    if (clients >= options.maxClients) {
      return sendError(reply, 503, 'TOO_MANY_STREAMS', `at most ${options.maxClients} live streams at once`)
    }
    const wanted = q.crypto && q.crypto.length > 0 ? new Set(q.crypto) : undefined
    const lastEventId = Number(request.headers['last-event-id'])
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    clients++
    let closed = false
    const send = (event: LiveEvent): void => {
      if (closed || (wanted && !wanted.has(event.quote.crypto))) return
      if (res.writableLength > options.maxBufferedBytes) {
        request.log.warn({ buffered: res.writableLength }, 'dropping a slow live-stream client')
        close()
        return
      }
      res.write(`id: ${event.id}\nevent: quote\ndata: ${JSON.stringify(quoteToJson(event.quote))}\n\n`)
    }
    const close = (): void => {
      if (closed) return
      closed = true
      clients--
      unsubscribe()
      clearInterval(heartbeat)
      res.end()
    }
    res.write(`retry: 2000\n: connected, last event id ${feed.lastId}\n\n`)
    if (Number.isInteger(lastEventId) && lastEventId >= 0) {
      const missed = feed.since(lastEventId)
      if (missed === undefined) res.write(`event: reset\ndata: {"reason":"events missed; reload"}\n\n`)
      else for (const e of missed) send(e)
    }
    const unsubscribe = feed.subscribe(send)
    const heartbeat = setInterval(() => res.write(`: heartbeat\n\n`), options.heartbeatMs)
    request.raw.on('close', close)
    res.on('error', close)
  })
}
