import assert from 'node:assert/strict'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'node:test'
import type { AddFile } from '../../src/lake/actions.ts'
import { readCheckpoint } from '../../src/lake/checkpoint.ts'
import {
  comparable,
  fileStats,
  parseStats,
  recordCount,
  statBound,
  statValueOf,
} from '../../src/lake/file-stats.ts'
import { DeltaTable, type Snapshot } from '../../src/lake/index.ts'
import { readCommit } from '../../src/lake/log-replay.ts'
import { listLog, segmentFor } from '../../src/lake/log-segment.ts'
import { packedStatsOf } from '../../src/lake/packed-add.ts'
import {
  NUMBERS,
  packStats,
  packStatsByParsing,
  scanStats,
  SHAPE,
  statsObject,
  statsText,
  STRINGS,
  type PackedStats,
} from '../../src/lake/packed-stats.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import type { ObjectStore } from '../../src/storage/object-store.ts'
import { GOLDEN_MISSING, goldenDir } from '../harness/golden.ts'
import { smallRows, SMALL_SCHEMA, T0, streamingQuotesTable } from './lake-fixtures.ts'

/**
 * The old representation: every live file's `add` exactly as the log wrote it (checkpoint rows,
 * then each later commit), replayed naively into a plain Map without any compaction.
 */
async function rawAdds(store: ObjectStore, version: number): Promise<Map<string, AddFile>> {
  const segment = segmentFor(await listLog(store), version)
  const live = new Map<string, AddFile>()
  const apply = (actions: Awaited<ReturnType<typeof readCommit>>) => {
    for (const a of actions) {
      if ('add' in a) live.set(decodeURIComponent(a.add.path), a.add)
      else if ('remove' in a) live.delete(decodeURIComponent(a.remove.path))
    }
  }
  if (segment.checkpoint) apply(await readCheckpoint(store, segment.checkpoint))
  for (const c of segment.commits) apply(await readCommit(store, c.version))
  return live
}

/** Asserts the snapshot's files equal the raw log's, stats text and decoded stats included. */
async function assertEqualToLog(store: ObjectStore, snapshot: Snapshot): Promise<{ packed: number }> {
  const raw = await rawAdds(store, snapshot.version)
  assert.equal(snapshot.files().length, raw.size)
  let packed = 0
  for (const [key, f] of snapshot.state.adds) {
    const old = raw.get(key)
    assert.ok(old, `${key} is live in the log`)
    // As the old state held it: dataChange aside (a checkpoint records false), field by field.
    assert.deepEqual({ ...f, dataChange: old.dataChange }, old)
    assert.equal(f.stats, old.stats)
    assert.deepEqual(
      JSON.parse(JSON.stringify(f)),
      JSON.parse(JSON.stringify({ ...old, dataChange: f.dataChange })),
    )
    assert.deepEqual(fileStats(f), parseStats(old.stats))
    assert.equal(recordCount(f), parseStats(old.stats)?.numRecords)
    const parsed = parseStats(old.stats)
    for (const field of snapshot.schema.fields) {
      for (const which of ['minValues', 'maxValues'] as const) {
        assert.deepEqual(
          statBound(f, which, field.name, field.type),
          comparable(field.type, parsed?.[which]?.[field.name]),
          `${key} ${which}.${field.name}`,
        )
        assert.deepEqual(statValueOf(f, which, field.name), parsed?.[which]?.[field.name])
      }
    }
    if (packedStatsOf(f) !== undefined) packed++
  }
  return { packed }
}

test('packed stats regenerate our quotes tables stats text exactly, pack every file and prune alike', async () => {
  const store = new MemoryStore()
  await streamingQuotesTable(store, { assets: 12, days: 0.05, seed: 7 })
  // A fresh load reads the checkpoint written at version 10, then the later commits.
  const snapshot = await (await DeltaTable.open(store)).snapshot()
  assert.ok(snapshot.version > 10)
  const { packed } = await assertEqualToLog(store, snapshot)
  assert.equal(packed, snapshot.files().length, 'every file our writer wrote is packed')
})

test('the small lake table (nulls, strings, timestamps) round-trips through packing at every version', async () => {
  const store = new MemoryStore()
  const table = await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  for (let i = 0; i < 12; i++) {
    await table.append(smallRows(i % 4, { crypto: i % 2 ? 'ether' : 'bitcoin', start: i * 10 }))
    const s = await table.snapshot()
    await assertEqualToLog(store, s)
  }
  assert.ok(T0 > 0)
})

test('golden tables written by Spark and delta-rs load with stats equal to their logs', async (t) => {
  const dir = goldenDir()
  if (dir === undefined) return t.skip(GOLDEN_MISSING)
  let tables = 0
  for (const name of readdirSync(dir)) {
    if (!existsSync(join(dir, name, '_delta_log'))) continue
    const store = new LocalStore(join(dir, name))
    let snapshot: Snapshot
    try {
      snapshot = await (await DeltaTable.open(store)).snapshot()
    } catch {
      continue // tables our reader refuses (deletion vectors, column mapping…) are tested elsewhere
    }
    await assertEqualToLog(store, snapshot)
    tables++
    t.diagnostic(`${name}: ${snapshot.files().length} files`)
  }
  assert.ok(tables >= 10, `only ${tables} golden tables loaded`)
})

test('stats texts that would not print back the same are kept as text, never altered', () => {
  const kept = [
    '{"numRecords":1,"minValues":{"a":1.0},"maxValues":{"a":1.0},"nullCount":{"a":0}}',
    '{"numRecords": 1}',
    '{"numRecords":1,"minValues":{"s":{"x":1}},"maxValues":{},"nullCount":{}}',
    '{"numRecords":1,"tightBounds":true}',
    '{"minValues":{"a":1},"numRecords":1}',
    '{"numRecords":1,"minValues":{"t":"2024-01-01T00:00:00.000+00:00"},"maxValues":{"t":null}}',
    '{"numRecords":1,"minValues":{"a":1e21},"maxValues":{"a":-0}}',
    'not json',
  ]
  for (const text of kept) {
    const p = packStats(text)
    assert.ok(p === undefined || statsText(p) === text, text)
  }
  assert.equal(packStats('{"numRecords":1,"minValues":{"a":1.0}}'), undefined)
  const packable = [
    '{"numRecords":3,"minValues":{"t":"2024-01-01T00:00:00.123Z","s":"a\\"b","n":-1.5},"maxValues":{"t":"2024-02-29T23:59:59.999Z","s":"zz","n":1e-7},"nullCount":{"t":0,"s":1,"n":2}}',
    '{"numRecords":0,"minValues":{},"maxValues":{},"nullCount":{}}',
    '{"numRecords":1,"minValues":{"t":"1969-12-31T23:59:59.999Z"},"maxValues":{"t":"1969-12-31T23:59:59.999Z"},"nullCount":{"t":0}}',
    '{"numRecords":1,"minValues":{"d":"2024-01-01"},"maxValues":{"d":"2024-01-01"},"nullCount":{"d":0}}',
  ]
  for (const text of packable) {
    const p = packStats(text)
    assert.ok(p !== undefined, text)
    assert.equal(statsText(p), text)
  }
})

test('string values are kept by id in the string table, and in their own array once the table is full', () => {
  const text = (i: number) =>
    `{"numRecords":2,"minValues":{"s":"name-${i}","n":${i}},"maxValues":{"s":"zz-${i}","n":${i + 1}},"nullCount":{"s":0,"n":0}}`
  const packings: { text: string; packed: PackedStats }[] = []
  // 2 new strings per file: the 100,000-string table fills after 50,000 files.
  for (let i = 0; i < 50_100; i++) {
    const t = text(i)
    const packed = packStats(t)
    assert.ok(packed !== undefined, t)
    if (i % 997 === 0 || i >= 49_990) packings.push({ text: t, packed })
  }
  const byId = packings.filter((p) => p.packed[STRINGS].length === 0)
  const byArray = packings.filter((p) => p.packed[STRINGS].length > 0)
  assert.ok(byId.length > 40 && byArray.length > 50, `${byId.length} by id, ${byArray.length} by array`)
  // Numbers: numRecords, n min, n max, then the two string ids (by id) or nothing more.
  assert.equal(byId[0]!.packed[NUMBERS].length, 5)
  assert.equal(byArray[0]!.packed[NUMBERS].length, 3)
  for (const { text: t, packed } of packings) {
    assert.equal(statsText(packed), t)
    assert.deepEqual(statsObject(packed), JSON.parse(t))
  }
  // A string already in the table still packs by id when the table is full.
  assert.equal(packStats(text(1))![STRINGS].length, 0)
})

/**
 * The scan, when it decides, returns the reference's packing (same shape object, numbers equal
 * by Object.is, same strings) and the text prints back exactly; a text the reference refuses is
 * never decided. Returns whether the scan decided.
 */
function assertScanAgrees(text: string): boolean {
  const reference = packStatsByParsing(text)
  const scanned = scanStats(text)
  if (scanned === undefined) return false
  assert.ok(reference !== undefined, `the scan packed a text the reference refuses: ${text}`)
  assert.equal(scanned[SHAPE], reference[SHAPE], text)
  const a = scanned[NUMBERS]
  const b = reference[NUMBERS]
  assert.equal(a.length, b.length, text)
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${text}: slot ${i} ${a[i]} ≠ ${b[i]}`)
  assert.deepEqual([...scanned[STRINGS]], [...reference[STRINGS]], text)
  assert.equal(statsText(scanned), text)
  return true
}

/** A random double over many magnitudes, or an integer, or a random bit pattern. */
function randomDouble(rng: () => number): number {
  const pick = rng()
  if (pick < 0.15) return Math.round((rng() - 0.5) * 10 ** Math.floor(rng() * 18))
  if (pick < 0.25) {
    const bytes = new DataView(new ArrayBuffer(8))
    bytes.setUint32(0, Math.floor(rng() * 2 ** 32))
    bytes.setUint32(4, Math.floor(rng() * 2 ** 32))
    const x = bytes.getFloat64(0)
    return Number.isFinite(x) ? x : 1.5
  }
  return (rng() - 0.5) * 10 ** (Math.floor(rng() * 30) - 8)
}

/** A spelling of `x`: mostly the canonical one, else one `String` would not print. */
function numberToken(x: number, rng: () => number): string {
  const pick = rng()
  const canonical = String(x)
  if (pick < 0.6) return canonical
  if (pick < 0.7) return x.toPrecision(17)
  if (pick < 0.78) return x.toPrecision(16)
  if (pick < 0.84) return x.toPrecision(15)
  if (pick < 0.88) return canonical.includes('.') ? `${canonical}0` : `${canonical}.0`
  if (pick < 0.9) return x.toExponential()
  if (pick < 0.92) return '-0'
  // Neighbours in the last printed digit: near-shortest forms that name another decimal.
  const m = /^(-?\d+\.\d*)(\d)$/.exec(canonical)
  if (m === null) return canonical
  const last = Number(m[2])
  return `${m[1]}${pick < 0.96 ? (last + 1) % 10 : Math.max(1, last - 1)}`
}

function randomTimestamp(rng: () => number): string {
  const ms = Math.floor((rng() - 0.3) * 4e12)
  const iso = new Date(ms).toISOString()
  const pick = rng()
  if (pick < 0.85) return iso
  // Out-of-range fields Date.parse may still accept (and print back differently).
  const broken = ['2023-02-29', '2024-02-30', '2024-04-31', '0999-01-01', '2024-13-01', '2024-00-10']
  if (pick < 0.93) return `${broken[Math.floor(rng() * broken.length)]}${iso.slice(10)}`
  return `${iso.slice(0, 11)}${pick < 0.96 ? '24:00:00.000Z' : '23:60:00.000Z'}`
}

const STRING_VALUES = [
  'BTC',
  'Bitcoin',
  'a"b',
  'tab\there',
  'é',
  '😀',
  'x'.repeat(40),
  '',
  '2024-01-01T00:00:00.000Z',
]

function randomStatsText(
  rng: () => number,
  columns: readonly { name: string; kind: 'n' | 't' | 's' }[],
): string {
  const value = (kind: 'n' | 't' | 's'): string => {
    if (kind === 'n') return numberToken(randomDouble(rng), rng)
    if (kind === 't') return JSON.stringify(randomTimestamp(rng))
    return JSON.stringify(STRING_VALUES[Math.floor(rng() * STRING_VALUES.length)])
  }
  const min: string[] = []
  const max: string[] = []
  const nulls: string[] = []
  const oneRow = rng() < 0.2
  const noNulls = rng() < 0.5
  for (const c of columns) {
    const key = JSON.stringify(c.name)
    const v = value(c.kind)
    min.push(`${key}:${v}`)
    max.push(`${key}:${oneRow ? v : value(c.kind)}`)
    nulls.push(`${key}:${noNulls ? 0 : Math.floor(rng() * 3)}`)
  }
  return `{"numRecords":${Math.floor(rng() * 2000)},"minValues":{${min.join(',')}},"maxValues":{${max.join(',')}},"nullCount":{${nulls.join(',')}}}`
}

test('the scan packs exactly as the reference over random stats texts, canonical or not', () => {
  const rng = mulberry32(2026)
  const layouts = [
    [{ name: 'x', kind: 'n' as const }],
    [
      { name: 'ts', kind: 't' as const },
      { name: 'symbol', kind: 's' as const },
      { name: 'price', kind: 'n' as const },
      { name: 'volume', kind: 'n' as const },
    ],
    [
      { name: 'a', kind: 'n' as const },
      { name: 'b', kind: 'n' as const },
    ],
  ]
  let decided = 0
  let texts = 0
  for (let i = 0; i < 60_000; i++) {
    const text = randomStatsText(rng, layouts[Math.floor(i / 500) % layouts.length]!)
    texts++
    if (assertScanAgrees(text)) decided++
  }
  // The scan decides most texts itself (else this test would prove little).
  assert.ok(decided > texts * 0.15, `the scan decided ${decided} of ${texts}`)
})

test('the scan decides every canonical number itself and agrees with the reference on it', () => {
  const rng = mulberry32(53)
  const shapeOf = (token: string) =>
    `{"numRecords":1,"minValues":{"v":${token}},"maxValues":{"v":2},"nullCount":{"v":1}}`
  assert.ok(packStatsByParsing(shapeOf('1')) !== undefined)
  let undecided = 0
  const cases = 200_000
  for (let i = 0; i < cases; i++) {
    const x = randomDouble(rng)
    if (x === 2) continue
    const text = shapeOf(String(x))
    if (!assertScanAgrees(text)) {
      undecided++
      // Only the forms the scan leaves to the reference on purpose: exponents, big integers, ties.
      assert.ok(packStatsByParsing(text) !== undefined, text)
    }
    // Other spellings (of this value, or canonical for a neighbouring one): as the reference.
    for (const other of [x.toPrecision(17), x.toPrecision(16)]) assertScanAgrees(shapeOf(other))
  }
  assert.ok(undecided < cases * 0.15, `${undecided} of ${cases} canonical numbers left to the reference`)
})

test('the scan agrees with the reference on every stats text of the golden tables and our tables', async (t) => {
  const texts: string[] = []
  const dir = goldenDir()
  if (dir !== undefined) {
    for (const name of readdirSync(dir)) {
      if (!existsSync(join(dir, name, '_delta_log'))) continue
      const store = new LocalStore(join(dir, name))
      let latest: number
      try {
        latest = (await listLog(store)).latest
      } catch {
        continue
      }
      try {
        for (const add of (await rawAdds(store, latest)).values()) if (add.stats) texts.push(add.stats)
      } catch {
        continue // logs our reader refuses are tested elsewhere
      }
    }
  } else t.diagnostic(GOLDEN_MISSING)
  const store = new MemoryStore()
  await streamingQuotesTable(store, { assets: 12, days: 0.05, seed: 11 })
  for (const add of (await rawAdds(store, (await listLog(store)).latest)).values()) texts.push(add.stats!)
  let decided = 0
  // Twice: the second pass finds every shape among the recent ones.
  for (const text of [...texts, ...texts]) if (assertScanAgrees(text)) decided++
  t.diagnostic(`${texts.length} texts, ${decided} of ${texts.length * 2} decided by the scan`)
  assert.ok(decided >= texts.length, `the scan decided only ${decided}`)
})

test('16–17-digit decimals at or above 2^53 are packed as Number reads them: powers of two, their neighbours, off-by-an-ulp first guesses', () => {
  const shapeOf = (token: string) =>
    `{"numRecords":1,"minValues":{"v":${token}},"maxValues":{"v":2},"nullCount":{"v":1}}`
  const bits = new DataView(new ArrayBuffer(8))
  const neighbour = (x: number, step: number) => {
    bits.setFloat64(0, x)
    bits.setBigUint64(0, bits.getBigUint64(0) + BigInt(step))
    return bits.getFloat64(0)
  }
  let decided = 0
  let corrected = 0
  let checked = 0
  const check = (x: number) => {
    if (!(x > 0) || !Number.isFinite(x) || x === 2) return
    for (const token of [String(x), x.toPrecision(17), x.toPrecision(16)]) {
      const digits = token.replace(/^[0.]+|\./g, '').length
      if (token.includes('e') || digits < 16) continue
      // Every spelling is packed as the reference packs it (or left to it).
      const scanned = assertScanAgrees(shapeOf(token))
      if (token !== String(x)) continue
      checked++
      if (!scanned) continue
      decided++
      // The first guess (D rounded to a double, then divided) is not always the nearest double.
      const [whole, fraction = ''] = token.split('.')
      if (Number(whole! + fraction) / 10 ** fraction.length !== x) corrected++
    }
  }
  // Powers of two (their lower neighbour is half an ulp away) and the doubles around them.
  for (let k = -20; k <= 60; k++) for (let step = -3; step <= 3; step++) check(neighbour(2 ** k, step))
  // Doubles of many magnitudes printed with 16–17 digits, as market stats are.
  const rng = mulberry32(97)
  for (let i = 0; i < 50_000; i++) check((0.5 + rng()) * 10 ** (Math.floor(rng() * 24) - 6))
  assert.ok(checked > 40_000, `only ${checked} tokens checked`)
  // The scan decides every canonical one itself, including those whose first guess is an ulp off.
  assert.equal(decided, checked)
  assert.ok(corrected > checked * 0.01, `only ${corrected} tokens needed a correction`)
})

test('a load with background packing leaves the stats packing to the background: each add reads the same before and after, is packed on demand, and all are packed soon after', async () => {
  const store = new MemoryStore()
  await streamingQuotesTable(store, { assets: 12, days: 0.05, seed: 5 })
  const raw = await rawAdds(store, (await listLog(store)).latest)
  const hidden = (f: AddFile) => f as unknown as Record<symbol, unknown>
  // By default (batch commands) a load packs every file while it runs.
  const eager = await (await DeltaTable.open(store)).snapshot()
  assert.ok(eager.files().every((f) => hidden(f)[SHAPE] !== undefined))
  const snapshot = await (await DeltaTable.open(store, { statsPacking: 'background' })).snapshot()
  const files = [...snapshot.state.adds]
  // Right after the load, the adds still hold their text (the load packed none).
  const pendingAtFirst = files.filter(([, f]) => hidden(f)[SHAPE] === undefined).length
  assert.ok(pendingAtFirst > files.length / 2, `${pendingAtFirst} of ${files.length} pending after the load`)
  const before = new Map(files.map(([k, f]) => [k, { json: JSON.stringify(f), spread: { ...f } }]))
  // Asking for one pending add's packing packs it now.
  const [firstKey, first] = files.find(([, f]) => hidden(f)[SHAPE] === undefined)!
  assert.ok((packedStatsOf(first) as unknown) === first)
  assert.ok(hidden(first)[SHAPE] !== undefined && typeof hidden(first)[NUMBERS] !== 'string', firstKey)
  // The rest are packed by the background within a few turns of the event loop.
  const deadline = Date.now() + 30_000
  while (files.some(([, f]) => hidden(f)[SHAPE] === undefined) && Date.now() < deadline)
    await new Promise((resolve) => setImmediate(resolve))
  for (const [key, f] of files) {
    assert.ok(hidden(f)[SHAPE] !== undefined, `${key} still pending`)
    assert.equal(f.stats, raw.get(key)!.stats)
    // No observer sees the packing happen: same JSON, same own enumerable fields.
    assert.equal(JSON.stringify(f), before.get(key)!.json)
    assert.deepEqual({ ...f }, before.get(key)!.spread)
  }
  await assertEqualToLog(store, snapshot)
})

test('an add whose stats would not print back the same keeps its text and has no packing, packed now or later', async () => {
  const store = new MemoryStore()
  const table = await DeltaTable.create(store, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  await table.append(smallRows(2, { crypto: 'bitcoin', start: 0 }))
  const [add] = (await table.snapshot()).files()
  // A spelling the packing refuses (a trailing zero), committed as another file's stats.
  const text = add!.stats!.replace('"numRecords":2', '"numRecords":2.0')
  assert.equal(packStats(text), undefined)
  const odd: AddFile = { ...add!, path: `odd-${add!.path}`, stats: text }
  await table.commit([{ add: odd }], { operation: 'WRITE' })
  for (const statsPacking of ['eager', 'background'] as const) {
    const reopened = await (await DeltaTable.open(store, { statsPacking })).snapshot()
    const held = reopened.files().find((f) => f.path === odd.path)!
    assert.equal(packedStatsOf(held), undefined)
    assert.equal(held.stats, text)
    assert.deepEqual({ ...held }, odd)
  }
})
