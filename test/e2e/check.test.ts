import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../harness/cryptoviz-process.ts'

async function generated(): Promise<string> {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-check-'))
  const gen = await runCli([
    'generate',
    '--warehouse',
    warehouse,
    '--assets',
    '2',
    '--days',
    '2',
    '--interval',
    '3600',
    '--end',
    '2024-03-01',
  ])
  assert.equal(gen.code, 0, gen.stderr)
  return warehouse
}

test('check passes on a healthy warehouse and reports its tables', async () => {
  const warehouse = await generated()
  const r = await runCli(['check', '--warehouse', warehouse])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^OK +quotes: version 2, 3 commits, 0 checkpoints, 4 live files/m)
  assert.match(r.stdout, /^OK +dead_letters: version 0/m)
})

test('check exits non-zero and names the damage when a live file is truncated or missing', async () => {
  const warehouse = await generated()
  const dayDir = join(
    warehouse,
    'quotes',
    'year=2024',
    'month=02',
    'day=28',
    'source=simulated',
    'crypto=bitcoin',
  )
  const [file] = readdirSync(dayDir)
  truncateSync(join(dayDir, file!), 10)
  writeFileSync(join(dayDir, 'part-99999-orphan.snappy.parquet'), 'x')
  const r = await runCli(['check', '--warehouse', warehouse])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^DAMAGED quotes/m)
  assert.match(r.stdout, /problem: .*has 10 bytes, the log says \d+/)
  assert.match(r.stdout, /orphan: .*part-99999-orphan/)
})
