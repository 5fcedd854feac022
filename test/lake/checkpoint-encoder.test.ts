/**
 * The shredding checkpoint encoder (checkpoint-encoder.ts) against the writer it replaced
 * (hyparquet-writer, test/lake/reference-checkpoint-writer.ts): for random states — tombstones
 * with and without their optional fields, txns, metadata and protocol variants, null and empty
 * maps, multi-byte paths and values, stats larger than the encoder's initial buffers — both
 * files decode to the same actions, with our column-wise decoder and with hyparquet's row reader.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parquetMetadata } from 'hyparquet'
import type { AddFile, Metadata, Protocol, RemoveFile, Txn } from '../../src/lake/actions.ts'
import {
  decodeCheckpoint,
  decodeCheckpointByRows,
  encodeCheckpoint,
  type CheckpointState,
} from '../../src/lake/checkpoint.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { referenceCheckpoint } from './reference-checkpoint-writer.ts'

const WORDS = ['btc', 'eth', 'é', '日本', '🚀', 'a b', 'x=y', '', '"q"', '\\', 'ñandú', '%2F']

function randomState(seed: number, files: number): CheckpointState {
  // Seeded, so a failure names a reproducible seed.
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const maybe = <T>(p: number, v: () => T): T | undefined => (rnd() < p ? v() : undefined)
  const word = (): string => pick(WORDS) + pick(WORDS)
  const map = (): Record<string, string | null> => {
    const out: Record<string, string | null> = {}
    const n = Math.floor(rnd() * 3)
    for (let i = 0; i < n; i++) out[`k${i}${word()}`] = rnd() < 0.2 ? null : word()
    return out
  }
  const tags = (): Record<string, string> => {
    const out: Record<string, string> = {}
    for (let i = 0; i < 1 + Math.floor(rnd() * 2); i++) out[`t${i}`] = word()
    return out
  }
  const stats = (i: number): string => {
    // Mostly quote-like stats; a few far larger than a page buffer's first size (64 KiB).
    const width = rnd() < 0.05 ? 3_000 : 3
    const keys = Array.from({ length: width }, (_, k) => `c${k}${k === 0 ? word() : ''}`)
    const values = (f: (k: number) => unknown) => Object.fromEntries(keys.map((k, j) => [k, f(j)]))
    return JSON.stringify({
      numRecords: i,
      minValues: values((j) => j * 0.5),
      maxValues: values((j) => `${word()}${j}`),
      nullCount: values(() => 0),
    })
  }
  const adds: AddFile[] = Array.from({ length: files }, (_, i) => {
    const a: AddFile = {
      path: `p=${word()}/part-${i}-${word()}.parquet`,
      partitionValues: rnd() < 0.1 ? {} : map(),
      size: Math.floor(rnd() * 2 ** 40),
      modificationTime: 1_700_000_000_000 + Math.floor(rnd() * 1e9),
      dataChange: rnd() < 0.5,
    }
    if (rnd() < 0.9) a.stats = stats(i)
    const t = maybe(0.2, tags)
    if (t !== undefined) a.tags = t
    return a
  })
  const removes: RemoveFile[] = Array.from({ length: Math.floor(files / 3) }, (_, i) => {
    const r: RemoveFile = { path: `gone/${word()}-${i}.parquet`, dataChange: true }
    const ts = maybe(0.8, () => 1_700_000_000_000 + i)
    if (ts !== undefined) r.deletionTimestamp = ts
    const ext = maybe(0.7, () => rnd() < 0.5)
    if (ext !== undefined) r.extendedFileMetadata = ext
    const pv = maybe(0.6, map)
    if (pv !== undefined) r.partitionValues = pv
    const size = maybe(0.6, () => Math.floor(rnd() * 1e9))
    if (size !== undefined) r.size = size
    const t = maybe(0.2, tags)
    if (t !== undefined) r.tags = t
    return r
  })
  const txns: Txn[] = Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => {
    const t: Txn = { appId: `app-${word()}-${i}`, version: Math.floor(rnd() * 1e12) }
    const lu = maybe(0.5, () => 1_700_000_000_000 + i)
    if (lu !== undefined) t.lastUpdated = lu
    return t
  })
  const metadata: Metadata = {
    id: `id-${seed}`,
    name: rnd() < 0.5 ? null : word(),
    description: rnd() < 0.5 ? null : word(),
    format: { provider: 'parquet', options: rnd() < 0.5 ? {} : { o: word() } },
    schemaString: '{"type":"struct","fields":[]}',
    partitionColumns: rnd() < 0.3 ? [] : ['p', word()],
    createdTime: rnd() < 0.3 ? null : 1_699_999_999_999,
    configuration: rnd() < 0.3 ? {} : { 'delta.checkpointInterval': '10', [word()]: word() },
  }
  const protocol: Protocol =
    rnd() < 0.5
      ? { minReaderVersion: 1, minWriterVersion: 2 }
      : {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: rnd() < 0.3 ? [] : ['timestampNtz'],
          writerFeatures: ['timestampNtz', 'appendOnly'],
        }
  return { version: seed, protocol, metadata, adds, removes, txns }
}

test('the shredding encoder decodes to the same actions as the hyparquet-writer checkpoint, for random states', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const s = randomState(seed, 20 + seed * 15)
    for (const groupRows of [1, 7, 1024]) {
      const ours = encodeCheckpoint(s, groupRows)
      const reference = referenceCheckpoint(s, groupRows)
      const where = `seed ${seed}, row groups of ${groupRows}`
      const expected = await decodeCheckpoint(reference)
      assert.equal(expected.length, 2 + s.txns.length + [...s.adds].length + [...s.removes].length, where)
      assert.deepEqual(await decodeCheckpoint(ours), expected, where)
      assert.deepEqual(await decodeCheckpointByRows(ours), await decodeCheckpointByRows(reference), where)
      assert.equal(
        parquetMetadata(ours.buffer as ArrayBuffer).row_groups.length,
        Math.ceil(expected.length / groupRows),
        where,
      )
    }
  }
})

test('an empty state (protocol and metadata only) and a state of one huge stats text round-trip', async () => {
  const base = randomState(99, 0)
  const empty = { ...base, removes: [], txns: [] }
  assert.deepEqual(
    await decodeCheckpoint(encodeCheckpoint(empty)),
    await decodeCheckpoint(referenceCheckpoint(empty)),
  )
  const huge: AddFile = {
    path: 'p=日本/🚀.parquet',
    partitionValues: { p: '日本' },
    size: 1,
    modificationTime: 2,
    dataChange: true,
    stats: JSON.stringify({ numRecords: 1, minValues: { s: 'é'.repeat(3_000_000) } }),
  }
  const one = { ...empty, adds: [huge] }
  const [, , decoded] = await decodeCheckpoint(encodeCheckpoint(one))
  assert.deepEqual(decoded, { add: { ...huge, dataChange: false } })
})

test('an INT64 field that is no safe integer is refused, not silently changed', () => {
  const base = randomState(5, 1)
  const bad = { ...base, adds: [{ ...[...base.adds][0]!, size: 2 ** 60 }] }
  assert.throws(() => encodeCheckpoint(bad), RangeError)
})
