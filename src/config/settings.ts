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
    description: 'Warehouse folder holding the Delta tables (quotes, dead_letters).',
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
    default: 50_000,
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
    description: 'Override of the CoinGecko base URL (proxies, mirrors, tests).',
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
] as const satisfies readonly Setting[]
