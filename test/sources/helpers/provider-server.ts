/**
 * A local stand-in for a provider's HTTP API (node:http on 127.0.0.1, port 0). Each test scripts
 * the replies; every request is recorded with its path, query and headers. The server and any
 * held sockets are closed when the test ends.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

export interface Reply {
  status?: number
  headers?: Record<string, string>
  /** A string is sent as is; anything else as JSON. */
  body?: unknown
  /** Wait this long before answering (for timeouts). */
  delayMs?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>

export interface ProviderServer {
  baseUrl: string
  requests: RecordedRequest[]
  /** Requests to one path. */
  to(path: string): RecordedRequest[]
}

export async function startProviderServer(t: TestContext, handler: Handler): Promise<ProviderServer> {
  const requests: RecordedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const recorded = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    }
    requests.push(recorded)
    void Promise.resolve(handler(recorded)).then((reply) => {
      const send = (): void => {
        if (res.destroyed) return
        const body =
          reply.body === undefined
            ? ''
            : typeof reply.body === 'string'
              ? reply.body
              : JSON.stringify(reply.body)
        const type =
          typeof reply.body === 'string' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8'
        res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers })
        res.end(body)
      }
      if (reply.delayMs === undefined) send()
      else {
        const timer = setTimeout(() => {
          timers.delete(timer)
          send()
        }, reply.delayMs)
        timers.add(timer)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const timer of timers) clearTimeout(timer)
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
  }
}

/** Replies in order, repeating the last one. */
export function sequence(...replies: Reply[]): Handler {
  let i = 0
  return () => replies[Math.min(i++, replies.length - 1)] as Reply
}

/** A base URL nothing listens on: connections are refused, as without network. */
export async function refusedBaseUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
