/**
 * The one test command (`npm test`): checks formatting, lint and types, prepares what the
 * integration suites need (cached under .cache/), then runs every test with node's runner.
 * Nothing is skipped: a missing system prerequisite stops the run with what to install.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function run(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const started = performance.now()
  process.stdout.write(`\n▶ ${label}\n`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env })
  const secs = ((performance.now() - started) / 1000).toFixed(1)
  if (r.status !== 0) {
    process.stdout.write(`✖ ${label} failed after ${secs}s\n`)
    process.exit(r.status ?? 1)
  }
  process.stdout.write(`✔ ${label} (${secs}s)\n`)
}

const only = process.argv.slice(2)
run('prettier --check', 'npx', ['prettier', '--check', '.'])
run('eslint', 'npx', ['eslint', '.'])
run('tsc --noEmit', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
run('prepare integration prerequisites', process.execPath, ['scripts/prepare-integration.ts'])
// Every temporary folder of the run (warehouses, broker and moto data, child processes' files)
// lives under one folder that is removed afterwards, pass or fail: hundreds of tests each make
// their own, and a suite that leaves them behind fills /tmp run after run.
const runTmp = mkdtempSync(join(tmpdir(), 'cryptoviz-test-run-'))
process.on('exit', () => rmSync(runTmp, { recursive: true, force: true }))
run(
  'node --test',
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    // One real Kafka broker and one moto S3 server for the whole run (test/global-setup.ts),
    // stopped even when tests fail.
    '--test-global-setup=test/global-setup.ts',
    '--test-timeout=600000',
    ...(only.length > 0 ? only : ['test/**/*.test.ts']),
  ],
  { ...process.env, TMPDIR: runTmp },
)
