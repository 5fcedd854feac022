import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { DuckDb, QueryEngine } from '../../src/query/index.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { buildApp } from '../../src/server/app.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { LiveFeed } from '../../src/stream/live-feed.ts'

test('/health reads the lake: its version while readable, down (503) once the log cannot be read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-health-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const warehouse = await openWarehouse(new LocalStore(dir))
  const duckdb = await DuckDb.open({ threads: 1 })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb, snapshotTtlMs: 0 })
  const app = buildApp({
    engine,
    feed: new LiveFeed(),
    logger: pino({ level: 'silent' }),
    // The runtime's own view of the lake says ok whatever happens: /health must not take it on trust.
    ops: { health: async () => ({ lake: { status: 'ok', warehouse: dir } }), stats: async () => ({}) },
  })
  t.after(async () => {
    await app.close()
    engine.close()
    duckdb.close()
  })

  const ok = await app.inject('/health')
  assert.equal(ok.statusCode, 200)
  const lake = (ok.json() as { components: Record<string, Record<string, unknown>> }).components['lake']
  assert.deepEqual(lake, { status: 'ok', warehouse: dir, version: 0, files: 0 })

  // A damaged next commit: reading the latest version fails, as with an unreadable store.
  writeFileSync(join(dir, 'quotes', '_delta_log', '00000000000000000001.json'), 'not a commit')
  const down = await app.inject('/health')
  assert.equal(down.statusCode, 503)
  const body = down.json() as { status: string; components: Record<string, Record<string, unknown>> }
  assert.equal(body.status, 'down')
  assert.equal(body.components['lake']?.['status'], 'down')
})

test('/health keeps a store outage the processor rides out degraded with its reason (not down), /ready says not ready', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-health-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const warehouse = await openWarehouse(new LocalStore(dir))
  const duckdb = await DuckDb.open({ threads: 1 })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb, snapshotTtlMs: 0 })
  const reason = 'commits to s3://bucket/lake are failing (3 in a row): timeout'
  const app = buildApp({
    engine,
    feed: new LiveFeed(),
    logger: pino({ level: 'silent' }),
    ops: {
      health: async () => ({ lake: { status: 'degraded', warehouse: dir, reason } }),
      stats: async () => ({}),
    },
  })
  t.after(async () => {
    await app.close()
    engine.close()
    duckdb.close()
  })
  writeFileSync(join(dir, 'quotes', '_delta_log', '00000000000000000001.json'), 'not a commit')
  const health = await app.inject('/health')
  assert.equal(health.statusCode, 200)
  const body = health.json() as { status: string; components: Record<string, Record<string, unknown>> }
  assert.equal(body.status, 'degraded')
  assert.equal(body.components['lake']?.['status'], 'degraded')
  assert.equal(body.components['lake']?.['reason'], reason)
  assert.equal(body.components['lake']?.['read_error'], 'the quotes table cannot be read')
  const ready = await app.inject('/ready')
  assert.equal(ready.statusCode, 503)
})

/** Every object key of a JSON value, at every depth. */
const keysOf = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.flatMap(keysOf)
    : value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)])
      : []

test('/health, /ready and /stats answer in snake_case keys whatever the components report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const warehouse = await openWarehouse(new LocalStore(dir))
  const duckdb = await DuckDb.open({ threads: 1 })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb })
  const source = { source: 'coingecko', lastSuccessAt: 1, consecutiveFailures: 0, currentBackoffMs: 0 }
  const app = buildApp({
    engine,
    feed: new LiveFeed(),
    logger: pino({ level: 'silent' }),
    ops: {
      health: async () => ({
        sources: {
          status: 'ok',
          sources: [source],
          auto: { mode: 'live', notConfigured: { coinmarketcap: 'no key' } },
        },
      }),
      stats: async () => ({ records_received: 3, sources: [source] }),
    },
  })
  t.after(async () => {
    await app.close()
    engine.close()
    duckdb.close()
  })
  const health = (await app.inject('/health')).json() as {
    components: { sources: { sources: Record<string, unknown>[]; auto: Record<string, unknown> } }
  }
  assert.deepEqual(health.components.sources.sources[0], {
    source: 'coingecko',
    last_success_at: 1,
    consecutive_failures: 0,
    current_backoff_ms: 0,
  })
  assert.deepEqual(health.components.sources.auto['not_configured'], { coinmarketcap: 'no key' })
  for (const path of ['/health', '/ready', '/stats']) {
    const keys = keysOf((await app.inject(path)).json())
    assert.ok(keys.length > 3, path)
    assert.deepEqual(
      keys.filter((k) => /[A-Z]/.test(k)),
      [],
      `${path} has no camelCase keys`,
    )
  }
})
