/**
 * Processor crashes and rebalances against a real broker, with real `cryptoviz process` child
 * processes sharing one consumer group and one warehouse: whatever is killed or leaves, when, the
 * table ends with every produced quote exactly once.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DeltaTable } from '../../src/lake/index.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { CryptovizProcess } from '../harness/cryptoviz-process.ts'
import {
  kafkaBootstrap,
  quoteId,
  simulatedTicks,
  tableKeys,
  testBus,
  topicQuoteOffsets,
  uniquePrefix,
  waitFor,
} from '../harness/kafka.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function startProcessor(prefix: string, warehouse: string): CryptovizProcess {
  return new CryptovizProcess([
    'process',
    '--broker',
    kafkaBootstrap(),
    '--warehouse',
    warehouse,
    '--group',
    `${prefix}-group`,
    '--topic-prefix',
    prefix,
    '--port',
    '0',
    '--flush-idle-ms',
    '500',
    '--flush-max-rows',
    '20000',
  ])
}

const running = (p: CryptovizProcess): Promise<unknown> =>
  p.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)

async function produce(prefix: string, assets: number, ticks: number, pauseMs: number): Promise<Set<string>> {
  const bus = testBus(prefix, 6)
  const ids = new Set<string>()
  let chunk = []
  for (const tick of simulatedTicks(assets, ticks)) {
    for (const q of tick) ids.add(quoteId(q))
    chunk.push(...tick)
    if (chunk.length >= 10_000) {
      await bus.publishQuotes(chunk)
      chunk = []
      await sleep(pauseMs)
    }
  }
  await bus.publishQuotes(chunk)
  await bus.close()
  return ids
}

async function assertExactlyOnce(prefix: string, warehouse: string, produced: Set<string>): Promise<void> {
  const table = await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))
  await waitFor(
    `${produced.size} quotes in the table`,
    async () => ((await table.snapshot()).numRecords() ?? 0) >= produced.size,
    240_000,
  )
  const keys = await tableKeys(table)
  const twice = [...keys].filter(([, n]) => n > 1).map(([id]) => id)
  if (twice.length > 0) {
    // Where the doubles sit says who wrote them twice: two offsets, the producer; one, the processor.
    const inTopic = await topicQuoteOffsets(prefix)
    const at = twice.map((id) => `${id} at ${(inTopic.get(id) ?? []).join(' ')}`)
    const producerSide = twice.filter((id) => (inTopic.get(id)?.length ?? 0) > 1).length
    assert.fail(
      `${twice.length} quotes twice in the table, ${producerSide} of them at two offsets of the topic; e.g. ${at.slice(0, 5).join('; ')}`,
    )
  }
  assert.equal(keys.size, produced.size, 'every quote once')
  for (const id of produced) assert.ok(keys.has(id), `missing ${id}`)
}

test('crash: processors SIGKILLed at random moments and restarted; every quote lands exactly once', async (t) => {
  const prefix = uniquePrefix()
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-crash-'))
  const procs: CryptovizProcess[] = []
  t.after(() => {
    for (const p of procs) p.child.kill('SIGKILL')
    rmSync(warehouse, { recursive: true, force: true })
  })
  const setupBus = testBus(prefix, 6)
  await setupBus.start()
  await setupBus.close()
  for (let i = 0; i < 3; i++) procs.push(startProcessor(prefix, warehouse))
  await Promise.all(procs.map(running))
  const random = mulberry32(Date.now() >>> 0)
  // 500k quotes (the count), paced so kills land mid-stream.
  const producing = produce(prefix, 250, 2_000, 150)
  for (const victim of [0, 1]) {
    await sleep(1_000 + random() * 3_000)
    const p = procs[victim]!
    p.child.kill('SIGKILL')
    await p.exited
    await sleep(random() * 1_500)
    const replacement = startProcessor(prefix, warehouse)
    procs[victim] = replacement
    await running(replacement)
  }
  const produced = await producing
  assert.equal(produced.size, 500_000)
  await assertExactlyOnce(prefix, warehouse, produced)
})

test('rebalance: processors join and leave mid-run; nothing lost, nothing duplicated', async (t) => {
  const prefix = uniquePrefix()
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-rebalance-'))
  const procs: CryptovizProcess[] = []
  t.after(() => {
    for (const p of procs) p.child.kill('SIGKILL')
    rmSync(warehouse, { recursive: true, force: true })
  })
  const setupBus = testBus(prefix, 6)
  await setupBus.start()
  await setupBus.close()
  procs.push(startProcessor(prefix, warehouse))
  await running(procs[0]!)
  const producing = produce(prefix, 100, 1_500, 150)
  await sleep(1_500)
  procs.push(startProcessor(prefix, warehouse), startProcessor(prefix, warehouse))
  await Promise.all(procs.map(running))
  await sleep(2_000)
  // A graceful leave (SIGTERM: commit, then leave the group) and then a join again.
  procs[1]!.child.kill('SIGTERM')
  assert.equal((await procs[1]!.exited).code, 0)
  await sleep(1_000)
  procs[1] = startProcessor(prefix, warehouse)
  await running(procs[1])
  const produced = await producing
  await assertExactlyOnce(prefix, warehouse, produced)
  const revoked = procs.flatMap((p) => p.logs).filter((l) => l.msg.startsWith('partitions revoked')).length
  assert.ok(revoked > 0, 'partitions did move between members')
})
