import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeltaTable } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { startCryptoviz } from '../harness/cryptoviz-process.ts'

const ARGS = [
  ...['--flush-interval-ms', '300', '--sim-interval-ms', '100', '--sim-assets', '3'],
  ...[
    '--maintenance-interval-ms',
    '1500',
    '--maintenance-current-day-min-files',
    '4',
    '--maintenance-pause-ms',
    '0',
  ],
]

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 250))
  }
}

test('start compacts the current day in the background and reports maintenance in /stats and /metrics', async (t) => {
  const { proc, url, warehouse } = await startCryptoviz(t, ARGS)
  const stats = await poll(async () => {
    const s = (await (await fetch(`${url}/stats`)).json()) as Record<string, unknown>
    return (s['maintenance_partitions_compacted'] as number) > 0 ? s : undefined
  }, 60_000)
  const detail = stats['maintenance'] as { state: string; last_run: unknown }
  assert.ok(['idle', 'running'].includes(detail.state))
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const compacted = /^cryptoviz_maintenance_partitions_compacted_total (\d+)$/m.exec(metrics)
  assert.ok(compacted && Number(compacted[1]) > 0, 'compactions are counted in /metrics')

  proc.child.kill('SIGTERM')
  assert.equal((await proc.exited).code, 0)
  // Every quote the processor committed is in the table exactly once, compaction notwithstanding.
  const store = new LocalStore(`${warehouse}/quotes`)
  const table = await DeltaTable.open(store)
  const snap = await table.snapshot()
  const rows = await readRows(store, snap, { columns: ['crypto', 'ts'] })
  const keys = new Set(rows.map((r) => `${String(r['crypto'])}|${String(r['ts'])}`))
  assert.equal(keys.size, rows.length, 'no duplicated quote')
  const history = await table.history()
  const written = history.filter((h) => h.operation !== 'OPTIMIZE').reduce((s, h) => s + h.rowsAdded, 0)
  assert.equal(rows.length, written, 'rows equal the rows all appends wrote')
  assert.ok(history.some((h) => h.operation === 'OPTIMIZE'))
})
