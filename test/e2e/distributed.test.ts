/**
 * The roles as a user runs them: `collect`, `process`, `serve` and `start --broker` against the
 * run's real Kafka broker, `serve` read-only without one, every subcommand's `--help`, and two
 * embedded writers sharing one warehouse.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { DeltaTable } from '../../src/lake/index.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { CryptovizProcess, readSse, runCli } from '../harness/cryptoviz-process.ts'
import { kafkaBootstrap, uniquePrefix, waitFor } from '../harness/kafka.ts'
import { startKafka } from '../harness/kafka-server.ts'

const FAST = [
  '--sim-interval-ms',
  '200',
  '--sim-assets',
  '5',
  '--flush-idle-ms',
  '300',
  '--flush-interval-ms',
  '1000',
]

function spawnRole(t: TestContext, args: string[]): CryptovizProcess {
  const p = new CryptovizProcess(args, { CRYPTOVIZ_LOG_LEVEL: 'info', CRYPTOVIZ_SOURCE: 'simulated' })
  t.after(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL')
  })
  return p
}

const runningUrl = async (p: CryptovizProcess): Promise<string> =>
  (await p.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000))['url'] as string

const json = async (url: string): Promise<Record<string, unknown>> =>
  (await (await fetch(url)).json()) as Record<string, unknown>

test('every role subcommand answers --help with its own flags and starts nothing', async () => {
  const expectations: Record<string, { has: string[]; lacks: string[] }> = {
    start: { has: ['--broker', '--warehouse', '--source', '--port'], lacks: [] },
    collect: {
      has: ['--broker', '--source', '--collector-state', 'CRYPTOVIZ_BROKER'],
      lacks: ['--warehouse', '--port'],
    },
    process: {
      has: ['--broker', '--warehouse', '--group', 'CRYPTOVIZ_GROUP', '--max-buffer-bytes'],
      lacks: ['--source'],
    },
    serve: { has: ['--warehouse', '--broker', '--port'], lacks: ['--group', '--source'] },
  }
  for (const [command, e] of Object.entries(expectations)) {
    for (const flag of ['-h', '--help']) {
      // A port that is surely taken would make a started server fail: help must not get there.
      const r = await runCli([command, flag, '--port', '1'])
      assert.equal(r.code, 0, `${command} ${flag}: ${r.stderr}`)
      assert.match(r.stdout, new RegExp(`^Usage: cryptoviz ${command} \\[options\\]`))
      for (const s of e.has) assert.ok(r.stdout.includes(s), `${command} --help names ${s}`)
      for (const s of e.lacks) assert.ok(!r.stdout.includes(`${s} `), `${command} --help does not offer ${s}`)
      assert.ok(!r.stdout.includes('"msg"'), 'no log line: nothing started')
    }
  }
})

test('collect → Kafka → process → lake, served by serve: quotes flow, lag and batches in /stats, live stream from the topic', async (t) => {
  const prefix = uniquePrefix()
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-roles-'))
  const kafka = ['--broker', kafkaBootstrap(), '--topic-prefix', prefix]
  const collector = spawnRole(t, [
    'collect',
    ...kafka,
    ...FAST,
    '--collector-state',
    join(warehouse, '..', `${prefix}-collector.json`),
  ])
  await collector.waitForLog((l) => l.msg === 'collecting', 60_000)
  const processor = spawnRole(t, [
    'process',
    ...kafka,
    '--warehouse',
    warehouse,
    '--group',
    `${prefix}-g`,
    '--port',
    '0',
    ...FAST,
  ])
  const processorUrl = await runningUrl(processor)
  const table = join(warehouse, 'quotes')
  await waitFor('the quotes table', () => existsSync(join(table, '_delta_log')), 60_000)
  const server = spawnRole(t, ['serve', ...kafka, '--warehouse', warehouse, '--port', '0'])
  const url = await runningUrl(server)
  const live = await readSse(`${url}/api/v1/stream`, 3, { timeoutMs: 20_000 })
  assert.ok(live.length >= 3, 'live quotes from the topic')
  await waitFor(
    'committed rows served',
    async () => {
      const r = await json(`${url}/api/v1/quotes?crypto=bitcoin&includePending=false`)
      return Number(r['count']) > 0
    },
    60_000,
  )
  const stats = await json(`${processorUrl}/stats`)
  const lag = stats['consumer_lag'] as Array<{ topic: string; partition: number; lag: number }>
  assert.ok(
    lag.some((l) => l.topic === `${prefix}.quotes`),
    'lag per partition of the quotes topic',
  )
  assert.ok(Number(stats['batches']) > 0)
  assert.equal(typeof stats['last_commit_ms'], 'number')
  const metrics = await (await fetch(`${processorUrl}/metrics`)).text()
  assert.match(metrics, /cryptoviz_consumer_lag\{topic="[^"]+\.quotes",partition="\d+"\} \d+/)
  assert.match(metrics, /cryptoviz_pauses_total \d+/)
  const health = await json(`${url}/health`)
  assert.deepEqual((health['components'] as Record<string, { status: string; kind?: string }>)['bus'], {
    status: 'ok',
    kind: 'kafka',
  })
  for (const p of [collector, processor, server]) p.child.kill('SIGTERM')
  for (const p of [collector, processor, server]) assert.equal((await p.exited).code, 0)
})

test("two processors in one group: table maintenance runs in the holder of the quotes topic's partition 0 only", async (t) => {
  const prefix = uniquePrefix()
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-maintenance-owner-'))
  const kafka = ['--broker', kafkaBootstrap(), '--topic-prefix', prefix]
  const processors = [0, 1].map(() =>
    spawnRole(t, [
      'process',
      ...kafka,
      ...['--warehouse', warehouse, '--group', `${prefix}-g`, '--port', '0', '--topic-partitions', '2'],
      ...['--maintenance-interval-ms', '100'],
    ]),
  )
  const urls = await Promise.all(processors.map(runningUrl))
  type Stats = { holdsZero: boolean; runs: number; skipped: number; state: string }
  const statsOf = async (url: string): Promise<Stats> => {
    const s = await json(`${url}/stats`)
    const lag = (s['consumer_lag'] ?? []) as Array<{ topic: string; partition: number }>
    return {
      holdsZero: lag.some((l) => l.topic === `${prefix}.quotes` && l.partition === 0),
      runs: Number(s['maintenance_runs']),
      skipped: Number(s['maintenance_runs_skipped_not_owner']),
      state: (s['maintenance'] as { state: string }).state,
    }
  }
  // Once the group has settled, one member holds partition 0 and the other one partition 1.
  let settled: Stats[] = []
  await waitFor(
    'one quotes partition per member',
    async () => {
      settled = await Promise.all(urls.map(statsOf))
      return settled.filter((s) => s.holdsZero).length === 1 && settled.every((s) => s.skipped + s.runs > 0)
    },
    60_000,
  )
  await new Promise((r) => setTimeout(r, 1_000))
  const later = await Promise.all(urls.map(statsOf))
  const owner = settled.findIndex((s) => s.holdsZero)
  const other = 1 - owner
  assert.equal(later[owner]!.holdsZero, true, 'the assignment did not move meanwhile')
  assert.ok(later[owner]!.runs > settled[owner]!.runs, 'the holder of partition 0 keeps running maintenance')
  assert.equal(later[other]!.runs, settled[other]!.runs, 'the other member runs none')
  assert.ok(later[other]!.skipped > settled[other]!.skipped, 'it skips its scheduled runs')
  assert.equal(later[other]!.state, 'standby')
  for (const p of processors) p.child.kill('SIGTERM')
  for (const p of processors) assert.equal((await p.exited).code, 0)
})

test('start --broker runs all three roles in one process against Kafka', async (t) => {
  const prefix = uniquePrefix()
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-start-kafka-'))
  const p = spawnRole(t, [
    'start',
    '--broker',
    kafkaBootstrap(),
    '--topic-prefix',
    prefix,
    '--warehouse',
    warehouse,
    '--port',
    '0',
    ...FAST,
  ])
  const url = await runningUrl(p)
  await waitFor(
    'committed rows',
    async () => {
      const r = await json(`${url}/api/v1/quotes?crypto=bitcoin&includePending=false`)
      return Number(r['count']) > 0
    },
    60_000,
  )
  const table = await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))
  const snap = await table.snapshot()
  assert.ok(
    snap.txnVersion(`cryptoviz-processors:${prefix}.quotes:0`) !== undefined ||
      [1, 2, 3, 4, 5].some(
        (i) => snap.txnVersion(`cryptoviz-processors:${prefix}.quotes:${i}`) !== undefined,
      ),
    'txns per Kafka partition',
  )
  p.child.kill('SIGTERM')
  assert.equal((await p.exited).code, 0)
})

test('serve without a broker serves an existing lake read-only and creates nothing', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'cryptoviz-serve-'))
  const missing = await runCli(['serve', '--warehouse', join(empty, 'nothing-here'), '--port', '0'])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /DELTA_TABLE_NOT_FOUND/)
  assert.equal(existsSync(join(empty, 'nothing-here')), false, 'no warehouse created')
  const warehouse = join(empty, 'lake')
  const gen = await runCli([
    'generate',
    '--warehouse',
    warehouse,
    '--assets',
    '2',
    '--days',
    '1',
    '--interval',
    '3600',
  ])
  assert.equal(gen.code, 0, gen.stderr)
  const p = spawnRole(t, ['serve', '--warehouse', warehouse, '--port', '0'])
  const url = await runningUrl(p)
  const health = await json(`${url}/health`)
  const lake = (health['components'] as Record<string, Record<string, unknown>>)['lake']!
  assert.equal(lake['read_only'], true)
  assert.equal((health['components'] as Record<string, unknown>)['processor'], undefined)
  const before = (await (await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))).snapshot()).version
  p.child.kill('SIGTERM')
  assert.equal((await p.exited).code, 0)
  const after = (await (await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))).snapshot()).version
  assert.equal(after, before, 'nothing committed')
})

test('two embedded writers on one warehouse: each its own identity, reported written = rows in the table', async (t) => {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-two-'))
  const args = ['start', '--warehouse', warehouse, '--port', '0', ...FAST]
  const a = spawnRole(t, args)
  const b = spawnRole(t, args)
  await Promise.all([runningUrl(a), runningUrl(b)])
  await new Promise((r) => setTimeout(r, 3_000))
  a.child.kill('SIGTERM')
  b.child.kill('SIGTERM')
  const [ea, eb] = await Promise.all([a.exited, b.exited])
  assert.equal(ea.code, 0)
  assert.equal(eb.code, 0)
  const written = [a, b].map((p) =>
    Number(p.logs.find((l) => l.msg === 'CryptoViz stopped')?.['records_written']),
  )
  const writers = new Set([a, b].map((p) => p.logs.find((l) => l.msg === 'CryptoViz is running')?.['writer']))
  assert.equal(writers.size, 2, 'two identities')
  const rows = (
    await (await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))).snapshot()
  ).numRecords()
  assert.ok(written[0]! > 0 && written[1]! > 0)
  assert.equal(rows, written[0]! + written[1]!)
})

test('two embedded writers given the same --writer-id: the second is fenced loudly and exits', async (t) => {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-fence-'))
  const args = ['start', '--warehouse', warehouse, '--port', '0', '--writer-id', 'same', ...FAST]
  const a = spawnRole(t, args)
  const b = spawnRole(t, args)
  await Promise.all([runningUrl(a), runningUrl(b)])
  const first = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)])
  assert.equal((await first.exited).code, 3)
  assert.match(first.stderr, /WRITER_FENCED: .*two writers share the identity "same"/)
  const other = first === a ? b : a
  other.child.kill('SIGTERM')
  assert.equal((await other.exited).code, 0)
  const written = Number(other.logs.find((l) => l.msg === 'CryptoViz stopped')?.['records_written'])
  const fencedWritten = Number(
    first.logs.find((l) => l.msg === 'CryptoViz stopped')?.['records_written'] ?? 0,
  )
  const rows = (
    await (await DeltaTable.open(new LocalStore(join(warehouse, 'quotes')))).snapshot()
  ).numRecords()
  assert.equal(rows, written + fencedWritten, 'what each reports written is what the table holds')
})

test('/health is degraded with the reason while the broker is unreachable, and ok again after', async (t) => {
  const kafka = await startKafka()
  t.after(() => kafka.stop())
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-health-'))
  const p = spawnRole(t, [
    'start',
    '--broker',
    kafka.bootstrap,
    '--warehouse',
    warehouse,
    '--port',
    '0',
    ...FAST,
  ])
  const url = await runningUrl(p)
  const bus = async (): Promise<{ status: string; reason?: string }> =>
    ((await json(`${url}/health`))['components'] as Record<string, { status: string; reason?: string }>)[
      'bus'
    ]!
  await waitFor('bus ok', async () => (await bus()).status === 'ok', 30_000)
  await kafka.kill()
  await waitFor('bus degraded', async () => (await bus()).status === 'degraded', 60_000)
  assert.match((await bus()).reason ?? '', /broker unreachable since \d{4}-/)
  assert.equal((await json(`${url}/health`))['status'], 'degraded')
  await kafka.restart()
  await waitFor('bus ok again', async () => (await bus()).status === 'ok', 60_000)
  p.child.kill('SIGTERM')
  assert.equal((await p.exited).code, 0)
})
