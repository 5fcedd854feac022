/**
 * The query engine on a warehouse in S3 (the moto server): DuckDB reads the files the lake
 * selected through the on-disk read cache, filled on demand; the results equal a local
 * warehouse's; warm reads fetch nothing; no read path lists a data prefix; the SQL console keeps
 * its sandbox on cached files.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { generateHistory } from '../../src/cli/generate.ts'
import { isCryptoVizError } from '../../src/errors.ts'
import { DuckDb, QueryEngine } from '../../src/query/index.ts'
import { openWarehouse, openWarehouseForReading } from '../../src/runtime/warehouse.ts'
import { CountingStore } from '../../src/storage/counting-store.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { ReadCache } from '../../src/storage/read-cache.ts'
import { freshBucket } from '../harness/moto-server.ts'

const END = Date.UTC(2024, 0, 10) * 1000
const DAY = 86_400_000_000
const HISTORY = {
  assets: 6,
  days: 3,
  intervalSeconds: 600,
  seed: 7,
  end: END,
  compression: 'snappy',
} as const

let dir: string
let duckdb: DuckDb
let local: QueryEngine
let s3Store: CountingStore

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cryptoviz-remote-read-'))
  duckdb = await DuckDb.open({ threads: 1, poolSize: 2 })
  const localWarehouse = await openWarehouse(new LocalStore(join(dir, 'local')))
  await generateHistory(localWarehouse.quotes, HISTORY)
  local = new QueryEngine({ table: localWarehouse.quotes, duckdb })
  const { store } = await freshBucket({ prefix: 'warehouse' })
  await generateHistory((await openWarehouse(store)).quotes, HISTORY)
  s3Store = new CountingStore(store)
})

after(async () => {
  local.close()
  duckdb.close()
  await rm(dir, { recursive: true, force: true })
})

async function remoteEngine(cacheDir: string, maxBytes = 1 << 30) {
  const warehouse = await openWarehouseForReading(s3Store)
  const cache = new ReadCache({ dir: cacheDir, maxBytes })
  return {
    engine: new QueryEngine({
      table: warehouse.quotes,
      duckdb,
      readCache: cache,
    }),
    cache,
  }
}

const dataListings = (): string[] =>
  s3Store.requests.filter((r) => r.op === 'list' && !/(^|\/)_delta_log\/$/.test(r.path)).map((r) => r.path)

test('reads from S3 equal the local warehouse; a warm read fetches nothing; no data prefix is listed', async () => {
  const { engine, cache } = await remoteEngine(join(dir, 'cache-a'))
  const q = { crypto: 'bitcoin', start: END - DAY, end: END }
  const expected = await local.readRange(q)
  assert.ok(expected.rows.length > 100)
  s3Store.requests.length = 0
  const cold = await engine.readRange(q)
  assert.deepEqual(cold.rows, expected.rows)
  const dataGets = s3Store.requests.filter((r) => r.op === 'get' && !r.path.includes('_delta_log'))
  assert.equal(dataGets.length, cold.files_scanned, 'each selected file fetched once, nothing else')
  assert.ok(cold.files_scanned < cold.files_total, 'pruning still applies')
  s3Store.requests.length = 0
  const warm = await engine.readRange(q)
  assert.deepEqual(warm.rows, expected.rows)
  assert.equal(s3Store.requests.filter((r) => r.op === 'get' && !r.path.includes('_delta_log')).length, 0)
  assert.equal(cache.stats().misses, cold.files_scanned)
  assert.deepEqual(
    await engine.candles({ crypto: 'ethereum', interval: '1h' }),
    await local.candles({ crypto: 'ethereum', interval: '1h' }),
  )
  assert.deepEqual(dataListings(), [])
  engine.close()
})

test('the SQL console reads a remote warehouse through the cache and keeps its sandbox', async () => {
  const { engine } = await remoteEngine(join(dir, 'cache-b'))
  const sql = 'SELECT crypto, count(*) AS n FROM quotes GROUP BY crypto ORDER BY crypto'
  const remote = await engine.sql(sql)
  const expected = await local.sql(sql)
  assert.deepEqual(remote.rows, expected.rows)
  await assert.rejects(engine.sql("SELECT * FROM read_parquet('/etc/passwd')"), (e) =>
    isCryptoVizError(e, 'SQL_FORBIDDEN'),
  )
  await assert.rejects(engine.sql("SELECT * FROM '/etc/passwd'"), (e) => isCryptoVizError(e, 'SQL_FORBIDDEN'))
  assert.deepEqual(dataListings(), [])
  engine.close()
})

test('the read cache stays within its bound, evicting least recently used files', async () => {
  const cacheDir = join(dir, 'cache-c')
  const { engine, cache } = await remoteEngine(cacheDir, 64 * 1024)
  for (const crypto of ['bitcoin', 'ethereum', 'solana', 'cardano']) {
    const r = await engine.readRange({ crypto })
    assert.deepEqual(r.rows, (await local.readRange({ crypto })).rows)
  }
  const s = cache.stats()
  assert.ok(s.evictions > 0, JSON.stringify(s))
  assert.ok(s.bytes <= 64 * 1024, JSON.stringify(s))
  const files = (await readdir(cacheDir)).filter((f) => f.endsWith('.parquet'))
  assert.equal(files.length, s.files)
  engine.close()
})

test('a remote warehouse without a read cache is refused with a clear error', async () => {
  const warehouse = await openWarehouse(new MemoryStore())
  await generateHistory(warehouse.quotes, { ...HISTORY, days: 1, assets: 1 })
  const engine = new QueryEngine({ table: warehouse.quotes, duckdb })
  await assert.rejects(engine.readRange({ crypto: 'bitcoin' }), /needs a read cache/)
  engine.close()
})
