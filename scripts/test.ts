/**
 * The one test command (`npm test`): checks formatting, lint and types, prepares what the
 * integration suites need (cached under .cache/), then runs every test with node's runner.
 * Nothing is skipped: a missing system prerequisite stops the run with what to install.
 */
import { spawnSync } from 'node:child_process'

function run(label: string, cmd: string, args: string[]): void {
  const started = performance.now()
  process.stdout.write(`\n▶ ${label}\n`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env })
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
run('node --test', process.execPath, [
  '--test',
  '--test-concurrency=2',
  // One real Kafka broker for the whole run (test/global-setup.ts).
  '--test-global-setup=test/global-setup.ts',
  '--test-timeout=600000',
  // One moto S3 server for the run (TEST_S3_ENDPOINT), stopped even when tests fail.
  '--test-global-setup=test/global-setup.ts',
  ...(only.length > 0 ? only : ['test/**/*.test.ts']),
])
