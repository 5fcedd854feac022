import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { DeltaTable, type Snapshot } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { DEAD_LETTERS_PARTITION_COLUMNS, DEAD_LETTERS_SCHEMA } from '../../src/model/dead-letter-table.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA } from '../../src/model/quote-table.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import type { ObjectStore, PutIfAbsentResult } from '../../src/storage/object-store.ts'
import { MicroBatchProcessor } from '../../src/stream/processor.ts'
import { MEMORY_DEAD_LETTERS_TOPIC, MEMORY_QUOTES_TOPIC, MemoryBus } from '../../src/bus/memory-bus.ts'
import type { Quote } from '../../src/model/quote.ts'

const START = Date.UTC(2024, 4, 1) * 1000

/** A store whose next commit lands but whose acknowledgement is lost (the caller sees an error). */
class LosesNextAck extends MemoryStore {
  armed = false
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    const r = await super.putIfAbsent(path, bytes)
    if (this.armed && path.startsWith('_delta_log/') && path.endsWith('.json')) {
      this.armed = false
      throw new Error('connection reset after the write')
    }
    return r
  }
}

interface SetupOptions {
  flushMaxRows?: number
  writerId?: string
  maxBufferRows?: number
  replayable?: boolean
  deadLettersStore?: ObjectStore
  flushIdleMs?: number
}

const TOPICS = { quotes: MEMORY_QUOTES_TOPIC, deadLetters: MEMORY_DEAD_LETTERS_TOPIC }

function newProcessor(quotes: DeltaTable, deadLetters: DeltaTable, o: SetupOptions = {}) {
  return new MicroBatchProcessor({
    quotes,
    deadLetters,
    writerId: o.writerId ?? 'test',
    topics: TOPICS,
    replayable: o.replayable ?? false,
    flushIntervalMs: 3_600_000,
    flushMaxRows: o.flushMaxRows ?? 1_000,
    flushMaxBytes: 1 << 30,
    flushIdleMs: o.flushIdleMs ?? 3_600_000,
    maxBufferRows: o.maxBufferRows ?? 1_000_000,
    maxBufferBytes: 1 << 30,
    compression: 'snappy',
    logger: pino({ level: 'silent' }),
  })
}

async function setup(quotesStore: ObjectStore = new MemoryStore(), o: SetupOptions = {}) {
  const store = new MemoryStore()
  const quotes = await DeltaTable.openOrCreate(quotesStore, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
  })
  const deadLetters = await DeltaTable.openOrCreate(o.deadLettersStore ?? store.child('dead_letters'), {
    schema: DEAD_LETTERS_SCHEMA,
    partitionColumns: DEAD_LETTERS_PARTITION_COLUMNS,
  })
  const processor = newProcessor(quotes, deadLetters, o)
  await processor.start()
  const bus = new MemoryBus()
  const consumer = await bus.consume('test', processor)
  processor.attach(consumer)
  const sim = new MarketSimulator({ assets: 3, seed: 1, startTs: START })
  let tick = 0
  const next = (n: number) => {
    const out = []
    for (let i = 0; i < n; i++) out.push(...sim.tick(START + tick++ * 1_000_000))
    return out
  }
  const publish = (n: number) => bus.publishQuotes(next(n))
  return { quotes, deadLetters, processor, next, publish, bus, store }
}

const rowCount = async (table: DeltaTable): Promise<number> => (await table.snapshot()).numRecords() ?? -1

test('buffered quotes are visible as pending until a flush commits them in one commit', async () => {
  const { quotes, processor, publish } = await setup()
  await publish(10)
  assert.equal(processor.pending().length, 30)
  assert.equal(await rowCount(quotes), 0)
  await processor.flush()
  assert.equal(processor.pending().length, 0)
  assert.equal(await rowCount(quotes), 30)
  const snap = await quotes.snapshot()
  assert.equal(snap.version, 1)
  assert.equal(snap.txnVersion(`test:${MEMORY_QUOTES_TOPIC}:0`), 29, 'txn version = last offset')
  assert.equal(processor.stats().records_written, 30)
  assert.equal(processor.stats().batches, 1)
})

test('a full buffer triggers a flush without waiting for the interval', async () => {
  const { quotes, processor, publish } = await setup(undefined, { flushMaxRows: 30 })
  await publish(10)
  await processor.flush()
  assert.equal(await rowCount(quotes), 30)
  assert.equal(
    (await quotes.snapshot()).version,
    1,
    'the size-triggered flush and the explicit one made one commit',
  )
})

test('a flush commits what was buffered when it started; later quotes wait for the next batch', async () => {
  const { quotes, processor, publish } = await setup()
  await publish(5)
  const flushing = processor.flush()
  // Let the flush cut its batch, then keep receiving while it commits.
  await new Promise((r) => setImmediate(r))
  await publish(5)
  await flushing
  assert.equal(await rowCount(quotes), 15)
  assert.equal(processor.pending().length, 15)
  await processor.stop()
  assert.equal(await rowCount(quotes), 30)
})

test('a commit whose acknowledgement is lost is retried with the same txn version and not duplicated', async () => {
  const store = new LosesNextAck()
  const { quotes, processor, publish } = await setup(store)
  await publish(4)
  store.armed = true
  await processor.flush()
  // Whether the lake sees through the lost acknowledgement itself (its own txn in the winning
  // commit) or the processor retries the batch later, the batch lands exactly once.
  if (processor.stats().flush_errors > 0) assert.equal(processor.pending().length, 12)
  await processor.flush()
  assert.equal(store.armed, false, 'the fault was injected')
  assert.equal(processor.pending().length, 0)
  const snap = await quotes.snapshot()
  assert.equal(snap.numRecords(), 12, 'exactly once')
  assert.equal(snap.version, 1, 'the retry was a no-op')
  assert.equal(processor.stats().records_written, 12)
})

test('a restarted processor with the same identity resumes after the txn version in the table', async () => {
  const { quotes, deadLetters, processor, publish } = await setup(undefined, { writerId: 'w1' })
  await publish(2)
  await processor.stop()
  const again = newProcessor(quotes, deadLetters, { writerId: 'w1' })
  await again.start()
  const bus = new MemoryBus()
  again.attach(await bus.consume('test', again))
  await bus.publishQuotes(publishable(2))
  await again.stop()
  const snap = await quotes.snapshot()
  assert.equal(snap.txnVersion(`w1:${MEMORY_QUOTES_TOPIC}:0`), 11, 'offsets continued from 6, not from 0')
  assert.equal(snap.numRecords(), 12)
  assert.equal(again.stats().records_written, 6)
})

test('dead letters are committed to their own table with the raw payload and reason', async () => {
  const { deadLetters, processor, bus } = await setup()
  await bus.publishDeadLetters([
    {
      source: 'coingecko',
      reason: 'price_missing',
      detail: 'bitcoin: no price',
      raw: { id: 'bitcoin' },
      received_at: START,
    },
  ])
  await processor.stop()
  const snap = await deadLetters.snapshot()
  const rows = await readRows(deadLetters.store, snap)
  assert.deepEqual(rows, [
    {
      received_at: START,
      source: 'coingecko',
      reason: 'price_missing',
      detail: 'bitcoin: no price',
      raw: '{"id":"bitcoin"}',
    },
  ])
  assert.equal(processor.stats().records_rejected, 1)
  assert.equal(snap.txnVersion(`test:${MEMORY_DEAD_LETTERS_TOPIC}:0`), 0, 'dead letters carry their own txn')
})

/** A store that refuses the next `failures` commits outright (e.g. a full disk), writing nothing. */
class FailsCommits extends MemoryStore {
  failures = 0
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    if (this.failures > 0 && path.startsWith('_delta_log/') && path.endsWith('.json')) {
      this.failures--
      throw new Error('ENOSPC: no space left on device')
    }
    return super.putIfAbsent(path, bytes)
  }
}

test('while commits fail, quotes stay buffered and the failure is reported; the next good flush commits them once', async () => {
  const store = new FailsCommits()
  const { quotes, processor, publish } = await setup(store)
  await publish(3)
  store.failures = 1_000
  await processor.flush()
  await processor.flush()
  assert.equal(processor.stats().consecutive_flush_errors, 2)
  assert.match(processor.stats().last_flush_error ?? '', /ENOSPC/)
  assert.equal(processor.pending().length, 9)
  assert.equal(await rowCount(quotes), 0)
  store.failures = 0
  await publish(1)
  await processor.flush()
  assert.equal(processor.stats().consecutive_flush_errors, 0)
  assert.equal(processor.pending().length, 0)
  assert.equal(await rowCount(quotes), 12)
})

/** Quotes of a fresh simulator, for a second bus in one test. */
function publishable(ticks: number): Quote[] {
  const sim = new MarketSimulator({ assets: 3, seed: 2, startTs: START })
  const out: Quote[] = []
  for (let i = 0; i < ticks; i++) out.push(...sim.tick(START + (1000 + i) * 1_000_000))
  return out
}

/** `crypto:ts` of every row committed at `snap`, duplicates included. */
async function committedIds(quotes: DeltaTable, snap: Snapshot): Promise<string[]> {
  return (await readRows(quotes.store, snap)).map((r) => `${r['crypto']}:${r['ts']}`)
}

const batch = (partition: number, offsets: number[], quotes: Quote[]) => ({
  topic: 'q',
  partition,
  items: quotes,
  offsets,
  lastOffset: offsets.at(-1)!,
  bytes: quotes.length * 200,
})

test('one commit carries one txn per input partition; re-delivered offsets are dropped on arrival', async () => {
  const { quotes, deadLetters, next } = await setup()
  const p = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  await p.start()
  const starts = await p.onAssigned([0, 1, 2].map((partition) => ({ topic: 'q', partition })))
  assert.deepEqual([...starts.values()], [0, 0, 0])
  p.onQuotes(batch(0, [0, 1, 2], next(1)))
  p.onQuotes(batch(1, [0, 1, 2], next(1)))
  p.onQuotes(batch(2, [5, 6, 7], next(1)))
  await p.flush()
  const snap = await quotes.snapshot()
  assert.equal(snap.version, 1, 'one commit')
  assert.deepEqual(
    [0, 1, 2].map((i) => snap.txnVersion(`g:q:${i}`)),
    [2, 2, 7],
  )
  // A replay of partition 0 from offset 1 (e.g. after a reconnect) adds only the new offset 3.
  p.onQuotes(batch(0, [1, 2, 3], next(1)))
  assert.equal(p.pending().length, 1)
  await p.stop()
  assert.equal((await quotes.snapshot()).numRecords(), 10)
  // A new owner of the partitions starts each after its txn version.
  const q = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  const again = await q.onAssigned([0, 1, 2].map((partition) => ({ topic: 'q', partition })))
  assert.deepEqual([...again.values()], [4, 3, 8])
})

test('a batch a previous owner already committed is dropped, not duplicated (replayable bus)', async () => {
  const { quotes, deadLetters, next } = await setup()
  const zombie = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  const owner = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  const parts = [0, 1].map((partition) => ({ topic: 'q', partition }))
  await zombie.onAssigned(parts)
  await owner.onAssigned(parts)
  const a = next(2)
  const b = next(2)
  // Both read partition 0 offsets 0..5; the zombie commits first; the owner also holds partition 1.
  zombie.onQuotes(batch(0, [0, 1, 2, 3, 4, 5], a))
  owner.onQuotes(batch(0, [0, 1, 2, 3, 4, 5], a))
  owner.onQuotes(batch(1, [0, 1, 2, 3, 4, 5], b))
  await zombie.flush()
  await owner.flush()
  await owner.flush()
  const snap = await quotes.snapshot()
  assert.equal(snap.numRecords(), 12, 'partition 0 once, partition 1 once')
  assert.equal(snap.txnVersion('g:q:0'), 5)
  assert.equal(snap.txnVersion('g:q:1'), 5)
  assert.equal(owner.stats().records_duplicate_skipped, 6)
  assert.equal(owner.stats().buffered, 0)
})

test('two embedded writers on one warehouse each have their own identity and both count right', async () => {
  const quotesStore = new MemoryStore()
  const dlStore = new MemoryStore()
  const one = await setup(quotesStore, { writerId: 'embedded-a', deadLettersStore: dlStore })
  const two = await setup(quotesStore, { writerId: 'embedded-b', deadLettersStore: dlStore })
  for (let i = 0; i < 5; i++) {
    await one.bus.publishQuotes(one.next(2))
    await two.bus.publishQuotes(publishable(2).map((q) => ({ ...q, ts: q.ts + i * 10_000_000 })))
    await Promise.all([one.processor.flush(), two.processor.flush()])
  }
  await Promise.all([one.processor.stop(), two.processor.stop()])
  const written = one.processor.stats().records_written + two.processor.stats().records_written
  assert.equal(written, 60)
  assert.equal((await one.quotes.snapshot()).numRecords(), 60, 'reported written = in the table')
})

test('a second writer with the same identity is fenced loudly and commits nothing more', async () => {
  const quotesStore = new MemoryStore()
  const dlStore = new MemoryStore()
  const one = await setup(quotesStore, { writerId: 'same', deadLettersStore: dlStore })
  const two = await setup(quotesStore, { writerId: 'same', deadLettersStore: dlStore })
  const fenced: Error[] = []
  // Both started at the same txn version: their offsets collide.
  await one.publish(2)
  await two.bus.publishQuotes(publishable(2))
  await one.processor.flush()
  await two.processor.flush()
  const s = two.processor.stats()
  assert.match(s.fenced ?? '', /two writers share the identity "same"/)
  assert.equal(s.records_written, 0, 'nothing counted as written that it did not write')
  try {
    await two.bus.publishQuotes(publishable(1))
    await two.processor.flush()
  } catch (e) {
    fenced.push(e as Error)
  }
  assert.equal((await one.quotes.snapshot()).numRecords(), 6, "only the first writer's quotes")
  assert.equal(fenced.length, 0, 'flush reports through stats/health, it does not throw')
})

test('a failing dead-letter table never blocks quote commits', async () => {
  const dlStore = new FailsCommits()
  const { quotes, processor, publish, bus } = await setup(undefined, { deadLettersStore: dlStore })
  dlStore.failures = 1_000
  await bus.publishDeadLetters([
    { source: 'coingecko', reason: 'price_missing', detail: 'x', raw: {}, received_at: START },
  ])
  await publish(3)
  await processor.flush()
  assert.equal(await rowCount(quotes), 9, 'quotes committed')
  assert.equal(processor.stats().dead_letter_flush_errors, 1)
  assert.equal(processor.stats().consecutive_flush_errors, 0)
  assert.equal(processor.stats().buffered, 1, 'the dead letter waits for its table')
  dlStore.failures = 0
  await processor.stop()
  assert.equal(processor.stats().buffered, 0)
})

test('a full buffer pauses the bus (publishers wait) until commits bring it back under the bound', async () => {
  const slow = new SlowCommits()
  const { quotes, processor, publish } = await setup(slow, { maxBufferRows: 20, flushMaxRows: 1_000_000 })
  slow.delayMs = 200
  await publish(8) // 24 quotes: over the bound → paused
  assert.equal(processor.stats().paused, true)
  let published = false
  const blocked = publish(1).then(() => (published = true))
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(published, false, 'the publisher waits while the consumer is paused')
  await processor.flush()
  await blocked
  assert.equal(processor.stats().paused, false)
  assert.equal(processor.stats().pauses, 1)
  await processor.stop()
  assert.equal(await rowCount(quotes), 27)
})

test('a quiet input is flushed once idle, without waiting for the interval', async () => {
  const { quotes, publish } = await setup(undefined, { flushIdleMs: 50 })
  await publish(1)
  const deadline = Date.now() + 10_000
  while ((await rowCount(quotes)) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(await rowCount(quotes), 3)
})

test('revoked partitions drop their uncommitted items for the next owner', async () => {
  const { quotes, deadLetters, next } = await setup()
  const p = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  await p.onAssigned([0, 1].map((partition) => ({ topic: 'q', partition })))
  p.onQuotes(batch(0, [0, 1, 2], next(1)))
  p.onQuotes(batch(1, [0, 1, 2], next(1)))
  await p.onRevoked([{ topic: 'q', partition: 1 }])
  p.onQuotes(batch(1, [3, 4, 5], next(1)))
  assert.equal(p.stats().buffered, 3, 'only partition 0 is held; late batches of 1 are ignored')
  await p.stop()
  const snap = await quotes.snapshot()
  assert.equal(snap.numRecords(), 3)
  assert.equal(snap.txnVersion('g:q:1'), undefined)
})

/** A store that can hold its next commit (a `_delta_log` put) until released. */
class GatedCommits extends MemoryStore {
  private gate: { reached: PromiseWithResolvers<void>; open: PromiseWithResolvers<void> } | undefined
  /** Holds the next commit; resolves `reached` once it is waiting. */
  holdNext(): { reached: Promise<void>; release: () => void } {
    const gate = { reached: Promise.withResolvers<void>(), open: Promise.withResolvers<void>() }
    this.gate = gate
    return { reached: gate.reached.promise, release: () => gate.open.resolve() }
  }
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    const gate = this.gate
    if (gate && path.startsWith('_delta_log/') && path.endsWith('.json')) {
      this.gate = undefined
      gate.reached.resolve()
      await gate.open.promise
    }
    return super.putIfAbsent(path, bytes)
  }
}

test('a revocation during a flush does not let a batch trimmed after a partial conflict commit its overlap again', async () => {
  const store = new GatedCommits()
  const { quotes, deadLetters, next } = await setup(store)
  const a = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  const b = newProcessor(await DeltaTable.open(store), deadLetters, { writerId: 'g', replayable: true })
  const [q1, q2, q3, q4] = [next(2), next(2), next(2), next(2)]
  await a.onAssigned([0, 1].map((partition) => ({ topic: 'q', partition })))
  a.onQuotes(batch(0, [0, 1, 2, 3, 4, 5], q1))
  a.onQuotes(batch(1, [0, 1, 2, 3, 4, 5], q2))
  const first = store.holdNext()
  const f1 = a.flush()
  await first.reached
  // Partition 1 is revoked while that commit runs; more arrives and a second flush queues behind.
  const revoking = a.onRevoked([{ topic: 'q', partition: 1 }])
  a.onQuotes(batch(0, [6, 7, 8, 9, 10, 11], q3))
  a.onQuotes(batch(1, [6, 7, 8, 9, 10, 11], q4))
  const f2 = a.flush()
  const second = store.holdNext()
  first.release()
  await f1
  await second.reached
  await revoking
  // Meanwhile the new owner of partition 0 (a rebalance) commits part of what the second holds.
  await b.onAssigned([{ topic: 'q', partition: 0 }])
  b.onQuotes(batch(0, [6, 7, 8], q3.slice(0, 3)))
  await b.flush()
  second.release()
  await f2 // fails: partially committed; what is left is trimmed and retried
  await a.flush()
  const snap = await quotes.snapshot()
  const ids = await committedIds(quotes, snap)
  assert.equal(ids.length, new Set(ids).size, 'no quote twice')
  assert.equal(ids.length, 18, 'partition 0 offsets 0..11 and partition 1 offsets 0..5, each once')
  assert.equal(snap.txnVersion('g:q:0'), 11)
  assert.equal(snap.txnVersion('g:q:1'), 5)
})

test('after a partial conflict, what is still buffered for a partition is trimmed too, not only the batch in flight', async () => {
  const store = new GatedCommits()
  const { quotes, deadLetters, next } = await setup(store)
  const a = newProcessor(quotes, deadLetters, { writerId: 'g', replayable: true })
  const b = newProcessor(await DeltaTable.open(store), deadLetters, { writerId: 'g', replayable: true })
  const p0 = next(6) // offsets 0..17 of partition 0
  const p1 = next(2) // offsets 0..5 of partition 1
  const offsets = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
  await a.onAssigned([0, 1].map((partition) => ({ topic: 'q', partition })))
  a.onQuotes(batch(0, offsets(0, 5), p0.slice(0, 6)))
  a.onQuotes(batch(1, offsets(0, 5), p1))
  const held = store.holdNext()
  const flushing = a.flush()
  await held.reached
  // More of partition 0 arrives while that commit waits; meanwhile another owner commits 0..14.
  a.onQuotes(batch(0, offsets(6, 11), p0.slice(6, 12)))
  a.onQuotes(batch(0, offsets(12, 17), p0.slice(12, 18)))
  await b.onAssigned([{ topic: 'q', partition: 0 }])
  b.onQuotes(batch(0, offsets(0, 14), p0.slice(0, 15)))
  await b.flush()
  held.release()
  await flushing // partially committed: partition 0's part is dropped, partition 1's retried
  await a.flush()
  await a.flush()
  const snap = await quotes.snapshot()
  const ids = await committedIds(quotes, snap)
  assert.equal(ids.length, new Set(ids).size, 'no quote twice')
  assert.equal(ids.length, 24, 'partition 0 offsets 0..17 and partition 1 offsets 0..5, each once')
  assert.equal(snap.txnVersion('g:q:0'), 17)
  assert.equal(snap.txnVersion('g:q:1'), 5)
  assert.equal(a.stats().buffered, 0)
})

/** A store whose commits each take `delayMs` (a slow lake). */
class SlowCommits extends MemoryStore {
  delayMs = 0
  override async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    return super.putIfAbsent(path, bytes)
  }
}
