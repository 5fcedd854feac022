import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'
import {
  COMPILE_CACHE_ENV,
  nodeFlags,
  relaunchEnvironment,
  RELAUNCHED_ENV,
} from '../../src/cli/node-flags.ts'
import { CryptovizProcess } from '../harness/cryptoviz-process.ts'

const BIN = new URL('../../bin/cryptoviz.js', import.meta.url).pathname
const cmdline = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')

const startArgs = (): string[] => [
  'start',
  ...['--warehouse', mkdtempSync(join(tmpdir(), 'cryptoviz-node-flags-'))],
  ...['--port', '0', '--source', 'simulated', '--log-format', 'json'],
]

/** The environment without a relaunch marker inherited from the test runner. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', ...extra }
  delete env[RELAUNCHED_ENV]
  return env
}

test('the memory bound sizes the old space; without one only the young generation is bounded', () => {
  assert.deepEqual(nodeFlags(0), ['--max-semi-space-size=4', '--heap-growing-percent=50'])
  assert.deepEqual(nodeFlags(400), [
    '--max-semi-space-size=4',
    '--heap-growing-percent=50',
    '--max-old-space-size=240',
  ])
  assert.equal(nodeFlags(50).at(-1), '--max-old-space-size=64')
})

test('the process role gets a larger young generation than the other roles, the same old-space bound', () => {
  assert.deepEqual(nodeFlags(0, 'process'), ['--max-semi-space-size=8', '--heap-growing-percent=50'])
  assert.deepEqual(nodeFlags(400, 'process').slice(1), nodeFlags(400, 'start').slice(1))
  assert.deepEqual(nodeFlags(400, 'start'), nodeFlags(400))
})

test('generate and optimize grow the old generation in smaller steps, under the same bounds', () => {
  for (const batch of ['generate', 'optimize']) {
    assert.deepEqual(nodeFlags(300, batch), [
      '--max-semi-space-size=4',
      '--heap-growing-percent=25',
      '--max-old-space-size=180',
    ])
  }
  assert.ok(nodeFlags(300, 'start').includes('--heap-growing-percent=50'), 'live roles keep 50%')
})

test('start relaunches itself in place with the V8 flags: same PID, and SIGTERM still stops it gracefully', async (t) => {
  if (process.platform !== 'linux') return t.skip('reads /proc')
  const env: Record<string, string> = { CRYPTOVIZ_MEMORY_LIMIT_MB: '300', NODE_OPTIONS: '' }
  const saved = process.env[RELAUNCHED_ENV]
  delete process.env[RELAUNCHED_ENV] // the harness passes the test runner's environment on
  let proc: CryptovizProcess
  try {
    proc = new CryptovizProcess(startArgs(), env)
  } finally {
    if (saved !== undefined) process.env[RELAUNCHED_ENV] = saved
  }
  t.after(() => proc.child.kill('SIGKILL'))
  await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)
  const pid = proc.child.pid!
  const argv = cmdline(pid)
  for (const flag of nodeFlags(300)) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`)
  assert.ok(argv.indexOf('--max-old-space-size=180') < argv.findIndex((a) => a.endsWith('main.ts')))
  assert.ok(environ(pid).some((e) => e.startsWith(`${RELAUNCHED_ENV}=`)))
  // glibc's arenas are capped in the process that runs (the variable is read at exec).
  assert.ok(environ(pid).includes('MALLOC_ARENA_MAX=2'))
  // Node's compile cache, so a warm start never loads the TypeScript stripper.
  assert.ok(environ(pid).includes(`NODE_COMPILE_CACHE=${COMPILE_CACHE_ENV['NODE_COMPILE_CACHE']}`))
  proc.child.kill('SIGTERM')
  const exit = await proc.exited
  assert.deepEqual(exit, { code: 0, signal: null })
  assert.ok(
    proc.logs.some((l) => l.msg === 'CryptoViz stopped'),
    'stopped gracefully after committing',
  )
})

test('the bin relaunches too, and exit codes and output come through unchanged', () => {
  const bad = spawnSync(process.execPath, [BIN, 'no-such-command'], { env: cleanEnv(), encoding: 'utf8' })
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /unknown command "no-such-command"/)
  const config = spawnSync(process.execPath, [BIN, 'config', '--memory-limit-mb', '250'], {
    env: cleanEnv(),
    encoding: 'utf8',
  })
  assert.equal(config.status, 0)
  assert.equal((JSON.parse(config.stdout) as { memoryLimitMb: number }).memoryLimitMb, 250)
  const invalid = spawnSync(process.execPath, [BIN, 'config'], {
    env: cleanEnv({ CRYPTOVIZ_MEMORY_LIMIT_MB: 'lots' }),
    encoding: 'utf8',
  })
  assert.equal(invalid.status, 2)
  assert.match(invalid.stderr, /memoryLimitMb/)
})

test('the relaunch keeps a compile cache the caller set or turned off', () => {
  assert.equal(relaunchEnvironment({})['NODE_COMPILE_CACHE'], COMPILE_CACHE_ENV['NODE_COMPILE_CACHE'])
  assert.equal(relaunchEnvironment({ NODE_COMPILE_CACHE: '/x' })['NODE_COMPILE_CACHE'], '/x')
  const off = relaunchEnvironment({ NODE_DISABLE_COMPILE_CACHE: '1' })
  assert.equal(off['NODE_COMPILE_CACHE'], undefined)
  assert.equal(off['MALLOC_ARENA_MAX'], '2')
})

test('flags, malloc and compile-cache settings given by hand win over the defaults and no second relaunch happens', async (t) => {
  if (process.platform !== 'linux') return t.skip('reads /proc')
  const saved = process.env[RELAUNCHED_ENV]
  delete process.env[RELAUNCHED_ENV]
  const cache = mkdtempSync(join(tmpdir(), 'cryptoviz-compile-cache-'))
  let proc: CryptovizProcess
  try {
    proc = new CryptovizProcess(
      startArgs(),
      { NODE_OPTIONS: '', MALLOC_ARENA_MAX: '4', NODE_COMPILE_CACHE: cache },
      ['--max-semi-space-size=8'],
    )
  } finally {
    if (saved !== undefined) process.env[RELAUNCHED_ENV] = saved
  }
  t.after(() => proc.child.kill('SIGKILL'))
  await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)
  const argv = cmdline(proc.child.pid!)
  assert.equal(argv.filter((a) => a.startsWith('--max-semi-space-size')).join(), '--max-semi-space-size=8')
  assert.ok(argv.includes('--heap-growing-percent=50'))
  assert.ok(!argv.some((a) => a.startsWith('--max-old-space-size')))
  assert.ok(environ(proc.child.pid!).includes('MALLOC_ARENA_MAX=4'))
  assert.ok(environ(proc.child.pid!).includes(`NODE_COMPILE_CACHE=${cache}`))
  proc.child.kill('SIGTERM')
  assert.equal((await proc.exited).code, 0)
  // The relaunched process filled the caller's cache (Node writes it at exit).
  assert.ok(readdirSync(cache, { recursive: true }).length > 1, 'compile cache written')
})
