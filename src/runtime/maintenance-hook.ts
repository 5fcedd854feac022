/**
 * Starts the automatic table maintenance of a writing process (`start`, later `process`) from the
 * configuration: one call for the runtime, undefined when turned off (`--maintenance off`).
 */
import type { Logger } from 'pino'
import type { Config } from '../config/config.ts'
import type { DeltaTable } from '../lake/index.ts'
import { QUOTES_SORT_BY } from '../model/quote-table.ts'
import { MaintenanceScheduler } from '../stream/maintenance.ts'

export function startMaintenance(
  config: Readonly<Config>,
  quotes: DeltaTable,
  logger: Logger,
): MaintenanceScheduler | undefined {
  if (!config.maintenance.enabled) return undefined
  const m = config.maintenance
  const scheduler = new MaintenanceScheduler({
    table: quotes,
    logger: logger.child({ component: 'maintenance' }),
    intervalMs: m.intervalMs,
    pastDayMinFiles: m.pastDayMinFiles,
    currentDayMinFiles: m.currentDayMinFiles,
    maxPartitionsPerRun: m.maxPartitionsPerRun,
    pauseMs: m.pauseMs,
    targetFileSizeBytes: m.targetFileSizeBytes,
    vacuum: m.vacuum,
    sortBy: QUOTES_SORT_BY,
    compression: config.lake.compression,
  })
  scheduler.start()
  return scheduler
}
