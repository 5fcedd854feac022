/**
 * Snapshot memory: loads a table's latest snapshot in this process (three times, each from
 * scratch) and prints the load times, the live heap holding one snapshot (after a full GC) and
 * the process's RSS and kernel high-water mark. Run it with the GC exposed:
 *
 *   node --expose-gc bench/state-memory.ts --warehouse DIR [--table quotes]
 *
 * One JSON line on stdout; nothing is written anywhere.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DeltaTable } from '../src/lake/index.ts'
import { LocalStore } from '../src/storage/local-store.ts'

const { values } = parseArgs({ options: { warehouse: { type: 'string' }, table: { type: 'string' } } })
if (values.warehouse === undefined) {
  process.stderr.write('usage: node --expose-gc bench/state-memory.ts --warehouse DIR [--table quotes]\n')
  process.exit(2)
}
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const store = new LocalStore(join(values.warehouse, values.table ?? 'quotes'))
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10
const kernel = (field: string): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN
}
gc()
const heapBefore = process.memoryUsage().heapUsed
const loadsMs: number[] = []
let snapshot: Awaited<ReturnType<DeltaTable['snapshot']>> | undefined
for (let i = 0; i < 3; i++) {
  snapshot = undefined
  gc()
  const t = performance.now()
  snapshot = await (await DeltaTable.open(store)).snapshot()
  loadsMs.push(Math.round(performance.now() - t))
}
gc()
const heapHeld = process.memoryUsage().heapUsed - heapBefore
const files = snapshot!.files().length
process.stdout.write(
  `${JSON.stringify({
    version: snapshot!.version,
    files,
    tombstones: snapshot!.state.removes.size,
    loadsMs,
    heapHeldMb: mb(heapHeld),
    bytesPerFile: Math.round(heapHeld / Math.max(1, files + snapshot!.state.removes.size)),
    rssMb: kernel('VmRSS'),
    peakRssMb: kernel('VmHWM'),
  })}\n`,
)
