import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openFixture } from './fixture.ts'

type Json = Record<string, unknown>

const ROUTES = [
  'GET /api/v1/quotes',
  'GET /api/v1/candles',
  'GET /api/v1/latest',
  'GET /api/v1/compare',
  'GET /api/v1/gaps',
  'GET /api/v1/catalog',
  'GET /api/v1/catalog/partitions',
  'GET /api/v1/history',
  'GET /api/v1/files',
  'POST /api/v1/sql',
  'GET /api/v1/stream',
  'GET /api/v1/openapi.json',
  'GET /health',
  'GET /ready',
  'GET /stats',
  'GET /metrics',
]

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out))
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refs(v, out)
    }
  }
  return out
}

test('the OpenAPI document describes every route, each with an operation id and a 200 response', async (t) => {
  const { app } = await openFixture(t)
  const res = await app.inject('/api/v1/openapi.json')
  assert.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, Json>>; components: Json }
  assert.equal(doc.openapi, '3.1.0')
  const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  )
  assert.deepEqual(listed.sort(), [...ROUTES].sort())
  const ids = new Set<string>()
  for (const ops of Object.values(doc.paths)) {
    for (const op of Object.values(ops)) {
      const responses = op['responses'] as Record<string, Json>
      assert.ok(responses['200'], String(op['operationId']))
      assert.ok(responses['500'], 'every route documents its internal error')
      assert.ok(!ids.has(op['operationId'] as string))
      ids.add(op['operationId'] as string)
    }
  }
})

test('parameters, bodies and downloads in the document match what the routes accept', async (t) => {
  const { app } = await openFixture(t)
  const doc = (await app.inject('/api/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, Json>>
  }
  const quotes = doc.paths['/api/v1/quotes']!['get']!
  const params = quotes['parameters'] as {
    name: string
    required: boolean
    schema: Json
    description?: string
  }[]
  assert.deepEqual(
    params.map((p) => p.name),
    ['crypto', 'start', 'end', 'sources', 'columns', 'order', 'limit', 'asOf', 'includePending', 'format'],
  )
  assert.deepEqual(
    params.filter((p) => p.required).map((p) => p.name),
    ['crypto'],
  )
  const limit = params.find((p) => p.name === 'limit')!
  assert.deepEqual(
    { type: limit.schema['type'], minimum: limit.schema['minimum'], maximum: limit.schema['maximum'] },
    { type: 'integer', minimum: 1, maximum: 100_000 },
  )
  assert.match(params.find((p) => p.name === 'asOf')!.description!, /version/)
  const content = (quotes['responses'] as Record<string, Json>)['200']!['content'] as Json
  assert.deepEqual(Object.keys(content).sort(), [
    'application/json',
    'application/vnd.apache.parquet',
    'text/csv',
  ])
  const errors = Object.keys(quotes['responses'] as Json).sort()
  assert.deepEqual(errors, ['200', '400', '404', '500'])

  const sql = doc.paths['/api/v1/sql']!['post']!
  const body = ((sql['requestBody'] as Json)['content'] as Record<string, { schema: Json }>)[
    'application/json'
  ]!
  assert.deepEqual(body.schema['required'], ['sql'])
  assert.deepEqual(Object.keys(sql['responses'] as Json).sort(), [
    '200',
    '400',
    '401',
    '404',
    '408',
    '413',
    '415',
    '500',
  ])

  const stream = doc.paths['/api/v1/stream']!['get']!
  const streamContent = (stream['responses'] as Record<string, Json>)['200']!['content'] as Json
  assert.deepEqual(Object.keys(streamContent), ['text/event-stream'])
  assert.ok((stream['responses'] as Json)['503'], 'the stream documents its connection cap')
})

test('every schema reference in the document resolves, including the recursive partition tree', async (t) => {
  const { app } = await openFixture(t)
  const doc = (await app.inject('/api/v1/openapi.json')).json() as Json & {
    components: { schemas: Record<string, Json> }
  }
  const all = refs(doc)
  assert.ok(all.includes('#/components/schemas/PartitionNode'))
  for (const ref of all) {
    assert.match(ref, /^#\/components\/schemas\/[A-Za-z0-9_]+$/)
    assert.ok(doc.components.schemas[ref.split('/').at(-1)!], `${ref} resolves`)
  }
  assert.doesNotMatch(JSON.stringify(doc), /\$defs/)
})
