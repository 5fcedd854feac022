/**
 * `node bench/write-preloaded.ts --warehouse DIR [--assets N] [--days D] [--interval SECONDS]`:
 * our lake write alone, like-for-like with the peers' `write_deltalake(rows)` in
 * bench/write-peers.ts. The rows `cryptoviz generate` would write are simulated first, outside the
 * clock (column-wise, one chunk per half of the assets per day, as generate builds them); the
 * clock then covers only the writing: opening a fresh table, one `appendColumns` per day (the
 * worker thread encodes one half's files while this thread encodes the other's), the commits.
 * Prints one JSON line: `{ ms, rows, files }`. Run by write-peers with the product's V8 flags.
 */
import { parseArgs } from 'node:util'
import { inThreadEncoder, WorkerEncoder } from '../src/lake/index.ts'
import { QUOTES_SORT_BY } from '../src/model/quote-table.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { MarketSimulator } from '../src/sources/simulated.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { chunkToColumns } from '../src/stream/quote-columns.ts'

const { values } = parseArgs({
  options: {
    warehouse: { type: 'string' },
    assets: { type: 'string', default: '100' },
    days: { type: 'string', default: '30' },
    interval: { type: 'string', default: '60' },
  },
  strict: true,
})
if (!values.warehouse) throw new Error('--warehouse DIR is required')
const DAY = 86_400_000_000
const step = Number(values.interval) * 1_000_000
const end = Date.UTC(2024, 5, 1) * 1000 // generate's --end in write-peers: 2024-06-01T00:00:00Z
const start = end - Number(values.days) * DAY
const simulator = new MarketSimulator({ assets: Number(values.assets), seed: 42, startTs: start })
const half = Math.ceil(simulator.assetCount / 2)

// Preload: every day's quotes, as generate makes them (same seed, same days), before the clock.
const days: ReturnType<MarketSimulator['chunk']>[][] = []
for (let ts = start; ts < end;) {
  const times: number[] = []
  const day = Math.floor(ts / DAY)
  for (; ts < end && Math.floor(ts / DAY) === day; ts += step) times.push(ts)
  const parts = [simulator.startChunk(times, 0, half), simulator.startChunk(times, half)]
  for (let a = 0; a < simulator.assetCount; a++) parts[a < half ? 0 : 1]!.fill(a)
  days.push(parts.map((p) => p.chunk))
}

const started = performance.now()
const warehouse = await openWarehouse(new LocalStore(values.warehouse))
const worker = new WorkerEncoder()
let rows = 0
let files = 0
try {
  for (const parts of days) {
    const r = await warehouse.quotes.appendColumns(parts.map(chunkToColumns), {
      sortBy: QUOTES_SORT_BY,
      operation: 'WRITE',
      encoder: [worker, inThreadEncoder],
    })
    if (r.status === 'committed') {
      rows += r.rows
      files += r.files.length
    }
  }
} finally {
  await worker.close()
}
const ms = performance.now() - started
process.stdout.write(`${JSON.stringify({ ms, rows, files })}\n`)
