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
    default: 'simulated',
    description: 'Quote sources: `simulated`, `coingecko`, `coinmarketcap` (comma-separated), or `auto`.',
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
] as const satisfies readonly Setting[]
