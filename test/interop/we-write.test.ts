/**
 * We write a quotes table (appends, a delete that removes a file, our own checkpoint); delta-rs
 * reads every version and DuckDB's delta extension the latest, and both see exactly the rows we
 * wrote — also once the JSON commits before our checkpoint are gone, so that the checkpoint alone
 * carries the older state.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DeltaTable, type Row } from '../../src/lake/index.ts'
import { decodeCheckpoint } from '../../src/lake/checkpoint.ts'
import { readRows } from '../../src/lake/scan.ts'
import type { Quote } from '../../src/model/quote.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import { freshBucket, MOTO_CREDENTIALS } from '../harness/moto-server.ts'
import { assertSameView, ourHistory, readWithOurs } from '../harness/compare-tables.ts'
import { canonicalRows, readWithDuckDb, readWithDeltaRs, sortCanonical } from '../harness/delta-rs.ts'

const FIELDS = QUOTES_SCHEMA.fields.map((f) => f.name)
const HOUR_US = 3_600_000_000

function quotes(start: number, n: number): Quote[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k
    const ts = Date.UTC(2024, 0, 30) * 1000 + i * 7 * HOUR_US + 123_456 // crosses a month boundary
    return {
      ts,
      source: i % 3 === 0 ? 'coincap' : 'coingecko',
      crypto: ['bitcoin', 'ethereum', 'solana'][i % 3]!,
      symbol: ['BTC', 'ETH', 'SOL'][i % 3]!,
      name: ['Bitcoin', 'Ethereum', 'Solana'][i % 3]!,
      price_usd: 100 + i * 0.01,
      market_cap_usd: i % 4 === 0 ? null : 1e12 + i,
      volume_24h_usd: 5e9 / (i + 1),
      change_1h_pct: i % 5 === 0 ? null : -0.5 + i / 100,
      change_24h_pct: 1.25,
      change_7d_pct: null,
      circulating_supply: 19_000_000 + i,
      total_supply: null,
      max_supply: 21_000_000,
      rank: i % 7 === 0 ? null : (i % 3) + 1,
      ingested_at: ts + 2_000_000,
    }
  })
}

const rowsOf = (qs: Quote[]): Row[] => qs.map(quoteToRow)

const BATCHES: readonly (readonly [number, number])[] = [
  [0, 10],
  [10, 25],
  [35, 8],
  [43, 12],
]

/** Version 0 creates the table, each batch appends one version, then (unless `upTo`) a delete. */
async function writeTable(
  dir: string | ObjectStore,
  o: { upTo?: number; checkpointInterval: number },
): Promise<{ expected: Row[][]; table: DeltaTable }> {
  const store = typeof dir === 'string' ? new LocalStore(dir) : dir
  const table = await DeltaTable.create(store, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
    configuration: { 'delta.checkpointInterval': String(o.checkpointInterval) },
  })
  // expected[v] = the rows of version v
  const expected: Row[][] = [[]]
  let live: Row[] = []
  for (const [start, n] of BATCHES.slice(0, o.upTo)) {
    const batch = rowsOf(quotes(start, n))
    const r = await table.append(batch, {
      sortBy: QUOTES_SORT_BY,
      txn: { appId: 'writer-1', version: start },
    })
    assert.equal(r.status, 'committed')
    if (r.status === 'committed' && r.version % o.checkpointInterval === 0) {
      assert.deepEqual(r.checkpoint, { status: 'written', version: r.version })
    }
    live = [...live, ...batch]
    expected.push(live)
  }
  if (o.upTo !== undefined) return { expected, table }
  // Delete one file: a remove with dataChange, so delta-rs must drop its rows.
  const snap = await table.snapshot()
  const victim = snap.files().find((f) => f.partitionValues.crypto === 'solana')!
  const victimRows = await readRows(store, snap, { files: [victim] })
  const c = await table.commit([{ remove: { path: victim.path, dataChange: true } }], { operation: 'DELETE' })
  assert.equal(c.status, 'committed')
  if (c.status === 'committed' && c.version % o.checkpointInterval === 0) {
    assert.deepEqual(c.checkpoint, { status: 'written', version: c.version })
  }
  const gone = new Set(victimRows.map((r) => `${String(r.crypto)}/${String(r.source)}/${String(r.ts)}`))
  assert.ok(gone.size > 0)
  expected.push(live.filter((r) => !gone.has(`${String(r.crypto)}/${String(r.source)}/${String(r.ts)}`)))
  return { expected, table }
}

test('delta-rs reads every version of a table we wrote, with our rows and history', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-we-write-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  // Interval 5: the checkpoint at version 5 holds the delete's tombstone.
  const { expected } = await writeTable(dir, { checkpointInterval: 5 })
  const store = new LocalStore(dir)
  const checkpoint = await decodeCheckpoint(
    await store.get('_delta_log/00000000000000000005.checkpoint.parquet'),
  )
  assert.equal(checkpoint.filter((a) => 'remove' in a).length, 1)
  const theirs = await readWithDeltaRs(dir)
  assert.deepEqual(theirs.history, [0, 1, 2, 3, 4, 5])
  assert.deepEqual(await ourHistory(store), theirs.history)
  for (const v of theirs.versions) {
    assert.ok(
      v.ok && v.rows !== null,
      `delta-rs reads version ${v.version}: ${JSON.stringify(v).slice(0, 300)}`,
    )
    assert.deepEqual(
      sortCanonical(v.rows),
      canonicalRows(expected[v.version]!, FIELDS),
      `rows at version ${v.version}`,
    )
    assertSameView(await readWithOurs(store, v.version), v, `ours@${v.version}`)
  }
})

test('delta-rs reads every version of a table we wrote to S3, straight from the S3 server', async () => {
  const { store, bucket, endpoint } = await freshBucket({ prefix: 'warehouse/quotes' })
  const { expected } = await writeTable(store, { checkpointInterval: 3 })
  const theirs = await readWithDeltaRs(`s3://${bucket}/warehouse/quotes`, undefined, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ALLOW_HTTP: 'true',
  })
  assert.deepEqual(theirs.history, [0, 1, 2, 3, 4, 5])
  assert.deepEqual(await ourHistory(store), theirs.history)
  for (const v of theirs.versions) {
    assert.ok(
      v.ok && v.rows !== null,
      `delta-rs reads version ${v.version}: ${JSON.stringify(v).slice(0, 300)}`,
    )
    assert.deepEqual(
      sortCanonical(v.rows),
      canonicalRows(expected[v.version]!, FIELDS),
      `rows at version ${v.version}`,
    )
    assertSameView(await readWithOurs(store, v.version), v, `ours@${v.version}`)
  }
})

test('with the commits before our checkpoint deleted, delta-rs and DuckDB still read the table', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-we-write-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const { expected } = await writeTable(dir, { checkpointInterval: 3 })
  const store = new LocalStore(dir)
  assert.ok(await store.head('_delta_log/00000000000000000003.checkpoint.parquet'))
  // Keep 3.json (as log cleanup does), drop 0..2: the files added by versions 1..3 are known
  // only through our checkpoint.
  for (const v of [0, 1, 2]) await store.delete(`_delta_log/${String(v).padStart(20, '0')}.json`)

  const theirs = await readWithDeltaRs(dir, [3, 4, 5])
  for (const v of theirs.versions) {
    assert.ok(
      v.ok && v.rows !== null,
      `delta-rs reads version ${v.version}: ${JSON.stringify(v).slice(0, 300)}`,
    )
    assert.deepEqual(
      sortCanonical(v.rows),
      canonicalRows(expected[v.version]!, FIELDS),
      `delta-rs rows at ${v.version}`,
    )
    assertSameView(await readWithOurs(store, v.version), v, `ours@${v.version}`)
  }
  const duck = await readWithDuckDb(dir, FIELDS)
  assert.deepEqual(
    sortCanonical(duck),
    canonicalRows(expected[5]!, FIELDS),
    'DuckDB rows at the latest version',
  )
})

test('delta-rs and DuckDB read a table whose latest state is only in our checkpoint', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-we-write-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const { expected } = await writeTable(dir, { upTo: 3, checkpointInterval: 3 })
  const store = new LocalStore(dir)
  for (const v of [0, 1, 2]) await store.delete(`_delta_log/${String(v).padStart(20, '0')}.json`)
  const theirs = await readWithDeltaRs(dir, [3])
  assert.equal(theirs.latest, 3)
  const v3 = theirs.versions[0]!
  assert.ok(v3.ok && v3.rows !== null, JSON.stringify(v3).slice(0, 300))
  assert.deepEqual(sortCanonical(v3.rows), canonicalRows(expected[3]!, FIELDS))
  assertSameView(await readWithOurs(store), v3, 'ours@latest')
  assert.deepEqual(sortCanonical(await readWithDuckDb(dir, FIELDS)), canonicalRows(expected[3]!, FIELDS))
})
