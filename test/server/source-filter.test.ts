/**
 * One name for the source filter on every route: `sources=a,b`. The first name of candles and
 * latest, `source=<one>`, still works (deprecated) and means `sources=<one>`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isoFromMicros } from '../../src/micros.ts'
import { END_US, openFixture, START_US } from './fixture.ts'

type Json = Record<string, unknown>
const FULL = `start=${isoFromMicros(START_US)}&end=${isoFromMicros(END_US)}`

test('candles take sources= (one or several, pooled) and still the deprecated source=', async (t) => {
  const { app } = await openFixture(t)
  const get = async (filter: string) => {
    const res = await app.inject(
      `/api/v1/candles?crypto=bitcoin&interval=1h&${FULL}&includePending=false${filter}`,
    )
    assert.equal(res.statusCode, 200, res.body)
    return res.json() as Json
  }
  const byNewName = await get('&sources=coingecko')
  const byOldName = await get('&source=coingecko')
  assert.deepEqual(byOldName, byNewName)
  assert.equal(byNewName['source'], 'coingecko')
  const coingeckoOnly = byNewName['candles'] as Json[]
  assert.ok(coingeckoOnly.length > 0 && coingeckoOnly.length < 72, 'coingecko quotes only the last day')

  const both = await get('&sources=coingecko,simulated')
  const pooled = await get('')
  assert.equal(both['source'], null)
  assert.deepEqual(
    both['candles'],
    pooled['candles'],
    'every source of the table, listed, is all of them pooled',
  )
  assert.notDeepEqual(both['candles'], coingeckoOnly)
})

test('latest takes sources= and still the deprecated source=', async (t) => {
  const { app } = await openFixture(t)
  const get = async (filter: string) => {
    const res = await app.inject(`/api/v1/latest?includePending=false${filter}`)
    assert.equal(res.statusCode, 200, res.body)
    return res.json() as { rows: Json[] }
  }
  const byNewName = await get('&sources=simulated')
  assert.deepEqual(await get('&source=simulated'), byNewName)
  assert.equal(byNewName.rows.length, 3)
  assert.ok(byNewName.rows.every((r) => r['source'] === 'simulated'))
  const coingecko = await get('&sources=coingecko')
  assert.deepEqual(
    coingecko.rows.map((r) => [r['crypto'], r['source']]),
    [['bitcoin', 'coingecko']],
  )
  const either = await get('&sources=coingecko,simulated')
  assert.equal(either.rows.length, 3)
})

test('naming both sources and the deprecated source is a 400', async (t) => {
  const { app } = await openFixture(t)
  for (const route of ['/api/v1/candles?crypto=bitcoin&', '/api/v1/latest?']) {
    const res = await app.inject(`${route}sources=coingecko&source=simulated`)
    assert.equal(res.statusCode, 400)
    assert.equal((res.json() as { error: { code: string } }).error.code, 'INVALID_ARGUMENT')
  }
})

test('the OpenAPI document offers sources= on every market route and marks source= deprecated', async (t) => {
  const { app } = await openFixture(t)
  const doc = (await app.inject('/api/v1/openapi.json')).json() as {
    paths: Record<string, { get: { parameters: { name: string; deprecated?: boolean }[] } }>
  }
  for (const route of ['quotes', 'candles', 'latest', 'compare']) {
    const params = doc.paths[`/api/v1/${route}`]!.get.parameters
    assert.ok(
      params.some((p) => p.name === 'sources' && p.deprecated === undefined),
      route,
    )
    const old = params.find((p) => p.name === 'source')
    if (route === 'candles' || route === 'latest') assert.equal(old?.deprecated, true, route)
    else assert.equal(old, undefined, route)
  }
})
