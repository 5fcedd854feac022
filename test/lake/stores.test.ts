/**
 * The lake suite (memory store by default) re-run on the other stores: a local folder and S3 on
 * the run's moto server (`CRYPTOVIZ_TEST_LAKE_STORE`, see `lakeTestStore`). Each run is a child
 * `node --test` over the same files, so a failure names the test and the store.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { testS3Endpoint } from '../harness/moto-server.ts'

const HERE = fileURLToPath(new URL('.', import.meta.url))
/**
 * concurrency.test.ts covers local and S3 itself; this file must not run itself. vacuum.test.ts
 * walks a fake clock through data files' ages, and only the memory store's modification times
 * follow an injected clock (a real folder or bucket stamps the real time); the store operations
 * VACUUM uses (list, delete) are covered on every store by the object-store contract suite.
 */
const SKIP = new Set(['stores.test.ts', 'concurrency.test.ts', 'parquet-encoder.test.ts', 'vacuum.test.ts'])
const FILES = readdirSync(HERE)
  .filter((f) => f.endsWith('.test.ts') && !SKIP.has(f))
  .map((f) => HERE + f)

function runSuite(store: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--test', '--test-concurrency=1', '--test-reporter=tap', ...FILES],
      {
        // Without NODE_TEST_CONTEXT: the child is a runner of its own, not a file of this run.
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')),
          CRYPTOVIZ_TEST_LAKE_STORE: store,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

for (const store of ['local', 's3']) {
  test(`the lake suite passes on the ${store} store`, async () => {
    if (store === 's3') testS3Endpoint() // fails clearly without the moto server
    const { code, out } = await runSuite(store)
    const failures = out.split('\n').filter((l) => /^\s*not ok /.test(l))
    assert.equal(code, 0, `${failures.join('\n')}\n${out.slice(-4000)}`)
    const passed = Number(/# pass (\d+)/.exec(out)?.[1] ?? 0)
    assert.ok(passed >= 80, `expected the whole suite to run, saw ${passed} passing tests`)
  })
}
