/**
 * A tiny HTTP proxy on 127.0.0.1 in front of the test S3 server, to make it misbehave the way
 * real S3 clones and real networks do: drop the `If-None-Match` header (a store that ignores
 * conditional writes) or answer the next requests with an error (503 SlowDown, 500, 409
 * ConditionalRequestConflict) without forwarding them.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'

export interface S3Proxy {
  endpoint: string
  /** Requests seen, by method (after injected failures too). */
  readonly requests: { method: string; path: string; status: number }[]
  /** Forward requests without their If-None-Match header. */
  stripIfNoneMatch: boolean
  /** Answers the next `count` requests matching `method` with an S3 error instead of forwarding. */
  failNext(count: number, status: number, code: string, method?: string): void
  close(): Promise<void>
}

export async function startS3Proxy(target: string, o: { stripIfNoneMatch?: boolean } = {}): Promise<S3Proxy> {
  const upstream = new URL(target)
  const failures: { status: number; code: string; method: string | undefined }[] = []
  const requests: S3Proxy['requests'] = []
  const state = { stripIfNoneMatch: o.stripIfNoneMatch ?? false }
  const server: Server = createServer((req, res) => {
    const i = failures.findIndex((f) => f.method === undefined || f.method === req.method)
    if (i >= 0) {
      const f = failures.splice(i, 1)[0]!
      requests.push({ method: req.method!, path: req.url!, status: f.status })
      req.resume()
      res.writeHead(f.status, { 'content-type': 'application/xml' })
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${f.code}</Code><Message>injected</Message></Error>`,
      )
      return
    }
    const headers: IncomingHttpHeaders = { ...req.headers }
    if (state.stripIfNoneMatch) delete headers['if-none-match']
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (up) => {
        requests.push({ method: req.method!, path: req.url!, status: up.statusCode ?? 0 })
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    forward.on('error', (e) => {
      res.writeHead(502)
      res.end(String(e))
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    get stripIfNoneMatch() {
      return state.stripIfNoneMatch
    },
    set stripIfNoneMatch(v: boolean) {
      state.stripIfNoneMatch = v
    },
    failNext(count, status, code, method) {
      for (let n = 0; n < count; n++) failures.push({ status, code, method })
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
