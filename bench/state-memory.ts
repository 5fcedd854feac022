/**
 * Snapshot memory: loads a table's latest snapshot in this process (three times, each from
 * scratch) and prints the load times, the live heap holding one snapshot (after a full GC) and
 * the process's RSS and kernel high-water mark; then encodes that snapshot's checkpoint once
 * (chunk by chunk as `writeCheckpoint` streams it, each chunk dropped instead of written) and
 * prints what the encoding cost: milliseconds, bytes, and how far RSS rose above the loaded
 * state (the kernel high-water mark is reset first, Linux `clear_refs`). Run it with the GC
 * exposed:
 *
 *   node --expose-gc bench/state-memory.ts --warehouse DIR [--table quotes]
 *
 * One JSON line on stdout; nothing is written anywhere.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkpointChunks, type CheckpointCounts } from '../src/lake/checkpoint.ts'
import { DeltaTable } from '../src/lake/index.ts'
import { checkpointState } from '../src/lake/post-commit.ts'
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
const rssMb = kernel('VmRSS')
const peakRssMb = kernel('VmHWM')
// What writing a checkpoint of this state costs on top of holding it (post-commit.ts's content).
writeFileSync('/proc/self/clear_refs', '5')
const encodeStarted = performance.now()
const counts: CheckpointCounts = { rows: 0, adds: 0, bytes: 0 }
for (const chunk of checkpointChunks(checkpointState(snapshot!.state, 0), counts)) void chunk
const checkpointBytes = counts.bytes
const checkpointEncode = {
  ms: Math.round(performance.now() - encodeStarted),
  mb: mb(checkpointBytes),
  peakRssAboveStateMb: Math.round((kernel('VmHWM') - rssMb) * 10) / 10,
}
process.stdout.write(
  `${JSON.stringify({
    version: snapshot!.version,
    files,
    tombstones: snapshot!.state.removes.size,
    loadsMs,
    heapHeldMb: mb(heapHeld),
    bytesPerFile: Math.round(heapHeld / Math.max(1, files + snapshot!.state.removes.size)),
    rssMb,
    peakRssMb,
    checkpointEncode,
  })}\n`,
)
