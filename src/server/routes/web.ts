/**
 * The dashboard: `GET /` and the page URLs of the client-side router (`/asset/<crypto>`,
 * `/lakehouse`, `/history`, `/sql`, `/pipeline`) answer `src/web/index.html`, so a link or a
 * reload restores the page; `GET /assets/<name>` answers the other files of `src/web/` (ES
 * modules, the style sheet, the icon); `GET /vendor/lightweight-charts.mjs` the chart library's
 * standalone ES build, read from node_modules (pinned in package.json, never copied into the
 * repository, never fetched from a CDN). No build step: the files are served as written.
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
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CryptoVizError } from '../../errors.ts'
import { sendError } from '../errors.ts'

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))

/** Third-party browser modules the page imports from `/vendor/<name>`: npm package and file. */
export const VENDOR_MODULES: Readonly<Record<string, { package: string; file: string }>> = {
  'lightweight-charts.mjs': {
    package: 'lightweight-charts',
    file: 'dist/lightweight-charts.standalone.production.mjs',
  },
}

/** The client-side router's pages (src/web/app.js): each answers index.html. */
export const PAGE_ROUTES = ['/', '/asset/:crypto', '/lakehouse', '/history', '/sql', '/pipeline'] as const

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

/** Reads the vendor modules once, from wherever node resolves their packages. */
export function readVendorFiles(): Map<string, WebFile> {
  const require = createRequire(import.meta.url)
  const files = new Map<string, WebFile>()
  for (const [name, m] of Object.entries(VENDOR_MODULES)) {
    // Packages export their entry points only; their package.json locates the folder.
    const body = readFileSync(join(dirname(require.resolve(`${m.package}/package.json`)), m.file))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    files.set(name, { body, type: CONTENT_TYPES['.js']!, etag })
  }
  return files
}

export function webRoutes(app: FastifyInstance, dir: string = WEB_DIR): void {
  const files = readWebFiles(dir)
  const vendor = readVendorFiles()
  const index = files.get('index.html')!
  for (const url of PAGE_ROUTES) app.get(url, (request, reply) => send(request, reply, index))
  app.get<{ Params: { name: string } }>('/vendor/:name', (request, reply) => {
    const file = vendor.get(request.params.name)
    if (file === undefined) return sendError(reply, 'NOT_FOUND', `no vendor module ${request.params.name}`)
    return send(request, reply, file)
  })
  app.get<{ Params: { name: string } }>('/assets/:name', (request, reply) => {
    const file = files.get(request.params.name)
    if (file === undefined) return sendError(reply, 'NOT_FOUND', `no dashboard asset ${request.params.name}`)
    return send(request, reply, file)
  })
}
