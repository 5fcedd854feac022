/**
 * Prometheus metrics (`GET /metrics`), one registry per app so several apps in one process (tests)
 * never share or double-register series.
 *
 * Pipeline counters are not double-bookkept here: they are read from the stats provider (the
 * processor's own counters) once per scrape, so `/metrics` and `/stats` cannot disagree.
 */
import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

export type StatsProvider = () => Promise<Record<string, unknown>>

/** Processor counters exported as Prometheus counters (`<name>_total`), by stats key. */
const PIPELINE_COUNTERS = {
  records_received: 'Quotes received from the sources.',
  records_written: 'Quotes committed to the quotes table.',
  records_rejected: 'Provider items rejected by validation (dead letters).',
  batches: 'Micro-batches committed.',
  files: 'Data files written.',
  bytes_written: 'Bytes of data files written.',
  flush_errors: 'Micro-batch flushes that failed (and were retried).',
  pauses: 'Times the processor paused its partitions because its buffer bound was reached.',
  records_duplicate_skipped:
    'Quotes dropped because another writer had already committed them (after a rebalance).',
  dead_letter_flush_errors: 'Dead-letter commits that failed (and were retried; quotes are not held back).',
  maintenance_runs: 'Automatic table maintenance runs.',
  maintenance_runs_skipped_not_owner:
    "Scheduled maintenance runs left to the group member holding the quotes topic's partition 0.",
  maintenance_errors: 'Automatic table maintenance runs that failed.',
  maintenance_partitions_compacted: 'Partitions compacted by automatic maintenance.',
  maintenance_files_compacted: 'Small files replaced by automatic compaction.',
  maintenance_files_written: 'Files written by automatic compaction.',
  maintenance_conflicts: 'Compactions abandoned after a concurrent removal (retried later).',
  maintenance_files_vacuumed: 'Unreferenced files deleted by automatic vacuum.',
} as const

const PIPELINE_GAUGES = {
  buffered: 'Quotes received but not committed yet.',
  last_table_version: 'Latest committed version of the quotes table.',
  buffered_bytes: 'Bytes (as received) of the quotes and dead letters held uncommitted.',
  last_batch_rows: 'Rows of the last committed micro-batch.',
  last_commit_ms: 'Milliseconds the last micro-batch commit took.',
  maintenance_running: '1 while an automatic maintenance run is in progress.',
} as const

export interface MetricsOptions {
  stats: StatsProvider
  /** Node.js process metrics (CPU, memory, event loop), default true. */
  processMetrics?: boolean
}

export class ServerMetrics {
  readonly registry = new Registry()
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly flushDuration: Histogram
  readonly batchRows: Histogram
  readonly sseClients: Gauge
  readonly sseDropped: Counter
  readonly sseEvents: Counter
  readonly filesScanned: Counter<'route'>
  readonly filesSkipped: Counter<'route'>
  readonly rateLimited: Counter
  private readonly stats: StatsProvider
  private latest: Record<string, unknown> = {}

  constructor(options: MetricsOptions) {
    this.stats = options.stats
    const registers = [this.registry]
    const stat = (key: string): number => {
      const v = this.latest[key]
      return typeof v === 'number' && Number.isFinite(v) ? v : 0
    }
    for (const [key, help] of Object.entries(PIPELINE_COUNTERS)) {
      new Counter({
        name: `cryptoviz_${key}_total`,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(stat(key))
        },
      })
    }
    for (const [key, help] of Object.entries(PIPELINE_GAUGES)) {
      new Gauge({
        name: `cryptoviz_${key}`,
        help,
        registers,
        collect() {
          this.set(stat(key))
        },
      })
    }
    const latest = (): Record<string, unknown> => this.latest
    new Gauge({
      name: 'cryptoviz_consumer_lag',
      help: 'Records in each partition not yet read by this processor (log end − position).',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset()
        const lag = latest()['consumer_lag']
        if (!Array.isArray(lag)) return
        for (const l of lag as Array<{ topic: string; partition: number; lag: number }>) {
          this.set({ topic: l.topic, partition: String(l.partition) }, l.lag)
        }
      },
    })
    this.batchRows = new Histogram({
      name: 'cryptoviz_batch_rows',
      help: 'Rows per committed micro-batch.',
      buckets: [10, 100, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000],
      registers,
    })
    this.flushDuration = new Histogram({
      name: 'cryptoviz_flush_duration_seconds',
      help: 'Time to commit one micro-batch to the lake.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.httpDuration = new Histogram({
      name: 'cryptoviz_http_request_duration_seconds',
      help: 'HTTP request durations by route (the route pattern, not the URL).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.sseClients = new Gauge({
      name: 'cryptoviz_sse_clients',
      help: 'Live-stream clients connected.',
      registers,
    })
    this.sseDropped = new Counter({
      name: 'cryptoviz_sse_dropped_total',
      help: 'Live-stream clients disconnected for reading too slowly.',
      registers,
    })
    this.sseEvents = new Counter({
      name: 'cryptoviz_sse_events_sent_total',
      help: 'Quote events written to live-stream clients.',
      registers,
    })
    this.filesScanned = new Counter({
      name: 'cryptoviz_query_files_scanned_total',
      help: 'Data files read by queries.',
      labelNames: ['route'],
      registers,
    })
    this.filesSkipped = new Counter({
      name: 'cryptoviz_query_files_skipped_total',
      help: 'Data files pruned by partition values and statistics (not read).',
      labelNames: ['route'],
      registers,
    })
    this.rateLimited = new Counter({
      name: 'cryptoviz_http_rate_limited_total',
      help: 'Requests refused with 429 by the per-client rate limit.',
      registers,
    })
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry })
  }

  /** Records one query's pruning: how many files it read out of the snapshot's. */
  recordScan(route: string, scan: { files_scanned: number; files_total: number }): void {
    this.filesScanned.inc({ route }, scan.files_scanned)
    this.filesSkipped.inc({ route }, Math.max(0, scan.files_total - scan.files_scanned))
  }

  /** For the runtime to report each committed micro-batch. */
  observeFlush(seconds: number, rows?: number): void {
    this.flushDuration.observe(seconds)
    if (rows !== undefined) this.batchRows.observe(rows)
  }

  /** The text exposition format, with pipeline counters read fresh. */
  async render(): Promise<string> {
    this.latest = await this.stats()
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** Times every routed request (unmatched URLs share one label, so 404 scans add no series). */
export function useRequestMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    )
  })
}
