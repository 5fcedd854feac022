/**
 * A live file's `add` action as the table state holds it: a plain object with the usual fields
 * whose `stats` is an enumerable getter regenerating the JSON text from packed stats
 * (`packed-stats.ts`), so a 100k-file state holds numbers instead of 100 MB of text.
 *
 * Invariants:
 * - It behaves as the `AddFile` it was made from: `stats` reads the same text; spreading it,
 *   `JSON.stringify` and deep equality see the same own enumerable fields (the packing's fields
 *   are non-enumerable symbol properties, invisible to all three).
 * - Never mutated (as every action the state holds): `stats` has no setter.
 * - Every packed add is built by one constructor with the same property order and the same
 *   getter, so they share one hidden class, and the packing's fields are the add's own hidden
 *   (non-enumerable, symbol-keyed) fields.
 */
import type { AddFile } from './actions.ts'
import { NUMBERS, SHAPE, STRINGS, statsText, type PackedStats } from './packed-stats.ts'

type PackedAddFile = AddFile & PackedStats

function statsGetter(this: PackedAddFile): string {
  return statsText(this)
}

const STATS_PROPERTY: PropertyDescriptor = { get: statsGetter, enumerable: true, configurable: false }

/**
 * Builds a packed add in place. A constructor (not an object literal plus `defineProperty`) so
 * V8 sizes the objects by in-object slack tracking: every field, the hidden packing included,
 * sits inside the object, where a literal of five fields spilled the rest into a separate
 * property array (40 B more per file). Its prototype is `Object.prototype`, so the result is
 * a plain object to every observer (deep equality compares prototypes).
 */
function PackedAdd(
  this: Record<string | symbol, unknown>,
  add: AddFile,
  partitionValues: Record<string, string | null>,
  packed: PackedStats,
): void {
  this.path = add.path
  this.partitionValues = partitionValues
  this.size = add.size
  this.modificationTime = add.modificationTime
  this.dataChange = add.dataChange
  // The packing's own fields, hidden: the add is its packing (no separate object per file).
  Object.defineProperty(this, SHAPE, { value: packed[SHAPE] })
  Object.defineProperty(this, NUMBERS, { value: packed[NUMBERS] })
  Object.defineProperty(this, STRINGS, { value: packed[STRINGS] })
  Object.defineProperty(this, 'stats', STATS_PROPERTY)
  if (add.tags !== undefined) this.tags = add.tags
}
PackedAdd.prototype = Object.prototype

const construct = PackedAdd as unknown as new (
  add: AddFile,
  partitionValues: Record<string, string | null>,
  packed: PackedStats,
) => AddFile

/** `add` with partition values `partitionValues` and its stats held as `packed`. */
export function packedAdd(
  add: AddFile,
  partitionValues: Record<string, string | null>,
  packed: PackedStats,
): AddFile {
  return new construct(add, partitionValues, packed)
}

/** The packed stats of an add from the table state (the add itself); undefined for any other add. */
export const packedStatsOf = (add: AddFile): PackedStats | undefined =>
  (add as Partial<PackedAddFile>)[SHAPE] === undefined ? undefined : (add as PackedAddFile)
