import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CryptovizProcess } from '../harness/cryptoviz-process.ts'

const RECORDER = new URL('./record-loaded-modules.ts', import.meta.url).pathname

test('start on the in-process bus and a local warehouse never loads the Kafka or S3 clients', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-modules-'))
  const record = join(dir, 'loaded.json')
  const proc = new CryptovizProcess(
    [
      'start',
      '--warehouse',
      join(dir, 'wh'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--sim-assets',
      '5',
      '--flush-interval-ms',
      '500',
    ],
    {
      CRYPTOVIZ_LOG_LEVEL: 'info',
      CRYPTOVIZ_SOURCE: 'simulated',
      CRYPTOVIZ_COLLECTOR_STATE: join(dir, 'collector.json'),
      RECORD_LOADED_MODULES: record,
    },
    ['--import', RECORDER],
  )
  t.after(() => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
  })
  await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)
  // A commit went through the lake and the store: the whole ingest path has been loaded.
  await proc.waitForLog((l) => l.table === 'quotes' && typeof l.version === 'number', 60_000)
  proc.child.kill('SIGTERM')
  assert.equal((await proc.exited).code, 0)

  const loaded = JSON.parse(readFileSync(record, 'utf8')) as string[]
  // The recorder saw the runtime itself (it recorded the process that ran, not an empty list).
  assert.ok(loaded.some((u) => u.endsWith('/src/runtime/embedded.ts')))
  assert.ok(loaded.some((u) => u.endsWith('/src/storage/local-store.ts')))
  const clients = loaded.filter((u) =>
    /@platformatic\/kafka|@aws-sdk\/|\/src\/bus\/kafka-bus\.ts|\/src\/storage\/s3-store\.ts/.test(u),
  )
  assert.deepEqual(clients, [])
})
