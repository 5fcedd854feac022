/**
 * A live file's `add` action as the table state holds it: a plain object with the usual fields
 * whose `stats` is an enumerable getter regenerating the JSON text from packed stats
 * (`packed-stats.ts`), so a 100k-file state holds numbers instead of 100 MB of text.
 *
 * Invariants:
 * - It behaves as the `AddFile` it was made from: `stats` reads the same text; spreading it,
 *   `JSON.stringify` and deep equality see the same own enumerable fields (the packing's fields
 *   are non-enumerable symbol properties, invisible to all three).
 * - Never mutated as observed (as every action the state holds): `stats` has no setter. A
 *   pending add (built by a load with background packing, packed later: in the background a chunk per event-loop
 *   turn, or at once when its packing is first asked for) changes only its hidden fields, from
 *   the text to the packing of that text; `stats` reads the same text before and after.
 * - Every packed add is built by one constructor with the same property order and the same
 *   getter, so they share one hidden class, and the packing's fields are the add's own hidden
 *   (non-enumerable, symbol-keyed) fields.
 */
import type { AddFile } from './actions.ts'
import { NUMBERS, SHAPE, STRINGS, packStats, statsText, type PackedStats } from './packed-stats.ts'

type PackedAddFile = AddFile & PackedStats

/**
 * The hidden fields as they are before and after packing. Pending: no shape, the stats text in
 * the numbers' slot (no extra field per file). Packed: the packing. Unpackable (the text would
 * not print back the same): shape null, the text kept for good.
 */
interface HiddenFields {
  [SHAPE]: PackedStats[typeof SHAPE] | null | undefined
  [NUMBERS]: PackedStats[typeof NUMBERS] | string
  [STRINGS]: PackedStats[typeof STRINGS]
}

function statsGetter(this: HiddenFields): string {
  return this[SHAPE] == null ? (this[NUMBERS] as string) : statsText(this as unknown as PackedStats)
}

const STATS_PROPERTY: PropertyDescriptor = { get: statsGetter, enumerable: true, configurable: false }
const NO_STRINGS: PackedStats[typeof STRINGS] = []

/**
 * Builds a pending add in place. A constructor (not an object literal plus `defineProperty`) so
 * V8 sizes the objects by in-object slack tracking: every field, the hidden packing included,
 * sits inside the object, where a literal of five fields spilled the rest into a separate
 * property array (40 B more per file). Its prototype is `Object.prototype`, so the result is a
 * plain object to every observer (deep equality compares prototypes). The hidden fields are
 * writable (packing fills them in place) but non-enumerable symbols, so no observer sees them.
 */
function PackedAdd(
  this: Record<string | symbol, unknown>,
  add: AddFile,
  partitionValues: Record<string, string | null>,
  text: string,
): void {
  this.path = add.path
  this.partitionValues = partitionValues
  this.size = add.size
  this.modificationTime = add.modificationTime
  this.dataChange = add.dataChange
  // The packing's own fields, hidden: the add is its packing (no separate object per file).
  Object.defineProperty(this, SHAPE, { value: undefined, writable: true })
  Object.defineProperty(this, NUMBERS, { value: text, writable: true })
  Object.defineProperty(this, STRINGS, { value: NO_STRINGS, writable: true })
  Object.defineProperty(this, 'stats', STATS_PROPERTY)
  if (add.tags !== undefined) this.tags = add.tags
}
PackedAdd.prototype = Object.prototype

const construct = PackedAdd as unknown as new (
  add: AddFile,
  partitionValues: Record<string, string | null>,
  text: string,
) => AddFile

/**
 * `add` (whose stats text is `text`) with partition values `partitionValues`, as the state holds
 * it: its stats packed now, or with `later`, packed later: by the first `packedStatsOf` that
 * needs them or by the background packing (queued here), so a table open pays for no packing
 * before its first read. Texts that do not pack stay text either way.
 */
export function heldAdd(
  add: AddFile,
  partitionValues: Record<string, string | null>,
  text: string,
  later: boolean,
): AddFile {
  const held = new construct(add, partitionValues, text)
  if (!later) packInPlace(held as unknown as HiddenFields)
  else {
    pendingAdds.push(held)
    schedulePacking()
  }
  return held
}

/** Pending adds not yet packed (some may have been packed on demand since). */
const pendingAdds: AddFile[] = []
let packingScheduled = false
/**
 * Milliseconds of packing per turn of the event loop: short, so a read running meanwhile (each
 * of its awaits resumes between two turns) is held up by at most this much per step.
 */
const PACK_SLICE_MS = 2

/**
 * Milliseconds between a load's last pending add and the first slice: a read issued right
 * after the open (a server's first request, a one-shot query) mostly runs before the packing.
 */
const PACK_DELAY_MS = 100
/** Whether slices are running (the next one follows at once, not after the delay). */
let packingStarted = false

function schedulePacking(): void {
  if (packingScheduled) return
  packingScheduled = true
  // Unreferenced: a one-shot command exits when its work is done, not when the packing is.
  if (packingStarted) setImmediate(packSlice).unref()
  else setTimeout(packSlice, PACK_DELAY_MS).unref()
}

function packSlice(): void {
  packingScheduled = false
  packingStarted = true
  const until = performance.now() + PACK_SLICE_MS
  for (let n = 1; pendingAdds.length > 0; n++) {
    packInPlace(pendingAdds.pop() as unknown as HiddenFields)
    if (n % 32 === 0 && performance.now() >= until) break
  }
  if (pendingAdds.length > 0) schedulePacking()
  else packingStarted = false
}

/** Packs a pending add's text into its hidden fields; returns whether the add is now packed. */
function packInPlace(add: HiddenFields): boolean {
  const shape = add[SHAPE]
  if (shape !== undefined) return shape !== null
  const text = add[NUMBERS]
  if (typeof text !== 'string') return false
  const packed = packStats(text)
  if (packed === undefined) {
    add[SHAPE] = null
    return false
  }
  add[NUMBERS] = packed[NUMBERS]
  add[STRINGS] = packed[STRINGS]
  add[SHAPE] = packed[SHAPE]
  return true
}

/**
 * The packed stats of an add from the table state (the add itself, packed now if it was
 * pending); undefined for any other add and for stats that do not pack.
 */
export const packedStatsOf = (add: AddFile): PackedStats | undefined =>
  packInPlace(add as unknown as HiddenFields) ? (add as PackedAddFile) : undefined
