import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodesOnWorker, generateHistory, type GenerateOptions } from '../../src/cli/generate.ts'
import { prepareDataFiles } from '../../src/lake/data-files.ts'
import { DeltaTable, inThreadEncoder, WorkerEncoder } from '../../src/lake/index.ts'
import { dataFilePath } from '../../src/lake/partition-path.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import type { Quote } from '../../src/model/quote.ts'
import { openWarehouse } from '../../src/runtime/warehouse.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { chunkToColumns } from '../../src/stream/quote-columns.ts'
import { HookStore } from '../lake/lake-fixtures.ts'

const DAY = 86_400_000_000
const END = Date.UTC(2024, 5, 1) * 1000

/** Each data file's bytes by its partition folder, and the table's commit count. */
async function generated(o: GenerateOptions): Promise<{ files: Map<string, Buffer>; version: number }> {
  const w = await openWarehouse(new MemoryStore())
  const result = await generateHistory(w.quotes, o)
  const snapshot = await w.quotes.snapshot()
  const files = new Map<string, Buffer>()
  for (const add of snapshot.files()) {
    const path = dataFilePath(add)
    const folder = path.slice(0, path.lastIndexOf('/'))
    assert.equal(files.has(folder), false, `one file per partition: ${folder}`)
    files.set(folder, Buffer.from(await w.quotes.store.get(path)))
  }
  assert.equal(result.files, files.size)
  return { files, version: snapshot.version }
}

/** The files the row path makes of the same quotes, one append per day (generate before columns and threads). */
function byRows(o: GenerateOptions): { files: Map<string, Buffer>; commits: number } {
  const step = o.intervalSeconds * 1_000_000
  const start = o.end - o.days * DAY
  const simulator = new MarketSimulator({ assets: o.assets, seed: o.seed, startTs: start })
  const windows = new Map<string, Quote[]>()
  for (let ts = start; ts < o.end; ts += step) {
    const key = String(Math.floor(ts / DAY))
    windows.set(key, [...(windows.get(key) ?? []), ...simulator.tick(ts)])
  }
  const files = new Map<string, Buffer>()
  for (const quotes of windows.values()) {
    for (const f of prepareDataFiles(quotes.map(quoteToRow), {
      schema: QUOTES_SCHEMA,
      partitionColumns: QUOTES_PARTITION_COLUMNS,
      sortBy: QUOTES_SORT_BY,
      modificationTime: 0,
    })) {
      const folder = f.storePath.slice(0, f.storePath.lastIndexOf('/'))
      assert.equal(files.has(folder), false)
      files.set(folder, Buffer.from(f.bytes))
    }
  }
  return { files, commits: windows.size }
}

const options: GenerateOptions = {
  assets: 23,
  days: 2.5,
  intervalSeconds: 600,
  seed: 7,
  end: END,
  compression: 'snappy',
}

test('generate writes the files the row path makes of the simulated quotes, one commit per day, on a worker or not', async () => {
  const expected = byRows(options)
  assert.equal(expected.commits, 3)
  for (const encodeOnWorker of [true, false]) {
    const { files, version } = await generated({ ...options, encodeOnWorker })
    assert.equal(version, expected.commits) // version 0 creates the table
    assert.deepEqual([...files.keys()].sort(), [...expected.files.keys()].sort())
    for (const [folder, bytes] of files) assert.ok(bytes.equals(expected.files.get(folder)!), folder)
  }
})

test('generate with --commit-every makes one commit per window and one file per asset in each', async () => {
  const o = { ...options, days: 0.125, intervalSeconds: 60, commitEverySeconds: 600 }
  const w = await openWarehouse(new MemoryStore())
  const result = await generateHistory(w.quotes, o)
  assert.equal(result.commits, 18)
  assert.equal(result.files, 18 * 23)
  assert.equal(result.rows, 180 * 23)
  const snapshot = await w.quotes.snapshot()
  assert.equal(snapshot.version, 18)
  // Every commit's files: one per asset, each of that window's ten minutes.
  const perFile = new Map<number, number>()
  for (const add of snapshot.files()) {
    const rows = (JSON.parse(add.stats!) as { numRecords: number }).numRecords
    perFile.set(rows, (perFile.get(rows) ?? 0) + 1)
  }
  assert.deepEqual([...perFile], [[10, 18 * 23]])
})

test("appendColumns of several batches, each on its encoder, is one commit of every batch's files", async () => {
  const ticks = Array.from({ length: 30 }, (_, i) => END - DAY + i * 60_000_000)
  const chunkOf = (from: number, to: number): ReturnType<MarketSimulator['chunk']> => {
    const fill = new MarketSimulator({ assets: 5, seed: 3, startTs: ticks[0]! }).startChunk(ticks, from, to)
    for (let a = from; a < to; a++) fill.fill(a)
    return fill.chunk
  }
  const filesOf = async (w: Awaited<ReturnType<typeof openWarehouse>>): Promise<Map<string, Buffer>> => {
    const out = new Map<string, Buffer>()
    for (const add of (await w.quotes.snapshot()).files()) {
      const path = dataFilePath(add)
      out.set(path.slice(0, path.lastIndexOf('/')), Buffer.from(await w.quotes.store.get(path)))
    }
    return out
  }
  const whole = await openWarehouse(new MemoryStore())
  await whole.quotes.appendColumns(chunkToColumns(chunkOf(0, 5)), { sortBy: QUOTES_SORT_BY })
  const split = await openWarehouse(new MemoryStore())
  const worker = new WorkerEncoder()
  try {
    const r = await split.quotes.appendColumns(
      [chunkOf(0, 3), chunkOf(3, 3), chunkOf(3, 5)].map(chunkToColumns),
      { sortBy: QUOTES_SORT_BY, encoder: [worker, inThreadEncoder] },
    )
    assert.equal(r.status, 'committed')
    if (r.status !== 'committed') return
    assert.equal(r.version, 1)
    assert.equal(r.rows, 5 * 30)
    assert.equal(r.files.length, 5)
  } finally {
    await worker.close()
  }
  const expected = await filesOf(whole)
  const actual = await filesOf(split)
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort())
  for (const [folder, bytes] of actual) assert.ok(bytes.equals(expected.get(folder)!), folder)
})

test('generate commits its windows in order while the next ones are encoded, and stops at a failed commit with its error', async () => {
  const dayOf = (p: Record<string, string | null>): string => `${p['year']}-${p['month']}-${p['day']}`
  const w = await openWarehouse(new MemoryStore())
  await generateHistory(w.quotes, { ...options, encodeOnWorker: true })
  const seen: string[] = []
  for (let v = 1; v <= 3; v++) {
    const days = new Set(
      [...(await w.quotes.snapshot({ version: v })).files()].map((a) => dayOf(a.partitionValues)),
    )
    const added = [...days].filter((d) => !seen.includes(d))
    assert.equal(added.length, 1, `version ${v} adds one day`)
    assert.ok(
      seen.every((d) => d < added[0]!),
      `version ${v} adds a later day than the ones before`,
    )
    seen.push(added[0]!)
  }

  // The second day's log entry cannot be written, as with a full disk or a lost connection.
  const store = new HookStore((await openWarehouse(new MemoryStore())).quotesStore)
  store.beforePutIfAbsent = (path) => {
    if (path.endsWith('00000000000000000002.json')) throw new Error(`disk full writing ${path}`)
  }
  const failing = await DeltaTable.open(store)
  await assert.rejects(generateHistory(failing, { ...options, encodeOnWorker: true }), /disk full/)
  assert.equal((await failing.snapshot()).version, 1)
})

test('an append encoded before another commit writes nothing until committed, then commits after it', async () => {
  const ticks = Array.from({ length: 10 }, (_, i) => END - DAY + i * 60_000_000)
  const chunk = (seed: number): ReturnType<MarketSimulator['chunk']> => {
    const fill = new MarketSimulator({ assets: 2, seed, startTs: ticks[0]! }).startChunk(ticks, 0, 2)
    for (let a = 0; a < 2; a++) fill.fill(a)
    return fill.chunk
  }
  const w = await openWarehouse(new MemoryStore())
  const before = (await w.quotes.store.list('')).length
  const encoded = await w.quotes.encodeColumns(chunkToColumns(chunk(1)), { sortBy: QUOTES_SORT_BY })
  assert.ok(!('status' in encoded))
  if ('status' in encoded) return
  assert.equal((await w.quotes.store.list('')).length, before, 'nothing written by encoding')
  const other = await w.quotes.appendColumns(chunkToColumns(chunk(2)), { sortBy: QUOTES_SORT_BY })
  assert.equal(other.status === 'committed' && other.version, 1)
  const r = await w.quotes.commitEncoded(encoded, { sortBy: QUOTES_SORT_BY })
  assert.equal(r.status === 'committed' && r.version, 2)
  const snapshot = await w.quotes.snapshot()
  assert.equal(snapshot.files().length, 4)
  assert.equal(
    [...snapshot.files()].reduce(
      (n, a) => n + (JSON.parse(a.stats!) as { numRecords: number }).numRecords,
      0,
    ),
    2 * 2 * 10,
  )
})

test('generate encodes on the worker for large windows unless a small memory bound leaves no room for it', () => {
  assert.equal(encodesOnWorker(options, 144_000), true)
  assert.equal(encodesOnWorker({ ...options, memoryLimitMb: 0 }, 144_000), true)
  assert.equal(encodesOnWorker({ ...options, memoryLimitMb: 1024 }, 144_000), true)
  assert.equal(encodesOnWorker({ ...options, memoryLimitMb: 300 }, 144_000), false)
  assert.equal(encodesOnWorker(options, 1_000), false) // a streaming-shaped window
  assert.equal(encodesOnWorker({ ...options, memoryLimitMb: 300, encodeOnWorker: true }, 1_000), true)
})
