import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AddFile } from '../../src/lake/index.ts'
import { PartitionIndex, type PartitionSet } from '../../src/lake/partition-index.ts'
import { Snapshot, type FileFilter } from '../../src/lake/snapshot.ts'
import { StateBuilder } from '../../src/lake/table-state.ts'
import { schemaToString } from '../../src/lake/schema-json.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { SMALL_SCHEMA, T0 } from './lake-fixtures.ts'

const SECOND = 1_000_000
/** Partition values a random file may have: missing, empty and null are all "null" to filters. */
const CRYPTO_VALUES = ['bitcoin', 'ethereum', 'solana', 'dogecoin', '', null, undefined] as const
const SOURCE_VALUES = ['coingecko', 'simulated', null] as const

function randomFiles(seed: number, n: number): AddFile[] {
  const rng = mulberry32(seed)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!
  return Array.from({ length: n }, (_, i) => {
    const partitionValues: Record<string, string | null> = { source: pick(SOURCE_VALUES) }
    const crypto = pick(CRYPTO_VALUES)
    if (crypto !== undefined) partitionValues['crypto'] = crypto
    const min = T0 + Math.floor(rng() * 1000) * SECOND
    const max = min + Math.floor(rng() * 100) * SECOND
    const withStats = rng() > 0.1
    return {
      path: `f-${i}.parquet`,
      partitionValues,
      size: 100,
      modificationTime: 0,
      dataChange: true,
      ...(withStats && {
        stats: JSON.stringify({
          numRecords: 2,
          minValues: { ts: new Date(min / 1000).toISOString(), price: min % 1000 },
          maxValues: { ts: new Date(max / 1000).toISOString(), price: (max % 1000) + 5 },
          nullCount: { ts: 0, price: 0 },
        }),
      }),
    }
  })
}

/** The filter every file goes through without an index: the reference the index must equal. */
const linearMatch = (f: AddFile, sets: readonly PartitionSet[]): boolean =>
  sets.every(([col, values]) => {
    const v = f.partitionValues[col]
    return values.has(v === undefined || v === '' ? null : v)
  })

function randomSets(rng: () => number): PartitionSet[] {
  const subset = (values: readonly (string | null | undefined)[]): Set<string | null> =>
    new Set(
      values
        .filter((v) => v !== undefined && rng() < 0.4)
        .map((v) => (v === '' ? null : (v as string | null))),
    )
  const sets: PartitionSet[] = []
  if (rng() < 0.8) sets.push(['crypto', subset(CRYPTO_VALUES)])
  if (rng() < 0.5) sets.push(['source', subset(SOURCE_VALUES)])
  if (rng() < 0.1) sets.push(['absent', new Set(rng() < 0.5 ? [null] : ['x'])])
  return sets
}

test('the partition index returns exactly what the linear filter keeps, in file order (seeded, 300 cases)', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const files = randomFiles(seed, 50 + seed * 7)
    const index = new PartitionIndex(files)
    const rng = mulberry32(seed * 1000)
    for (let q = 0; q < 10; q++) {
      const sets = randomSets(rng)
      const expected = files.filter((f) => linearMatch(f, sets))
      assert.deepEqual(
        index.candidates(sets).map((f) => f.path),
        expected.map((f) => f.path),
        `seed ${seed}, query ${q}: ${JSON.stringify(sets.map(([c, v]) => [c, [...v]]))}`,
      )
    }
  }
})

test('filesFor with pinned partitions equals the linear filter over partitions and stats ranges (seeded)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const files = randomFiles(seed, 200)
    const b = StateBuilder.empty()
    b.applyCommit(
      [
        { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
        {
          metaData: {
            id: 'partition-index-test',
            format: { provider: 'parquet', options: {} },
            schemaString: schemaToString(SMALL_SCHEMA),
            partitionColumns: ['crypto', 'source'],
            configuration: {},
          },
        },
        ...files.map((add) => ({ add })),
      ],
      0,
      0,
    )
    const snapshot = new Snapshot(b.finish())
    const rng = mulberry32(seed * 77)
    for (let q = 0; q < 15; q++) {
      const sets = randomSets(rng)
      const lo = T0 + Math.floor(rng() * 1100) * SECOND
      const ranges: FileFilter['ranges'] = {
        ts: { min: lo, max: lo + Math.floor(rng() * 200) * SECOND },
        ...(rng() < 0.3 && { price: { min: Math.floor(rng() * 500) } }),
      }
      const partitions = Object.fromEntries(sets.map(([c, v]) => [c, [...v]]))
      // Ranges only never use the index (no partition is pinned): the linear reference.
      const expected = snapshot.filesFor({ ranges }).filter((f) => linearMatch(f, sets))
      assert.deepEqual(
        snapshot.filesFor({ partitions, ranges }).map((f) => f.path),
        expected.map((f) => f.path),
        `seed ${seed}, query ${q}`,
      )
    }
  }
})

test('an index answers a value no file has, and an empty value list, with no files', () => {
  const files = randomFiles(3, 40)
  const index = new PartitionIndex(files)
  assert.deepEqual(index.candidates([['crypto', new Set(['cardano'])]]), [])
  assert.deepEqual(index.candidates([['crypto', new Set()]]), [])
  assert.equal(index.candidates([]).length, files.length)
})
