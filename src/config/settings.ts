/**
 * Every setting CryptoViz reads, in one table: its config-file key, environment variable, CLI flag,
 * validation, default and meaning. The README's configuration table is generated from this list
 * (`cryptoviz config --markdown`), and a test checks that the two agree.
 *
 * Precedence, lowest first: defaults, config file (`--config` / `CRYPTOVIZ_CONFIG`), environment,
 * CLI flags. Secrets are marked so they are never printed.
 */
import { z } from 'zod'

export interface Setting {
  key: string
  env: string
  flag: string
  schema: z.ZodType
  default: unknown
  description: string
  secret?: boolean
}

const positiveInt = z.coerce.number().int().positive()
const port = z.coerce.number().int().min(0).max(65_535)
/** `on`/`off` (also true/false, 1/0) → boolean. */
const onOff = z
  .union([z.boolean(), z.enum(['on', 'off', 'true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1')

export const SETTINGS = [
  {
    key: 'warehouse',
    env: 'CRYPTOVIZ_WAREHOUSE',
    flag: 'warehouse',
    schema: z.string().min(1),
    default: './warehouse',
    description:
      'Warehouse holding the Delta tables (quotes, dead_letters): a folder, `file:///path` or `s3://bucket/prefix`.',
  },
  {
    key: 'host',
    env: 'CRYPTOVIZ_HOST',
    flag: 'host',
    schema: z.string().min(1),
    default: '127.0.0.1',
    description: 'Address the HTTP server binds to (use 0.0.0.0 to expose it).',
  },
  {
    key: 'port',
    env: 'CRYPTOVIZ_PORT',
    flag: 'port',
    schema: port,
    default: 8501,
    description: 'HTTP port for the API, the live stream and the dashboard.',
  },
  {
    key: 'source',
    env: 'CRYPTOVIZ_SOURCE',
    flag: 'source',
    schema: z
      .string()
      .regex(/^(auto|simulated|coingecko|coinmarketcap)(,(simulated|coingecko|coinmarketcap))*$/, {
        message: 'must be "auto" or a comma-separated list of simulated, coingecko, coinmarketcap',
      }),
    default: 'auto',
    description:
      'Quote sources: `simulated`, `coingecko`, `coinmarketcap` (comma-separated), or `auto`: the live providers that answer, else the simulated market (said loudly in logs and `/health`).',
  },
  {
    key: 'simulator.assets',
    env: 'CRYPTOVIZ_SIM_ASSETS',
    flag: 'sim-assets',
    schema: positiveInt.max(10_000),
    default: 20,
    description: 'Number of simulated assets (real slugs: bitcoin, ethereum, …).',
  },
  {
    key: 'simulator.seed',
    env: 'CRYPTOVIZ_SIM_SEED',
    flag: 'sim-seed',
    schema: z.coerce.number().int(),
    default: 42,
    description: 'Seed of the simulated market (same seed, same prices).',
  },
  {
    key: 'simulator.intervalMs',
    env: 'CRYPTOVIZ_SIM_INTERVAL_MS',
    flag: 'sim-interval-ms',
    schema: positiveInt,
    default: 2_000,
    description: 'Milliseconds between simulated ticks.',
  },
  {
    key: 'processor.flushIntervalMs',
    env: 'CRYPTOVIZ_FLUSH_INTERVAL_MS',
    flag: 'flush-interval-ms',
    schema: positiveInt,
    default: 30_000,
    description: 'Micro-batch interval: buffered quotes are committed at least this often.',
  },
  {
    key: 'processor.flushMaxRows',
    env: 'CRYPTOVIZ_FLUSH_MAX_ROWS',
    flag: 'flush-max-rows',
    schema: positiveInt,
    default: 100_000,
    description: 'Micro-batch size: a batch is committed early when it holds this many quotes.',
  },
  {
    key: 'lake.compression',
    env: 'CRYPTOVIZ_COMPRESSION',
    flag: 'compression',
    schema: z.enum(['snappy', 'zstd']),
    default: 'snappy',
    description: 'Parquet compression codec of new data files.',
  },
  {
    key: 'logLevel',
    env: 'CRYPTOVIZ_LOG_LEVEL',
    flag: 'log-level',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'Log level (structured JSON logs on stdout).',
  },
  {
    key: 'sources.coingecko.apiKey',
    env: 'CRYPTOVIZ_COINGECKO_API_KEY',
    flag: 'coingecko-api-key',
    schema: z.string().min(1).optional(),
    default: undefined,
    description: 'CoinGecko demo or pro API key (optional; keyless by default).',
    secret: true,
  },
  {
    key: 'sources.coingecko.plan',
    env: 'CRYPTOVIZ_COINGECKO_PLAN',
    flag: 'coingecko-plan',
    schema: z.enum(['public', 'demo', 'pro']),
    default: 'public',
    description: 'CoinGecko plan: `public` (keyless), `demo` or `pro` (selects header and base URL).',
  },
  {
    key: 'sources.coingecko.baseUrl',
    env: 'CRYPTOVIZ_COINGECKO_BASE_URL',
    flag: 'coingecko-base-url',
    schema: z.url().optional(),
    default: undefined,
    description:
      'Override of the CoinGecko base URL, as CoinGecko documents it (`https://api.coingecko.com/api/v3`, `https://pro-api.coingecko.com/api/v3`) or as the origin before `/api/v3` (proxies, mirrors, tests).',
  },
  {
    key: 'sources.coingecko.intervalMs',
    env: 'CRYPTOVIZ_COINGECKO_INTERVAL_MS',
    flag: 'coingecko-interval-ms',
    schema: positiveInt.optional(),
    default: undefined,
    description: 'Milliseconds between CoinGecko polls (default by plan: 60 s public and pro, 300 s demo).',
  },
  {
    key: 'sources.coinmarketcap.intervalMs',
    env: 'CRYPTOVIZ_CMC_INTERVAL_MS',
    flag: 'cmc-interval-ms',
    schema: positiveInt.optional(),
    default: undefined,
    description: 'Milliseconds between CoinMarketCap polls (default 300 s, within the free plan).',
  },
  {
    key: 'sources.coinmarketcap.dailyCreditBudget',
    env: 'CRYPTOVIZ_CMC_DAILY_CREDITS',
    flag: 'cmc-daily-credits',
    schema: z.coerce.number().int().nonnegative().optional(),
    default: undefined,
    description:
      'CoinMarketCap credits the collector may spend per UTC day; it stops before exceeding them (default 300).',
  },
  {
    key: 'sources.coinmarketcap.apiKey',
    env: 'CRYPTOVIZ_CMC_API_KEY',
    flag: 'cmc-api-key',
    schema: z.string().min(1).optional(),
    default: undefined,
    description: 'CoinMarketCap API key (required for the coinmarketcap source).',
    secret: true,
  },
  {
    key: 'sources.coinmarketcap.baseUrl',
    env: 'CRYPTOVIZ_CMC_BASE_URL',
    flag: 'cmc-base-url',
    schema: z.url().optional(),
    default: undefined,
    description: 'Override of the CoinMarketCap base URL (proxies, mirrors, tests).',
  },
  {
    key: 'api.token',
    env: 'CRYPTOVIZ_API_TOKEN',
    flag: 'api-token',
    schema: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
    default: undefined,
    description:
      'Bearer token required by the SQL console and admin routes when set (they are open when unset).',
    secret: true,
  },
  {
    key: 'api.corsOrigins',
    env: 'CRYPTOVIZ_CORS_ORIGINS',
    flag: 'cors-origins',
    schema: z
      .string()
      .regex(/^(\*|https?:\/\/[^\s,/]+)(,(\*|https?:\/\/[^\s,/]+))*$/, {
        message: 'must be "*" or a comma-separated list of origins such as https://example.com',
      })
      .optional(),
    default: undefined,
    description: 'Origins allowed by CORS (comma-separated, or `*`); CORS is off when unset.',
  },
  {
    key: 'api.rateLimitPerSecond',
    env: 'CRYPTOVIZ_RATE_LIMIT_RPS',
    flag: 'rate-limit-rps',
    schema: z.coerce.number().min(0).max(1_000_000),
    default: 50,
    description: 'Requests per second allowed per client IP on `/api/*` (token bucket; 0 turns it off).',
  },
  {
    key: 'api.rateLimitBurst',
    env: 'CRYPTOVIZ_RATE_LIMIT_BURST',
    flag: 'rate-limit-burst',
    schema: positiveInt.max(1_000_000),
    default: 100,
    description: 'Burst size of the per-client rate limit (bucket capacity).',
  },
  {
    key: 'api.maxStreams',
    env: 'CRYPTOVIZ_MAX_STREAMS',
    flag: 'max-streams',
    schema: positiveInt.max(100_000),
    default: 1_000,
    description: 'Maximum concurrent live-stream (SSE) clients; more get a 503.',
  },
  {
    key: 'api.sqlTimeoutMs',
    env: 'CRYPTOVIZ_SQL_TIMEOUT_MS',
    flag: 'sql-timeout-ms',
    schema: positiveInt.max(3_600_000),
    default: 10_000,
    description: 'Time limit of one SQL console query, in milliseconds.',
  },
  {
    key: 'api.bodyLimitBytes',
    env: 'CRYPTOVIZ_BODY_LIMIT_BYTES',
    flag: 'body-limit-bytes',
    schema: positiveInt.max(104_857_600),
    default: 65_536,
    description: 'Largest accepted request body, in bytes (larger bodies get a 413).',
  },
  // ── Distributed mode (Kafka / Redpanda) and writer identity ──
  {
    key: 'bus.broker',
    env: 'CRYPTOVIZ_BROKER',
    flag: 'broker',
    schema: z.string().regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, { message: 'must be HOST:PORT[,HOST:PORT…]' }),
    default: undefined,
    description:
      'Kafka / Redpanda bootstrap brokers (`HOST:PORT`, comma-separated). Unset: `start` uses the in-process bus.',
  },
  {
    key: 'bus.group',
    env: 'CRYPTOVIZ_GROUP',
    flag: 'group',
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 of A-Z a-z 0-9 . _ -' }),
    default: 'cryptoviz-processors',
    description:
      'Consumer group of the processors; also the prefix of their lake txn ids (`<group>:<topic>:<partition>`).',
  },
  {
    key: 'bus.topicPrefix',
    env: 'CRYPTOVIZ_TOPIC_PREFIX',
    flag: 'topic-prefix',
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 of A-Z a-z 0-9 . _ -' }),
    default: 'cryptoviz',
    description: 'Topics are `<prefix>.quotes` and `<prefix>.dead-letters`.',
  },
  {
    key: 'bus.partitions',
    env: 'CRYPTOVIZ_TOPIC_PARTITIONS',
    flag: 'topic-partitions',
    schema: positiveInt.max(10_000),
    default: 6,
    description:
      'Partitions of the topics when CryptoViz creates them (the most processors that share the load).',
  },
  {
    key: 'bus.replication',
    env: 'CRYPTOVIZ_TOPIC_REPLICATION',
    flag: 'topic-replication',
    schema: positiveInt.max(100),
    default: 1,
    description: 'Replication factor of the topics when CryptoViz creates them.',
  },
  // ── Kafka record-batch codec (issue 10 throughput) ──
  {
    key: 'bus.compression',
    env: 'CRYPTOVIZ_TOPIC_COMPRESSION',
    flag: 'topic-compression',
    schema: z.enum(['lz4', 'snappy', 'zstd', 'gzip', 'none']),
    default: 'lz4',
    description:
      'Codec of the record batches CryptoViz produces to Kafka (consumers read any): zstd halves the bytes; lz4, snappy and zstd cost the same CPU end to end within the noise of the bench (docs/benchmarks.md, Kafka ingest).',
  },
  // ── Processor fetch sizing (issue 10: fewer, fuller fetches live) ──
  // Defaults equal kafka-bus.ts's DEFAULT_FETCH_* (test/bus/kafka-fetch-wait.test.ts checks it).
  {
    key: 'bus.fetchMinBytes',
    env: 'CRYPTOVIZ_FETCH_MIN_BYTES',
    flag: 'fetch-min-bytes',
    schema: positiveInt.max(16_777_216),
    default: 131_072,
    description:
      "A processor's fetch is answered once this many bytes are ready (or after `bus.fetchMaxWaitMs`): fewer, fuller fetches while producers trickle in, less CPU per quote for the processor and the broker. At most half of the per-partition fetch size, so a backlog never waits.",
  },
  {
    key: 'bus.fetchMaxWaitMs',
    env: 'CRYPTOVIZ_FETCH_MAX_WAIT_MS',
    flag: 'fetch-max-wait-ms',
    schema: positiveInt.max(10_000),
    default: 250,
    description:
      "Longest the broker holds a processor's fetch waiting for `bus.fetchMinBytes`: the most it adds to the produce → committed delay. Capped at half of `processor.flushIdleMs` (a trickle must not look idle between fetches).",
  },
  {
    key: 'processor.writerId',
    env: 'CRYPTOVIZ_WRITER_ID',
    flag: 'writer-id',
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 of A-Z a-z 0-9 . _ -' }),
    default: undefined,
    description:
      'Identity of an embedded writer in the lake (txn ids). Unset: unique per process. Two live writers must never share one: the second is fenced.',
  },
  {
    key: 'processor.flushMaxBytes',
    env: 'CRYPTOVIZ_FLUSH_MAX_BYTES',
    flag: 'flush-max-bytes',
    schema: positiveInt,
    default: 50_331_648,
    description: 'A batch is committed early when its quotes take this many bytes (as received).',
  },
  {
    key: 'processor.flushIdleMs',
    env: 'CRYPTOVIZ_FLUSH_IDLE_MS',
    flag: 'flush-idle-ms',
    schema: positiveInt,
    default: 2_000,
    description: 'A buffer that received nothing new for this long is committed (quiet topics still flush).',
  },
  {
    key: 'processor.maxBufferRows',
    env: 'CRYPTOVIZ_MAX_BUFFER_ROWS',
    flag: 'max-buffer-rows',
    schema: positiveInt,
    default: 200_000,
    description: 'Most quotes a processor holds uncommitted; past it the consumer pauses its partitions.',
  },
  {
    key: 'processor.maxBufferBytes',
    env: 'CRYPTOVIZ_MAX_BUFFER_BYTES',
    flag: 'max-buffer-bytes',
    schema: positiveInt,
    default: 50_331_648,
    description: 'Most bytes (as received) a processor holds uncommitted; past it the consumer pauses.',
  },
  {
    key: 'collector.stateFile',
    env: 'CRYPTOVIZ_COLLECTOR_STATE',
    flag: 'collector-state',
    schema: z.string().min(1),
    default: './cryptoviz-collector.json',
    description:
      'File where a collector keeps what must survive restarts (the CoinMarketCap credits spent today).',
  },
  // ── end of distributed mode ──
  // --- object storage (S3 / MinIO / R2) and the query engine's read cache ---
  {
    key: 'storage.s3Endpoint',
    env: 'CRYPTOVIZ_S3_ENDPOINT',
    flag: 's3-endpoint',
    schema: z.url().optional(),
    default: undefined,
    description:
      'S3 endpoint for `s3://` warehouses (MinIO, R2, Ceph); unset: the AWS chain (`AWS_ENDPOINT_URL_S3`, else AWS).',
  },
  {
    key: 'storage.s3ForcePathStyle',
    env: 'CRYPTOVIZ_S3_FORCE_PATH_STYLE',
    flag: 's3-force-path-style',
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
    description:
      'Path-style S3 addressing (`endpoint/bucket/key`, needed by MinIO); `auto`: on when an endpoint is set.',
  },
  {
    key: 'storage.s3Region',
    env: 'CRYPTOVIZ_S3_REGION',
    flag: 's3-region',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'S3 region; unset: the AWS chain (`AWS_REGION`, profile), or us-east-1 with a custom endpoint.',
  },
  {
    key: 'storage.s3TimeoutMs',
    env: 'CRYPTOVIZ_S3_TIMEOUT_MS',
    flag: 's3-timeout-ms',
    schema: positiveInt.max(600_000),
    default: 10_000,
    description:
      'Time limit of one S3 request (socket inactivity), in milliseconds; failed requests are retried.',
  },
  {
    key: 'storage.readCacheDir',
    env: 'CRYPTOVIZ_READ_CACHE_DIR',
    flag: 'read-cache-dir',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'Folder of the on-disk cache of remote data files read by queries; unset: `cryptoviz-read-cache` in the OS temp folder.',
  },
  {
    key: 'storage.readCacheMb',
    env: 'CRYPTOVIZ_READ_CACHE_MB',
    flag: 'read-cache-mb',
    schema: positiveInt.max(10_000_000),
    default: 2_048,
    description: 'Size bound of the read cache in MiB (least recently used files are evicted).',
  },
  {
    key: 'processor.spoolDir',
    env: 'CRYPTOVIZ_SPOOL_DIR',
    flag: 'spool-dir',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'Folder where batches wait on disk while the warehouse is unreachable (beyond the in-memory bound); unset: `cryptoviz-spool` in the OS temp folder.',
  },
  // --- end of object storage settings ---
  // ── first start and terminal logs (issue 13) ──
  {
    key: 'firstStart.seedDays',
    env: 'CRYPTOVIZ_SEED_DAYS',
    flag: 'seed-days',
    schema: z.coerce.number().int().min(0).max(90),
    default: 3,
    description:
      'Days of history `start` puts in an empty warehouse: seeded simulated history with the simulated (or fallback) source, a background CoinGecko backfill with the live one. 0 turns both off.',
  },
  {
    key: 'logFormat',
    env: 'CRYPTOVIZ_LOG_FORMAT',
    flag: 'log-format',
    schema: z.enum(['auto', 'pretty', 'json']),
    default: 'auto',
    description:
      'Log lines of `start`: `pretty` (human-readable), `json` (structured, one object a line) or `auto` (pretty on a terminal, JSON when piped).',
  },
  // --- automatic table maintenance (issue 12) ---
  {
    key: 'maintenance.enabled',
    env: 'CRYPTOVIZ_MAINTENANCE',
    flag: 'maintenance',
    schema: onOff,
    default: 'on',
    description:
      'Automatic table maintenance in writing processes: compact small files in the background, vacuum old ones (`on`/`off`).',
  },
  {
    key: 'maintenance.intervalMs',
    env: 'CRYPTOVIZ_MAINTENANCE_INTERVAL_MS',
    flag: 'maintenance-interval-ms',
    schema: positiveInt,
    default: 60_000,
    description: 'How often the maintenance scheduler looks for partitions to compact.',
  },
  {
    key: 'maintenance.pastDayMinFiles',
    env: 'CRYPTOVIZ_MAINTENANCE_PAST_DAY_MIN_FILES',
    flag: 'maintenance-past-day-min-files',
    schema: positiveInt.min(2),
    default: 8,
    description: 'A partition of a past day is compacted once it holds this many small files.',
  },
  {
    key: 'maintenance.currentDayMinFiles',
    env: 'CRYPTOVIZ_MAINTENANCE_CURRENT_DAY_MIN_FILES',
    flag: 'maintenance-current-day-min-files',
    schema: positiveInt.min(2),
    default: 60,
    description:
      'A partition of the current day is compacted incrementally once it holds this many small files.',
  },
  {
    key: 'maintenance.maxPartitionsPerRun',
    env: 'CRYPTOVIZ_MAINTENANCE_MAX_PARTITIONS',
    flag: 'maintenance-max-partitions',
    schema: positiveInt,
    default: 200,
    description: 'Throttle: partitions compacted per run at most (the rest wait for the next run).',
  },
  {
    key: 'maintenance.pauseMs',
    env: 'CRYPTOVIZ_MAINTENANCE_PAUSE_MS',
    flag: 'maintenance-pause-ms',
    schema: z.coerce.number().int().min(0).max(60_000),
    default: 10,
    description: 'Throttle: pause between rewritten files so ingestion keeps its rate.',
  },
  {
    key: 'maintenance.targetFileSizeBytes',
    env: 'CRYPTOVIZ_MAINTENANCE_TARGET_FILE_SIZE',
    flag: 'maintenance-target-file-size',
    schema: positiveInt,
    default: 134_217_728,
    description: 'Compaction target: files at or above this size are left alone, small ones binned up to it.',
  },
  {
    key: 'maintenance.vacuum',
    env: 'CRYPTOVIZ_MAINTENANCE_VACUUM',
    flag: 'maintenance-vacuum',
    schema: onOff,
    default: 'on',
    description:
      "Also vacuum (hourly) files no retained version references, with the table's retention (`delta.deletedFileRetentionDuration`, 7 days).",
  },
  // --- end of automatic table maintenance ---
  // --- memory bound (issue 12) ---
  {
    key: 'memoryLimitMb',
    env: 'CRYPTOVIZ_MEMORY_LIMIT_MB',
    flag: 'memory-limit-mb',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: 0,
    description:
      'Memory bound of a CryptoViz process in MiB (0: none). Sizes the V8 heap (old space about 60% of it; the process restarts itself once with the flags) and caps the processor buffers and micro-batches (bytes at 1/8 of it, 512 quotes per MiB). Without it the heap still uses small young-generation spaces.',
  },
  // --- end of memory bound ---
] as const satisfies readonly Setting[]
