/**
 * The dashboard: `GET /` answers `src/web/index.html`, `GET /assets/<name>` the other files of
 * `src/web/` (ES modules, the style sheet, the icon). No build step: the files are served as
 * written.
 *
 * Invariants:
 * - The folder is read once, when the routes are registered; a request never touches the disk,
 *   so no request path can reach a file outside the set read at startup (an unknown name, `..`
 *   included, is a 404 from a map lookup, not a path join).
 * - Only flat files with a known extension are served, each with its content type.
 * - Every answer carries a strict content-security-policy (`default-src 'self'`: no inline
 *   script or style, no third-party origin), `cache-control: no-cache` (revalidated with the
 *   ETag, so a restarted server never leaves a browser on stale files) and `nosniff`.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CryptoVizError } from '../../errors.ts'
import { sendError } from '../errors.ts'

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

interface WebFile {
  body: Buffer
  type: string
  etag: string
}

/** Reads every servable file of `dir` (not recursive); throws if `index.html` is missing. */
export function readWebFiles(dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>()
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = CONTENT_TYPES[extname(entry.name)]
    if (!entry.isFile() || type === undefined) continue
    const body = readFileSync(join(dir, entry.name))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    files.set(entry.name, { body, type, etag })
  }
  if (!files.has('index.html')) {
    throw new CryptoVizError('CONFIG_INVALID', `the dashboard folder ${dir} has no index.html`, {
      kind: 'internal',
    })
  }
  return files
}

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile): FastifyReply {
  void reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .header('etag', file.etag)
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
  return reply.type(file.type).send(file.body)
}

export function webRoutes(app: FastifyInstance, dir: string = WEB_DIR): void {
  const files = readWebFiles(dir)
  const index = files.get('index.html')!
  app.get('/', (request, reply) => send(request, reply, index))
  app.get<{ Params: { name: string } }>('/assets/:name', (request, reply) => {
    const file = files.get(request.params.name)
    if (file === undefined) return sendError(reply, 'NOT_FOUND', `no dashboard asset ${request.params.name}`)
    return send(request, reply, file)
  })
}
