/**
 * A writer process for the multi-process lake tests: opens the table in a local folder and
 * appends `commits` batches of `rows` rows, each row unique to (worker, batch, index). Prints
 * one JSON line per committed batch so the parent can follow (and kill) it.
 *
 * Usage: node append-worker.ts <tableDir> <workerId> <commits> <rows>
 */
import { DeltaTable } from '../../../src/lake/index.ts'
import { LocalStore } from '../../../src/storage/local-store.ts'

const [dir, id, commits, rows] = process.argv.slice(2)
if (dir === undefined || id === undefined)
  throw new Error('usage: append-worker.ts <dir> <id> <commits> <rows>')
const n = Number(commits ?? 50)
const perBatch = Number(rows ?? 10)
const table = await DeltaTable.open(new LocalStore(dir))
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
const base = Date.UTC(2024, 0, 5) * 1000
for (let batch = 0; batch < n; batch++) {
  const batchRows = Array.from({ length: perBatch }, (_, i) => ({
    ts: base + (batch * perBatch + i) * 1000,
    crypto: `w${id}`,
    price: batch,
    note: `${id}/${batch}/${i}`,
  }))
  const r = await table.append(batchRows, { maxRetries: 10_000 })
  if (r.status !== 'committed') throw new Error(`batch ${batch} not committed: ${JSON.stringify(r)}`)
  process.stdout.write(`${JSON.stringify({ batch, version: r.version, attempts: r.attempts })}\n`)
}
