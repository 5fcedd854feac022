/**
 * Shared helpers for the lake tests: a small schema, row generators, a controllable clock and a
 * store wrapper that lets a test act between a writer's read and its commit (to stage races) or
 * make chosen operations fail.
 */
import {
  DeltaTable,
  field,
  struct,
  type Row,
  type StructType,
  type TableOptions,
} from '../../src/lake/index.ts'
import type {
  ByteChunks,
  ObjectMeta,
  ObjectStore,
  PutIfAbsentResult,
} from '../../src/storage/object-store.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../../src/storage/local-store.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { generateHistory } from '../../src/cli/generate.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA } from '../../src/model/quote-table.ts'
import { freshBucket } from '../harness/moto-server.ts'

export const T0 = Date.UTC(2024, 0, 5) * 1000 // 2024-01-05T00:00:00Z in µs

/** ts, crypto (partition), price, note — enough to exercise every lake path quickly. */
export const SMALL_SCHEMA: StructType = struct([
  field('ts', 'timestamp', false),
  field('crypto', 'string', false),
  field('price', 'double', false),
  field('note', 'string'),
])

export const smallRows = (
  n: number,
  o: { crypto?: string | ((i: number) => string); start?: number } = {},
): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    ts: T0 + ((o.start ?? 0) + i) * 1_000_000,
    crypto: typeof o.crypto === 'function' ? o.crypto(i) : (o.crypto ?? 'bitcoin'),
    price: 100 + i,
    note: i % 3 === 0 ? null : `n${i}`,
  }))

/** A clock tests move by hand; MemoryStore modification times and table times both follow it. */
export class Clock {
  t: number
  constructor(t = Date.UTC(2024, 0, 5, 12)) {
    this.t = t
  }
  readonly now = (): number => this.t
}

/**
 * The store the lake tests run against: memory by default; `CRYPTOVIZ_TEST_LAKE_STORE=local` or
 * `=s3` (a fresh bucket on the run's moto server) re-run the same suite on a folder or on S3
 * (test/lake/stores.test.ts does both). `now` drives the memory store's modification times;
 * the other stores have real ones, and commit times come from the commits anyway.
 */
export async function lakeTestStore(o: { now?: () => number } = {}): Promise<ObjectStore> {
  const kind = process.env.CRYPTOVIZ_TEST_LAKE_STORE ?? 'memory'
  if (kind === 'local') return new LocalStore(mkdtempSync(join(tmpdir(), 'cryptoviz-lake-test-')))
  if (kind === 's3') return (await freshBucket({ prefix: 'table' })).store
  return new MemoryStore(o)
}

export async function smallTable(
  o: {
    store?: ObjectStore
    clock?: Clock
    configuration?: Record<string, string>
    options?: TableOptions
  } = {},
): Promise<{ table: DeltaTable; store: ObjectStore; clock: Clock }> {
  const clock = o.clock ?? new Clock()
  const store = o.store ?? (await lakeTestStore({ now: clock.now }))
  const table = await DeltaTable.create(
    store,
    { schema: SMALL_SCHEMA, partitionColumns: ['crypto'], configuration: o.configuration ?? {} },
    { now: clock.now, ...o.options },
  )
  return { table, store, clock }
}

export type Hook = (path: string) => Promise<void> | void

/** Delegates to a store, running hooks before chosen operations (they may throw to fail them). */
export class HookStore implements ObjectStore {
  readonly inner: ObjectStore
  readonly url: string
  beforePutIfAbsent: Hook | undefined
  beforePut: Hook | undefined
  beforeGet: Hook | undefined
  readonly gets: string[] = []

  constructor(inner: ObjectStore) {
    this.inner = inner
    this.url = inner.url
  }

  async get(path: string): Promise<Uint8Array> {
    this.gets.push(path)
    await this.beforeGet?.(path)
    return this.inner.get(path)
  }
  getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    return this.inner.getRange(path, start, end)
  }
  head(path: string): Promise<ObjectMeta | undefined> {
    return this.inner.head(path)
  }
  async put(path: string, bytes: Uint8Array): Promise<void> {
    await this.beforePut?.(path)
    return this.inner.put(path, bytes)
  }
  async putStream(path: string, chunks: ByteChunks): Promise<void> {
    await this.beforePut?.(path)
    return this.inner.putStream(path, chunks)
  }
  async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    await this.beforePutIfAbsent?.(path)
    return this.inner.putIfAbsent(path, bytes)
  }
  list(prefix: string): Promise<ObjectMeta[]> {
    return this.inner.list(prefix)
  }
  listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    return this.inner.listFrom(prefix, startAfter)
  }
  delete(path: string): Promise<void> {
    return this.inner.delete(path)
  }
  localPath(path: string): string | undefined {
    return this.inner.localPath(path)
  }
  child(prefix: string): ObjectStore {
    return new HookStore(this.inner.child(prefix))
  }
}

/**
 * Runs `race` once, just before the next commit attempt on `store` (a `_delta_log/` put-if-absent),
 * so that `race` wins the version the writer read for.
 */
export function raceOnce(store: HookStore, race: () => Promise<unknown>): void {
  let done = false
  store.beforePutIfAbsent = async (path) => {
    if (done || !path.startsWith('_delta_log/')) return
    done = true
    await race()
  }
}

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** The actions of one commit file, parsed. */
export async function commitActions(store: ObjectStore, version: number): Promise<Record<string, unknown>[]> {
  const bytes = await store.get(`_delta_log/${String(version).padStart(20, '0')}.json`)
  return text(bytes)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

export async function writeCommit(store: ObjectStore, version: number, actions: object[]): Promise<void> {
  const body = actions.map((a) => JSON.stringify(a)).join('\n') + '\n'
  await store.put(`_delta_log/${String(version).padStart(20, '0')}.json`, new TextEncoder().encode(body))
}

/**
 * A quotes table shaped as `start` leaves it: quotes every 60 s up to 2024-06-01, one commit per
 * 300 s of simulated time (one file per asset each), so checkpoints land every 10 versions.
 */
export async function streamingQuotesTable(
  store: ObjectStore,
  o: { assets: number; days: number; seed: number },
): Promise<DeltaTable> {
  const table = await DeltaTable.create(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  await generateHistory(table, {
    ...o,
    intervalSeconds: 60,
    end: Date.UTC(2024, 5, 1) * 1000,
    compression: 'snappy',
    commitEverySeconds: 300,
  })
  return table
}
