/**
 * A real warehouse for route tests: generated history in a temp folder (3 assets, 3 days, hourly,
 * one commit per day → versions 1, 2, 3), a second source for bitcoin on the last day (version
 * 4, so compare has something to compare), a real query engine over it and the app. Everything
 * is removed when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { generateHistory } from '../../src/cli/generate.ts'
import type { Quote } from '../../src/model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../../src/model/quote-table.ts'
import { DuckDb, QueryEngine } from '../../src/query/index.ts'
import { openWarehouse, type Warehouse } from '../../src/runtime/warehouse.ts'
import { buildApp, type AppOptions } from '../../src/server/app.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { LiveFeed } from '../../src/stream/live-feed.ts'

export const DAY_US = 86_400_000_000
export const HOUR_US = 3_600_000_000
/** The generated range is [END - 3 days, END). */
export const END_US = Date.UTC(2024, 0, 4) * 1000
export const START_US = END_US - 3 * DAY_US

export interface Fixture {
  app: FastifyInstance
  engine: QueryEngine
  warehouse: Warehouse
  feed: LiveFeed
  dir: string
  /** Commit times (ms) by version, for asOf by time. */
  commitTimes: Map<number, number>
  /** Every quote in the table, as generated. */
  rows: number
}

export interface FixtureOptions extends Partial<Omit<AppOptions, 'engine' | 'feed' | 'ops' | 'logger'>> {
  pending?: () => readonly Quote[]
  feed?: LiveFeed
}

/** The warehouse is built once per test file (`shared`); each call gets its own app and engine. */
let shared: Promise<{ dir: string; rows: number }> | undefined

async function buildWarehouse(): Promise<{ dir: string; rows: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-server-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const warehouse = await openWarehouse(new LocalStore(dir))
  const generated = await generateHistory(warehouse.quotes, {
    assets: 3,
    days: 3,
    intervalSeconds: 3600,
    seed: 7,
    end: END_US,
    compression: 'snappy',
  })
  // A second source quoting bitcoin 1 % higher on the last day.
  const duckdb = await DuckDb.open({ threads: 1 })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb })
  const btc = await engine.readRange({ crypto: 'bitcoin', start: END_US - DAY_US, end: END_US })
  engine.close()
  duckdb.close()
  const second = btc.rows.map((q) => ({ ...q, source: 'coingecko', price_usd: q.price_usd * 1.01 }))
  await warehouse.quotes.append(second.map(quoteToRow), { sortBy: QUOTES_SORT_BY, operation: 'WRITE' })
  return { dir, rows: generated.rows + second.length }
}

export async function openFixture(t: TestContext, options: FixtureOptions = {}): Promise<Fixture> {
  shared ??= buildWarehouse()
  const { dir, rows } = await shared
  const { pending, feed = new LiveFeed(), ...appOptions } = options
  const warehouse = await openWarehouse(new LocalStore(dir))
  const duckdb = await DuckDb.open({ threads: 1 })
  const engine = new QueryEngine({
    table: warehouse.quotes,
    duckdb,
    deadLetters: warehouse.deadLetters,
    ...(pending && { pending }),
  })
  const app = buildApp({
    engine,
    feed,
    logger: pino({ level: 'silent' }),
    now: () => END_US / 1000,
    checkResponses: true,
    ops: {
      health: async () => ({ lake: { status: 'ok' }, sources: { status: 'ok', mode: 'test' } }),
      stats: async () => ({ records_received: 10, records_written: 8, records_rejected: 1, batches: 2 }),
    },
    ...appOptions,
  })
  t.after(async () => {
    await app.close()
    engine.close()
    duckdb.close()
  })
  const history = await warehouse.quotes.history()
  const commitTimes = new Map(history.map((h) => [h.version, h.timestamp]))
  return { app, engine, warehouse, feed, dir, commitTimes, rows }
}
