import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isoFromMicros } from '../../src/micros.ts'
import { MarketSimulator } from '../../src/sources/simulated.ts'
import { formatRow } from '../../src/cli/output.ts'
import { runCli } from '../harness/cryptoviz-process.ts'

const END = '2024-06-01T00:00:00Z'
const END_US = Date.parse(END) * 1000
const MINUTE = 60_000_000

test('generate writes 50 assets × 7 days at 60 s, and query returns exactly the generated rows', async () => {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-gen-'))
  const gen = await runCli([
    'generate',
    '--warehouse',
    warehouse,
    '--assets',
    '50',
    '--days',
    '7',
    '--interval',
    '60',
    '--seed',
    '7',
    '--end',
    END,
  ])
  assert.equal(gen.code, 0, gen.stderr)
  const summary = JSON.parse(gen.stdout) as { rows: number; commits: number; files: number }
  assert.equal(summary.rows, 50 * 7 * 1440)
  assert.equal(summary.files, 50 * 7)
  assert.match(gen.stderr, /generate: 100%/)

  // The expected rows: the same simulator, same seed, same ticks.
  const start = END_US - 7 * 1440 * MINUTE
  const sim = new MarketSimulator({ assets: 50, seed: 7, startTs: start })
  const qStart = start + 2 * 1440 * MINUTE + 17 * MINUTE
  const qEnd = qStart + 30 * 60 * MINUTE
  const expected = []
  for (let ts = start; ts < END_US; ts += MINUTE) {
    for (const q of sim.tick(ts)) {
      if (q.crypto === 'solana' && q.ts >= qStart && q.ts <= qEnd) expected.push(formatRow(q))
    }
  }
  assert.equal(expected.length, 30 * 60 + 1)

  const query = await runCli([
    'query',
    '--warehouse',
    warehouse,
    '--crypto',
    'solana',
    '--start',
    isoFromMicros(qStart),
    '--end',
    isoFromMicros(qEnd),
    '--format',
    'json',
  ])
  assert.equal(query.code, 0, query.stderr)
  assert.deepEqual(JSON.parse(query.stdout), expected)

  const csv = await runCli([
    'query',
    '--warehouse',
    warehouse,
    '--crypto',
    'solana',
    '--start',
    isoFromMicros(qStart),
    '--end',
    isoFromMicros(qStart + MINUTE),
    '--format',
    'csv',
  ])
  const lines = csv.stdout.trim().split('\n')
  assert.equal(lines.length, 3)
  assert.match(lines[0]!, /^ts,source,crypto,symbol,name,price_usd,/)
  assert.match(lines[1]!, /^2024-05-27T00:17:00\.000Z,simulated,solana,SOL,Solana,/)
})

test('query refuses a malformed crypto with a clear message and exit code 2', async () => {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-gen-'))
  const r = await runCli(['query', '--warehouse', warehouse, '--crypto', 'Bit Coin'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /INVALID_ARGUMENT: crypto/)
})

test('query on a folder without a table says so, exits 2 and creates nothing', async () => {
  const warehouse = join(mkdtempSync(join(tmpdir(), 'cryptoviz-gen-')), 'nothing-here')
  const r = await runCli(['query', '--warehouse', warehouse, '--crypto', 'bitcoin'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /DELTA_TABLE_NOT_FOUND: no quotes table/)
  assert.equal(existsSync(warehouse), false)
})
