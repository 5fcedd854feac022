/**
 * Starts the automatic table maintenance of a writing process (`start`, later `process`) from the
 * configuration: one call for the runtime, undefined when turned off (`--maintenance off`).
 */
import type { Logger } from 'pino'
import type { BusConsumer } from '../bus/bus.ts'
import type { Config } from '../config/config.ts'
import type { DeltaTable } from '../lake/index.ts'
import { QUOTES_SORT_BY } from '../model/quote-table.ts'
import { MaintenanceScheduler } from '../stream/maintenance.ts'

export function startMaintenance(
  config: Readonly<Config>,
  quotes: DeltaTable,
  logger: Logger,
  /** Whether this process maintains the table now (a consumer group's owner of partition 0); default always. */
  isOwner?: () => boolean,
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
    ...(isOwner && { isOwner }),
  })
  scheduler.start()
  return scheduler
}

/**
 * Whether `consumer` holds partition 0 of `topic`: the one member of a consumer group that runs
 * the group's table maintenance (one holder once its assignment settles; should two runs overlap
 * during a rebalance, their commits are checked for conflicts like any other).
 */
export function holdsPartitionZero(consumer: BusConsumer, topic: string): boolean {
  return consumer.assignment().some((p) => p.topic === topic && p.partition === 0)
}
