/**
 * A small generated warehouse for the query tests: 8 simulated assets × 3 days at 300 s (one
 * commit per day), then a second source, `coingecko`, appended as two more commits: a copy of the
 * simulated quotes of the last two days with slightly different prices and every fifth quote
 * missing, one asset shifted by 2 minutes (so its newest quote is coingecko's) and one asset only
 * coingecko has. Plus two dead letters.
 *
 * Also the brute-force reader the references start from: DuckDB over ALL files of a snapshot,
 * no pruning, partition values taken from the add actions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateHistory } from '../../src/cli/generate.ts'
import { dataFilePath, type DeltaTable, type Snapshot } from '../../src/lake/index.ts'
import { deadLetterToRow } from '../../src/model/dead-letter-table.ts'
import { QUOTE_FIELDS, type Quote } from '../../src/model/quote.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../../src/model/quote-table.ts'
import { DuckDb, sqlString } from '../../src/query/index.ts'
import { openWarehouse, type Warehouse } from '../../src/runtime/warehouse.ts'
import { LocalStore } from '../../src/storage/local-store.ts'

export const DAY = 86_400_000_000
export const HOUR = 3_600_000_000
export const END = Date.UTC(2024, 0, 10) * 1000
export const START = END - 3 * DAY

export interface Fixture {
  dir: string
  warehouse: Warehouse
  duckdb: DuckDb
  /** Every table version with data, oldest first. */
  versions: number[]
  close(): void
}

/** `prefix`: the temp folder's name prefix (a `key=value` one stops DuckDB's hive reading). */
export async function quoteFixture(o: { prefix?: string } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? 'cryptoviz-query-'))
  const warehouse = await openWarehouse(new LocalStore(dir))
  const duckdb = await DuckDb.open({ threads: 1, poolSize: 2 })
  await generateHistory(warehouse.quotes, {
    assets: 8,
    days: 3,
    intervalSeconds: 300,
    seed: 42,
    end: END,
    compression: 'snappy',
  })
  const simulated = (await allRows(duckdb, warehouse.quotes, await warehouse.quotes.snapshot())).sort(
    (a, b) => (a.crypto < b.crypto ? -1 : a.crypto > b.crypto ? 1 : a.ts - b.ts),
  )
  const cryptos = [...new Set(simulated.map((q) => q.crypto))].sort()
  const shifted = cryptos[1]!
  const copies = simulated
    .filter((q, i) => q.ts >= START + DAY && i % 5 !== 0)
    .map((q, i) => ({
      ...q,
      source: 'coingecko',
      ts: q.crypto === shifted ? q.ts + 120_000_000 : q.ts,
      price_usd: q.price_usd * (1 + 0.003 * Math.sin(i)),
      ingested_at: q.ingested_at + 1_000_000,
    }))
  for (let i = 0; i < 24 * 12 * 2; i += 7) {
    copies.push({
      ...simulated[0]!,
      crypto: 'cg-only',
      symbol: 'CGO',
      name: 'CG Only',
      source: 'coingecko',
      ts: START + DAY + i * 300_000_000,
      price_usd: 2 + i / 100,
    })
  }
  for (const day of [START + DAY, START + 2 * DAY]) {
    const batch = copies.filter((q) => q.ts >= day && q.ts < day + DAY)
    await warehouse.quotes.append(batch.map(quoteToRow), { sortBy: QUOTES_SORT_BY, operation: 'WRITE' })
  }
  await warehouse.deadLetters.append(
    [
      {
        source: 'coingecko',
        reason: 'price_missing',
        detail: 'no price',
        raw: { id: 'x' },
        received_at: END - HOUR,
      },
      {
        source: 'simulated',
        reason: 'shape_invalid',
        detail: 'bad',
        raw: 'oops',
        received_at: END - 2 * HOUR,
      },
    ].map(deadLetterToRow),
  )
  const history = await warehouse.quotes.history()
  const versions = history
    .map((h) => h.version)
    .filter((v) => v > 0)
    .sort((a, b) => a - b)
  return {
    dir,
    warehouse,
    duckdb,
    versions,
    close: () => {
      duckdb.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Every row of a snapshot: all files, no pruning, partition values from the add actions. */
export async function allRows(duckdb: DuckDb, table: DeltaTable, snapshot: Snapshot): Promise<Quote[]> {
  const files = snapshot.files()
  if (files.length === 0) return []
  const partitions = new Map(files.map((f) => [table.store.localPath(dataFilePath(f))!, f.partitionValues]))
  const rows = await duckdb.all(
    `SELECT * EXCLUDE (ts, ingested_at), epoch_us(ts) AS ts, epoch_us(ingested_at) AS ingested_at
     FROM read_parquet([${[...partitions.keys()].map(sqlString).join(', ')}], filename = true, union_by_name = true)`,
  )
  return rows.map((r) => {
    const p = partitions.get(r['filename'] as string)!
    const q: Record<string, unknown> = {}
    for (const f of QUOTE_FIELDS) {
      const v = f === 'source' || f === 'crypto' ? p[f] : r[f]
      q[f] = typeof v === 'bigint' ? Number(v) : (v ?? null)
    }
    return q as unknown as Quote
  })
}

/** mulberry32: a small seeded PRNG so the property tests are reproducible. */
export function seeded(seed: number): {
  next: () => number
  int: (lo: number, hi: number) => number
  pick: <T>(xs: readonly T[]) => T
} {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  return { next, int, pick: (xs) => xs[int(0, xs.length - 1)]! }
}
