/**
 * The optional bearer token guarding the SQL console and admin routes (`doc.protected`). When no
 * token is configured those routes are open, as everything else always is.
 *
 * The comparison is constant-time over SHA-256 digests: equal-length inputs for `timingSafeEqual`
 * whatever the client sends, so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { CryptoVizError } from '../errors.ts'

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')
  // Compare even without a usable header, so a missing token costs the same as a wrong one.
  const given = match?.[1] ?? ''
  return timingSafeEqual(digest(expected), digest(given)) && match !== null
}

export function useBearerToken(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.doc?.protected !== true) return
    if (tokenMatches(token, request.headers.authorization)) return
    void reply.header('www-authenticate', 'Bearer realm="cryptoviz"')
    throw new CryptoVizError('UNAUTHORIZED', 'this route needs "Authorization: Bearer <token>"', {
      kind: 'user',
    })
  })
}
