/**
 * Automatic table maintenance for writing processes: a background scheduler that keeps the
 * quotes table free of the small-file problem without anyone running a job.
 *
 * Every `intervalMs` it runs once (never two runs at a time):
 * 1. past days: partitions holding at least `pastDayMinFiles` small files are compacted;
 * 2. the current day, incrementally: partitions holding at least `currentDayMinFiles` small
 *    files are compacted (later batches add new small files; a later run folds them in);
 * 3. at most hourly, VACUUM with the table's own retention (never forced), once the table is
 *    older than that retention. Before, nothing it could delete exists: VACUUM deletes only files
 *    modified before `now - retention`, and every file the table's writers wrote is younger than
 *    the table (`metaData.createdTime`). Skipping it spares a young table's process the scan of
 *    every commit and of the whole store listing (memory and I/O growing with the table) at each
 *    start; `cryptoviz vacuum` still removes foreign files older than the table itself.
 * Throttled: at most `maxPartitionsPerRun` partition commits per run, and a pause between
 * rewritten files, so ingestion keeps its rate; compaction only rearranges data
 * (`dataChange: false`), so it never conflicts with the processor's blind appends.
 *
 * In a consumer group every processor process has a scheduler, but only the member holding the
 * quotes topic's partition 0 runs it (`isOwner`): the group compacts once, rather than once per
 * member with the members' rewrites of the same partitions conflicting. Ownership follows the
 * group's assignment, so when that member leaves, the next holder of partition 0 takes over.
 *
 * Invariants: a failed run is logged and counted, never thrown into the caller; `stop()` aborts a
 * run between files and waits for it (committed partitions stay committed, the rest is retried
 * by the next process).
 */
import type { Logger } from 'pino'
import type { Compression, DeltaTable } from '../lake/index.ts'
import { optimizeTable, type OptimizeResult } from '../lake/optimize.ts'
import type { PartitionValues } from '../lake/partition-predicate.ts'
import { vacuumTable } from '../lake/vacuum.ts'

export interface MaintenanceOptions {
  table: DeltaTable
  logger: Logger
  /** Time between the end of one run and the start of the next, ms. */
  intervalMs: number
  pastDayMinFiles: number
  currentDayMinFiles: number
  maxPartitionsPerRun: number
  /** Pause before each rewritten file, ms. */
  pauseMs: number
  targetFileSizeBytes: number
  vacuum: boolean
  sortBy: readonly string[]
  compression: Compression
  /** Minimum time between two vacuums, ms; default one hour. */
  vacuumIntervalMs?: number
  /** Clock in ms; default Date.now. */
  now?: () => number
  /**
   * Whether this process is the one to maintain the table now; a scheduled run is skipped while
   * it answers false (`runOnce` still runs). Default: always.
   */
  isOwner?: () => boolean
}

/** One run, as reported in /stats. */
export interface MaintenanceRun {
  started_at: string
  ms: number
  partitions_compacted: number
  files_compacted: number
  files_written: number
  rows_rewritten: number
  conflicts: number
  files_vacuumed: number
  /** Whether this run vacuumed, or why not. */
  vacuum: 'ran' | 'not-due' | 'off' | 'table-younger-than-retention'
  /** Work was left for the next run (throttle or stop). */
  partial: boolean
  error?: string
}

const HOUR = 3_600_000

export class MaintenanceScheduler {
  private readonly o: MaintenanceOptions
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private running: Promise<MaintenanceRun> | undefined
  private abort = new AbortController()
  private stopped = false
  private lastVacuum = -Infinity
  private lastRun: MaintenanceRun | undefined
  /** Whether the last scheduled run was skipped because another process maintains the table. */
  private standby = false
  private readonly totals = {
    runs: 0,
    skipped: 0,
    errors: 0,
    partitions: 0,
    filesCompacted: 0,
    filesWritten: 0,
    rows: 0,
    conflicts: 0,
    filesVacuumed: 0,
  }

  constructor(options: MaintenanceOptions) {
    this.o = options
    this.now = options.now ?? Date.now
  }

  /** Schedules runs every `intervalMs` (the first after one interval). */
  start(): void {
    this.schedule()
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.standby = this.o.isOwner?.() === false
      if (this.standby) {
        this.totals.skipped++
        this.schedule()
      } else void this.runOnce().finally(() => this.schedule())
    }, this.o.intervalMs)
    this.timer.unref()
  }

  /** Runs maintenance now (or joins the run in progress). */
  runOnce(): Promise<MaintenanceRun> {
    this.running ??= this.run().finally(() => (this.running = undefined))
    return this.running
  }

  private async run(): Promise<MaintenanceRun> {
    const started = this.now()
    const run: MaintenanceRun = {
      started_at: new Date(started).toISOString(),
      ms: 0,
      partitions_compacted: 0,
      files_compacted: 0,
      files_written: 0,
      rows_rewritten: 0,
      conflicts: 0,
      files_vacuumed: 0,
      vacuum: this.o.vacuum ? 'not-due' : 'off',
      partial: false,
    }
    try {
      const today = new Date(started).toISOString().slice(0, 10)
      const add = (r: OptimizeResult): void => {
        run.partitions_compacted += r.partitionsCompacted
        run.files_compacted += r.filesRemoved
        run.files_written += r.filesAdded
        run.rows_rewritten += r.rows
        run.conflicts += r.conflicts
        run.partial ||= r.partial
      }
      const common = {
        targetFileSize: this.o.targetFileSizeBytes,
        sortBy: this.o.sortBy,
        compression: this.o.compression,
        signal: this.abort.signal,
        retries: 1,
        pause: () => pause(this.o.pauseMs),
      }
      add(
        await optimizeTable(this.o.table, {
          ...common,
          where: (v) => partitionDay(v) < today,
          minFiles: this.o.pastDayMinFiles,
          maxPartitions: this.o.maxPartitionsPerRun,
        }),
      )
      const left = this.o.maxPartitionsPerRun - run.partitions_compacted
      if (left > 0 && !this.abort.signal.aborted) {
        add(
          await optimizeTable(this.o.table, {
            ...common,
            where: (v) => partitionDay(v) >= today,
            minFiles: this.o.currentDayMinFiles,
            maxPartitions: left,
          }),
        )
      }
      const vacuumEvery = this.o.vacuumIntervalMs ?? HOUR
      if (this.o.vacuum && !this.abort.signal.aborted && started - this.lastVacuum >= vacuumEvery) {
        this.lastVacuum = started
        const snapshot = await this.o.table.snapshot()
        if (
          vacuumMayDelete(snapshot.metadata.createdTime, snapshot.properties.deletedFileRetentionMs, started)
        ) {
          run.vacuum = 'ran'
          run.files_vacuumed = (await vacuumTable(this.o.table)).files.length
        } else run.vacuum = 'table-younger-than-retention'
      }
    } catch (err) {
      run.error = err instanceof Error ? err.message : String(err)
      this.totals.errors++
      this.o.logger.warn({ err }, 'table maintenance run failed; retrying at the next interval')
    }
    run.ms = this.now() - started
    this.totals.runs++
    this.totals.partitions += run.partitions_compacted
    this.totals.filesCompacted += run.files_compacted
    this.totals.filesWritten += run.files_written
    this.totals.rows += run.rows_rewritten
    this.totals.conflicts += run.conflicts
    this.totals.filesVacuumed += run.files_vacuumed
    this.lastRun = run
    if (run.partitions_compacted > 0 || run.files_vacuumed > 0)
      this.o.logger.info({ maintenance: run }, 'table maintenance run')
    return run
  }

  /** Stops scheduling, aborts a run in progress between files and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.abort.abort()
    await this.running?.catch(() => undefined)
  }

  /** Flat counters (exported to /metrics) plus the state and last run (for /stats). */
  stats(): Record<string, unknown> {
    return {
      maintenance_runs: this.totals.runs,
      maintenance_runs_skipped_not_owner: this.totals.skipped,
      maintenance_errors: this.totals.errors,
      maintenance_partitions_compacted: this.totals.partitions,
      maintenance_files_compacted: this.totals.filesCompacted,
      maintenance_files_written: this.totals.filesWritten,
      maintenance_rows_rewritten: this.totals.rows,
      maintenance_conflicts: this.totals.conflicts,
      maintenance_files_vacuumed: this.totals.filesVacuumed,
      maintenance_running: this.running ? 1 : 0,
      maintenance: {
        state: this.stopped ? 'stopped' : this.running ? 'running' : this.standby ? 'standby' : 'idle',
        interval_ms: this.o.intervalMs,
        past_day_min_files: this.o.pastDayMinFiles,
        current_day_min_files: this.o.currentDayMinFiles,
        vacuum: this.o.vacuum,
        last_run: this.lastRun ?? null,
      },
    }
  }
}

/**
 * Whether a VACUUM at `now` (ms) may find a file of the table's own to delete: only once the table
 * (created at `createdTime`, ms; unknown for tables made elsewhere: assume old) is older than the
 * retention, since VACUUM deletes only files modified before `now - retentionMs`.
 */
export function vacuumMayDelete(
  createdTime: number | null | undefined,
  retentionMs: number,
  now: number,
): boolean {
  return createdTime === null || createdTime === undefined || createdTime < now - retentionMs
}

/** `YYYY-MM-DD` of a partition partitioned by year/month/day; '' (a past day) without them. */
export function partitionDay(v: PartitionValues): string {
  const { year, month, day } = v
  return year && month && day ? `${year}-${month}-${day}` : ''
}

const pause = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))
