/**
 * A writer process for the multi-process lake tests: opens the table in a local folder (or at
 * `s3://bucket/prefix` on the test run's moto server, `TEST_S3_ENDPOINT`) and
 * appends `commits` batches of `rows` rows, each row unique to (worker, batch, index). Prints
 * one JSON line per committed batch so the parent can follow (and kill) it.
 *
 * Usage: node append-worker.ts <tableDir | s3://bucket/prefix> <workerId> <commits> <rows>
 */
import { DeltaTable } from '../../../src/lake/index.ts'
import { createWarehouseStore } from '../../../src/storage/warehouse-uri.ts'
import { MOTO_CREDENTIALS } from '../../harness/moto-server.ts'

const [dir, id, commits, rows] = process.argv.slice(2)
if (dir === undefined || id === undefined)
  throw new Error('usage: append-worker.ts <dir> <id> <commits> <rows>')
const n = Number(commits ?? 50)
const perBatch = Number(rows ?? 10)
const store = createWarehouseStore(dir, {
  endpoint: process.env.TEST_S3_ENDPOINT,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: MOTO_CREDENTIALS,
})
const table = await DeltaTable.open(store)
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
