/**
 * The OpenAPI 3.1 document, built from the zod schemas the routes validate with (see
 * typed-route.ts). OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what `z.toJSONSchema`
 * emits, so schemas are used as generated.
 *
 * Query parameters are described as clients send them (`io: 'input'`: strings before parsing),
 * responses as the server sends them (`io: 'output'`).
 */
import { z } from 'zod'
import type { ErrorCode } from '../errors.ts'
import { statusOf } from './errors.ts'
import type { DocumentedRoute } from './typed-route.ts'

export interface OpenApiInfo {
  title: string
  version: string
  description: string
  /** Whether protected routes actually demand the token (documented either way). */
  tokenConfigured: boolean
  rateLimited: boolean
}

type JsonSchema = Record<string, unknown>

/**
 * A zod schema as JSON Schema for the document. Recursive schemas come out of zod with `$defs`
 * referenced as `#/$defs/<name>`, which would resolve against the document root: they move to
 * `components.schemas` (shared `components`) and their references are rewritten to match.
 */
function toSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  delete out['$schema']
  const defs = (out['$defs'] ?? {}) as Record<string, JsonSchema>
  delete out['$defs']
  // zod numbers unnamed definitions from 0 in every call: give them document-wide unique names.
  const names = new Map(
    Object.keys(defs).map((k, i) => [
      k,
      k.startsWith('__') ? `Schema${Object.keys(components).length + i}` : k,
    ]),
  )
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite)
    if (node === null || typeof node !== 'object') return node
    const entries = Object.entries(node).map(([k, v]) => {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
        const name = v.slice('#/$defs/'.length)
        return [k, `#/components/schemas/${names.get(name) ?? name}`]
      }
      return [k, rewrite(v)]
    })
    return Object.fromEntries(entries)
  }
  for (const [key, def] of Object.entries(defs))
    components[names.get(key) ?? key] = rewrite(def) as JsonSchema
  return rewrite(out) as JsonSchema
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable code, see docs/errors.md.' },
        message: { type: 'string' },
      },
    },
  },
}

function queryParameters(query: z.ZodType, components: Record<string, JsonSchema>): JsonSchema[] {
  const schema = toSchema(query, 'input', components)
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>
  const required = new Set((schema['required'] ?? []) as string[])
  return Object.entries(properties).map(([name, property]) => {
    const { description, deprecated, ...rest } = property
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(deprecated === true && { deprecated: true }),
      ...(description !== undefined && { description }),
      schema: rest,
    }
  })
}

function errorResponses(route: DocumentedRoute, info: OpenApiInfo): Record<string, JsonSchema> {
  const codes = new Set<ErrorCode>(route.doc.errors ?? [])
  if (route.query || route.body) codes.add('INVALID_ARGUMENT')
  if (route.body) {
    codes.add('PAYLOAD_TOO_LARGE')
    codes.add('UNSUPPORTED_MEDIA_TYPE')
  }
  if (route.doc.protected) codes.add('UNAUTHORIZED')
  if (!route.doc.unlimited && info.rateLimited) codes.add('RATE_LIMITED')
  codes.add('INTERNAL')
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code])
  const out: Record<string, JsonSchema> = {}
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Error codes: ${list.join(', ')}.`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    }
  }
  return out
}

function operation(
  route: DocumentedRoute,
  info: OpenApiInfo,
  components: Record<string, JsonSchema>,
): JsonSchema {
  const content: Record<string, JsonSchema> = {}
  if (route.response) content['application/json'] = { schema: toSchema(route.response, 'output', components) }
  for (const [mediaType, description] of Object.entries(route.doc.alternatives ?? {})) {
    content[mediaType] = { schema: { type: 'string', description } }
  }
  return {
    operationId: route.doc.operationId,
    summary: route.doc.summary,
    ...(route.doc.description !== undefined && { description: route.doc.description }),
    tags: [route.doc.tag],
    parameters: route.query ? queryParameters(route.query, components) : [],
    ...(route.body && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: toSchema(route.body, 'input', components) } },
      },
    }),
    ...(route.doc.protected && { security: [{ bearerToken: [] }] }),
    responses: { '200': { description: route.doc.summary, content }, ...errorResponses(route, info) },
  }
}

export function buildOpenApi(routes: readonly DocumentedRoute[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {}
  const schemas: Record<string, JsonSchema> = { Error: ERROR_SCHEMA }
  for (const route of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    paths[route.url] = { ...paths[route.url], [route.method.toLowerCase()]: operation(route, info, schemas) }
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    tags: [
      { name: 'quotes', description: 'Market data read from the lake (time travel with `asOf`).' },
      { name: 'catalog', description: 'What the lake holds: assets, partitions, versions, files.' },
      { name: 'sql', description: 'Read-only SQL over the quotes table.' },
      { name: 'stream', description: 'Live quotes as server-sent events.' },
      { name: 'operations', description: 'Health, readiness, statistics and metrics.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: info.tokenConfigured
            ? 'The token set with CRYPTOVIZ_API_TOKEN.'
            : 'No token is configured on this server: protected routes are open.',
        },
      },
    },
  }
}
