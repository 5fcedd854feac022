/**
 * Keeps the benchmark runner from rotting: the smallest real section runs end to end through
 * `bench/run.ts` and must print its table and write well-formed JSON. No timing is asserted.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const RUN = new URL('../../bench/run.ts', import.meta.url).pathname

test('the quick storage benchmark prints its table and writes JSON with its metrics', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-bench-smoke-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const json = join(dir, 'out.json')
  const r = spawnSync(process.execPath, [RUN, '--quick', '--only', 'storage', '--json', json], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^Storage: bytes per quote/m)
  assert.match(r.stdout, /^format\s+MB\s+bytes\/quote\s+% of CSV$/m)
  assert.match(r.stdout, /^CSV \(cryptoviz query --format csv rows\)\s+[\d.]+\s+[\d.]+\s+100$/m)

  const doc = JSON.parse(readFileSync(json, 'utf8')) as {
    format: string
    quick: boolean
    machine: { cores: number; node: string }
    sections: { section: string; tables: { rows: unknown[][] }[]; metrics: Record<string, number | null> }[]
    failures: unknown[]
  }
  assert.equal(doc.format, 'cryptoviz-bench/1')
  assert.equal(doc.quick, true)
  assert.equal(doc.machine.node, process.version)
  assert.deepEqual(doc.failures, [])
  assert.deepEqual(
    doc.sections.map((s) => s.section),
    ['storage'],
  )
  const storage = doc.sections[0]!
  assert.equal(storage.tables[0]!.rows.length, 7)
  const { parquet_bytes_per_quote: parquet, csv_bytes_per_quote: csv } = storage.metrics
  assert.ok(typeof parquet === 'number' && parquet > 0, `parquet bytes per quote: ${parquet}`)
  assert.ok(typeof csv === 'number' && csv > parquet, `csv bytes per quote: ${csv}`)
  assert.equal(storage.metrics['storage_quotes'], 144_000)
})

test('the runner refuses an unknown section and names it', () => {
  const r = spawnSync(process.execPath, [RUN, '--only', 'storage,warp-drive'], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown section\(s\): warp-drive/)
})
