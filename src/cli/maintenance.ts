/**
 * `cryptoviz optimize` and `cryptoviz vacuum`: table maintenance of a warehouse's quotes table
 * from the command line (the same lake operations the automatic maintenance runs).
 *
 * Sizes are given as `128MB`, `512KB`, `1GB` or bytes; durations as `168h`, `7d`, `30m`, `45s`.
 */
import { resolve } from 'node:path'
import type { Config } from '../config/config.ts'
import { CryptoVizError } from '../errors.ts'
import type { DeltaTable } from '../lake/index.ts'
import { optimizeTable, type OptimizeResult } from '../lake/optimize.ts'
import { parsePartitionPredicate } from '../lake/partition-predicate.ts'
import { vacuumTable, type VacuumResult } from '../lake/vacuum.ts'
import { QUOTES_SORT_BY } from '../model/quote-table.ts'
import { openWarehouseForReading } from '../runtime/warehouse.ts'
import { LocalStore } from '../storage/local-store.ts'
import { progress } from './progress.ts'

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }
const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** `128MB` → bytes (binary units, as Delta's `targetFileSize`). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*$/i.exec(text)
  if (!m) throw invalid(`invalid size ${JSON.stringify(text)}: use e.g. 128MB, 512KB or a byte count`)
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!)
  if (bytes < 1) throw invalid(`size must be positive, got ${JSON.stringify(text)}`)
  return bytes
}

/** `168h` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text)
  if (!m) throw invalid(`invalid duration ${JSON.stringify(text)}: use e.g. 168h, 7d or 30m`)
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!)
}

const invalid = (message: string): CryptoVizError =>
  new CryptoVizError('INVALID_ARGUMENT', message, { kind: 'user' })

async function quotesTable(config: Readonly<Config>): Promise<DeltaTable> {
  return (await openWarehouseForReading(new LocalStore(resolve(config.warehouse)))).quotes
}

/** In a function of its own, so no suspended frame of the caller keeps the snapshot. */
async function partitionColumnsOf(table: DeltaTable): Promise<string[]> {
  return (await table.snapshot()).partitionColumns
}

export interface OptimizeCommand {
  where?: string
  targetFileSize?: number
}

export async function runOptimize(config: Readonly<Config>, o: OptimizeCommand): Promise<OptimizeResult> {
  const table = await quotesTable(config)
  // Only the partition columns: a snapshot held here would keep the whole pre-OPTIMIZE file list
  // alive for the run (measured: 100,000 files' worth of state at the 300 MB bound).
  const partitionColumns = await partitionColumnsOf(table)
  const where = o.where === undefined ? undefined : parsePartitionPredicate(o.where, partitionColumns)
  let bar: ReturnType<typeof progress> | undefined
  const result = await optimizeTable(table, {
    ...(where && { where, whereText: o.where }),
    ...(o.targetFileSize !== undefined && { targetFileSize: o.targetFileSize }),
    sortBy: QUOTES_SORT_BY,
    compression: config.lake.compression,
    onProgress: ({ doneFiles, totalFiles, partition }) => {
      bar ??= progress('optimize', totalFiles)
      bar.update(doneFiles, Object.values(partition).join('/'))
    },
  })
  bar?.stop()
  return result
}

export interface VacuumCommand {
  retainMs?: number
  dryRun: boolean
  force: boolean
}

export async function runVacuum(config: Readonly<Config>, o: VacuumCommand): Promise<VacuumResult> {
  return vacuumTable(await quotesTable(config), {
    ...(o.retainMs !== undefined && { retentionMs: o.retainMs }),
    dryRun: o.dryRun,
    force: o.force,
  })
}
