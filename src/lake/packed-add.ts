/**
 * A live file's `add` action as the table state holds it: a plain object with the usual fields
 * whose `stats` is an enumerable getter regenerating the JSON text from packed stats
 * (`packed-stats.ts`), so a 100k-file state holds numbers instead of 100 MB of text.
 *
 * Invariants:
 * - It behaves as the `AddFile` it was made from: `stats` reads the same text; spreading it,
 *   `JSON.stringify` and deep equality see the same own enumerable fields (the packing itself is
 *   a non-enumerable symbol property, invisible to all three).
 * - Never mutated (as every action the state holds): `stats` has no setter.
 * - Every packed add is built with the same property order and the same getter, so they share
 *   one hidden class.
 */
import type { AddFile } from './actions.ts'
import { statsText, type PackedStats } from './packed-stats.ts'

const PACKED = Symbol('packedStats')

type PackedAddFile = AddFile & { readonly [PACKED]: PackedStats }

function statsGetter(this: PackedAddFile): string {
  return statsText(this[PACKED])
}

const STATS_PROPERTY: PropertyDescriptor = { get: statsGetter, enumerable: true, configurable: false }

/** `add` with partition values `partitionValues` and its stats held as `packed`. */
export function packedAdd(
  add: AddFile,
  partitionValues: Record<string, string | null>,
  packed: PackedStats,
): AddFile {
  const out: Record<string | symbol, unknown> = {
    path: add.path,
    partitionValues,
    size: add.size,
    modificationTime: add.modificationTime,
    dataChange: add.dataChange,
  }
  Object.defineProperty(out, PACKED, { value: packed })
  Object.defineProperty(out, 'stats', STATS_PROPERTY)
  if (add.tags !== undefined) out.tags = add.tags
  return out as unknown as AddFile
}

/** The packed stats of an add from the table state; undefined for any other add. */
export const packedStatsOf = (add: AddFile): PackedStats | undefined =>
  (add as Partial<PackedAddFile>)[PACKED]
