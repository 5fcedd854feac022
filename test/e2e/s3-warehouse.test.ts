/**
 * `cryptoviz` end to end on an S3 warehouse (moto on 127.0.0.1): generate/query/check with
 * `--warehouse s3://…`, a store that ignores conditional writes refused by name, and the outage
 * test: the S3 server frozen (SIGSTOP) for 30 s during ingestion, then resumed — /health says
 * degraded meanwhile, and every received quote lands in the table exactly once.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { DeltaTable } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { createWarehouseStore } from '../../src/storage/warehouse-uri.ts'
import { CryptovizProcess, runCli } from '../harness/cryptoviz-process.ts'
import { MOTO_CREDENTIALS, motoClient, startMoto, testS3Endpoint } from '../harness/moto-server.ts'
import { startS3Proxy } from '../harness/s3-proxy.ts'

const awsEnv = (endpoint: string): Record<string, string> => ({
  CRYPTOVIZ_S3_ENDPOINT: endpoint,
  AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
})

async function newBucket(endpoint: string): Promise<string> {
  const bucket = `e2e-${Math.random().toString(36).slice(2, 10)}`
  await motoClient(endpoint).send(new CreateBucketCommand({ Bucket: bucket }))
  return bucket
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('generate, query and check work on an s3:// warehouse', async () => {
  const endpoint = testS3Endpoint()
  const env = awsEnv(endpoint)
  const warehouse = `s3://${await newBucket(endpoint)}/lake`
  const cacheDir = await mkdtemp(join(tmpdir(), 'cryptoviz-e2e-cache-'))
  try {
    const gen = await runCli(
      [
        'generate',
        '--warehouse',
        warehouse,
        '--assets',
        '3',
        '--days',
        '1',
        '--interval',
        '600',
        '--end',
        '2024-01-10T00:00:00Z',
      ],
      env,
    )
    assert.equal(gen.code, 0, gen.stderr)
    assert.equal((JSON.parse(gen.stdout) as { rows: number }).rows, 3 * 144)
    const q = await runCli(
      ['query', '--warehouse', warehouse, '--crypto', 'bitcoin', '--read-cache-dir', cacheDir],
      env,
    )
    assert.equal(q.code, 0, q.stderr)
    assert.equal((JSON.parse(q.stdout) as unknown[]).length, 144)
    const check = await runCli(['check', '--warehouse', warehouse], env)
    assert.equal(check.code, 0, check.stdout + check.stderr)
    assert.match(check.stdout, /^OK\s+quotes:/m)
    assert.doesNotMatch(gen.stderr + q.stderr + check.stderr, /secretAccessKey|AWS_SECRET/)
  } finally {
    await rm(cacheDir, { recursive: true, force: true })
  }
})

test('writing to a store that ignores If-None-Match is refused with an error naming it; reads still work', async (t) => {
  const endpoint = testS3Endpoint()
  const bucket = await newBucket(endpoint)
  const warehouse = `s3://${bucket}/lake`
  const gen = await runCli(
    ['generate', '--warehouse', warehouse, '--assets', '1', '--days', '1', '--interval', '3600'],
    awsEnv(endpoint),
  )
  assert.equal(gen.code, 0, gen.stderr)
  const proxy = await startS3Proxy(endpoint, { stripIfNoneMatch: true })
  t.after(() => proxy.close())
  const refused = await runCli(
    ['generate', '--warehouse', warehouse, '--assets', '1', '--days', '1'],
    awsEnv(proxy.endpoint),
  )
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, new RegExp(`s3://${bucket}/lake ignores conditional writes`))
  const check = await runCli(['check', '--warehouse', warehouse], awsEnv(proxy.endpoint))
  assert.equal(check.code, 0, check.stdout + check.stderr)
})

test('S3 frozen for 30 s during ingestion: /health degraded meanwhile, every quote lands exactly once', async (t) => {
  // A server of its own: freezing the run's shared one would stall other test files.
  const moto = await startMoto()
  t.after(() => moto.stop())
  const bucket = await newBucket(moto.endpoint)
  const warehouse = `s3://${bucket}/lake`
  const spoolDir = await mkdtemp(join(tmpdir(), 'cryptoviz-spool-'))
  t.after(() => rm(spoolDir, { recursive: true, force: true }))
  const proc = new CryptovizProcess(['start', '--warehouse', warehouse, '--port', '0'], {
    ...awsEnv(moto.endpoint),
    CRYPTOVIZ_LOG_LEVEL: 'info',
    CRYPTOVIZ_SOURCE: 'simulated',
    CRYPTOVIZ_SIM_ASSETS: '20',
    CRYPTOVIZ_SIM_INTERVAL_MS: '200',
    CRYPTOVIZ_FLUSH_INTERVAL_MS: '1000',
    // A small buffer bound (4 batches) makes the outage overflow into the spool.
    CRYPTOVIZ_FLUSH_MAX_ROWS: '100',
    CRYPTOVIZ_MAX_BUFFER_ROWS: '400',
    CRYPTOVIZ_S3_TIMEOUT_MS: '1500',
    CRYPTOVIZ_SPOOL_DIR: spoolDir,
  })
  t.after(() => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
  })
  const url = (await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 30_000))['url'] as string
  const health = async (): Promise<{ status: string; components: Record<string, Record<string, unknown>> }> =>
    (await fetch(`${url}/health`)).json() as Promise<{
      status: string
      components: Record<string, Record<string, unknown>>
    }>
  await proc.waitForLog((l) => l.msg === 'batch committed', 30_000)
  assert.equal((await health()).components['lake']!['status'], 'ok')

  process.kill(moto.pid, 'SIGSTOP')
  const frozenAt = Date.now()
  let degraded: Record<string, unknown> | undefined
  let maxSpooled = 0
  try {
    while (Date.now() - frozenAt < 30_000) {
      const h = await health()
      if (h.components['lake']!['status'] === 'degraded') degraded ??= h.components['lake']
      const waiting = h.components['lake']!['waiting'] as { spool: number } | undefined
      maxSpooled = Math.max(maxSpooled, waiting?.spool ?? 0)
      await sleep(500)
    }
  } finally {
    process.kill(moto.pid, 'SIGCONT')
  }
  assert.ok(degraded, '/health reported the lake degraded during the outage')
  assert.match(String(degraded['reason']), new RegExp(`commits to s3://${bucket}/lake are failing`))
  assert.ok(maxSpooled > 0, 'quotes beyond the memory bound waited in the spool')

  // Back: the waiting quotes are committed and /health recovers.
  const deadline = Date.now() + 120_000
  for (;;) {
    const h = await health()
    const lake = h.components['lake']!
    if (lake['status'] === 'ok' && (h.components['processor']!['spooled'] as number) === 0) break
    assert.ok(Date.now() < deadline, `the lake did not recover: ${JSON.stringify(h)}`)
    await sleep(500)
  }
  proc.child.kill('SIGTERM')
  const stopped = await proc.waitForLog((l) => l.msg === 'CryptoViz stopped', 120_000)
  await proc.exited
  const received = stopped['records_received'] as number
  assert.equal(stopped['buffered'], 0)

  const store = createWarehouseStore(warehouse, {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  })
  const table = await DeltaTable.open(store.child('quotes'))
  const rows = await readRows(store.child('quotes'), await table.snapshot(), {
    columns: ['source', 'crypto', 'ts'],
  })
  const keys = new Set(rows.map((r) => `${String(r.source)}/${String(r.crypto)}/${String(r.ts)}`))
  assert.ok(received > 3000, `ingestion kept running during the outage (${received} quotes)`)
  assert.equal(rows.length, received, 'every received quote is in the table')
  assert.equal(keys.size, rows.length, 'no quote is in the table twice')
})
