/**
 * Options of every source component, as zod schemas with defaults, so the app config can embed
 * them and each component receives validated, frozen values.
 *
 * Defaults stay inside the providers' free plans (figures from their public docs, 2024–2025):
 * - CoinGecko keyless: IP-based limit, historically documented as 5–15 calls/min; `/coins/markets`
 *   is documented as updated every 45 s, so polling faster than a minute mostly fetches repeats.
 *   → one 250-coin page every 60 s, bucket of 5 calls/min.
 * - CoinGecko demo key: 30 calls/min and 10,000 calls/month (≈ 322/day).
 *   → one page every 300 s (288 calls/day), bucket of 25 calls/min.
 * - CoinGecko pro key: paid plans start at 250–500 calls/min. → 60 s, 200 calls/min.
 * - CoinMarketCap Basic (free): 30 calls/min and 10,000 credits/month (≈ 322/day); the listings
 *   endpoint costs 1 credit per 200 coins. → 200 coins every 300 s = 288 credits/day under a
 *   300-credit daily budget, bucket of 20 calls/min.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'

const positiveInt = z.number().int().positive()
const nonNegativeInt = z.number().int().nonnegative()

export const retryDefaults = {
  /** Attempts per request, the first included. */
  maxAttempts: 3,
  /** First backoff before jitter. */
  baseDelayMs: 1_000,
  /** Longest wait inside one poll; a longer Retry-After is left to the collector. */
  maxDelayMs: 30_000,
} as const

export const retryOptionsSchema = z.object({
  maxAttempts: positiveInt.max(10).default(retryDefaults.maxAttempts),
  baseDelayMs: nonNegativeInt.default(retryDefaults.baseDelayMs),
  maxDelayMs: nonNegativeInt.default(retryDefaults.maxDelayMs),
})
export type RetryOptions = z.output<typeof retryOptionsSchema>

export const circuitBreakerDefaults = {
  /** Consecutive failed requests (after retries) that open the circuit. */
  failureThreshold: 5,
  /** Two minutes open before one half-open trial request. */
  openMs: 120_000,
} as const

export const circuitBreakerOptionsSchema = z.object({
  failureThreshold: positiveInt.default(circuitBreakerDefaults.failureThreshold),
  openMs: nonNegativeInt.default(circuitBreakerDefaults.openMs),
})
export type CircuitBreakerOptions = z.output<typeof circuitBreakerOptionsSchema>

export const rateLimitOptionsSchema = z.object({
  /** Sustained refill rate of the token bucket. */
  requestsPerMinute: z.number().positive(),
  /** Bucket capacity: requests allowed back to back. */
  burst: positiveInt,
})
export type RateLimitOptions = z.output<typeof rateLimitOptionsSchema>

export const COINGECKO_PLANS = ['public', 'demo', 'pro'] as const
export type CoinGeckoPlan = (typeof COINGECKO_PLANS)[number]

/** Per-plan defaults; see the module comment for the reasoning. */
export const coingeckoPlanDefaults = {
  public: {
    baseUrl: 'https://api.coingecko.com',
    /** One minute, just above the endpoint's 45 s update period. */
    intervalMs: 60_000,
    rateLimit: { requestsPerMinute: 5, burst: 2 },
  },
  demo: {
    baseUrl: 'https://api.coingecko.com',
    /** Five minutes: 288 calls/day within 10,000 calls/month. */
    intervalMs: 300_000,
    rateLimit: { requestsPerMinute: 25, burst: 5 },
  },
  pro: {
    baseUrl: 'https://pro-api.coingecko.com',
    /** One minute. */
    intervalMs: 60_000,
    rateLimit: { requestsPerMinute: 200, burst: 10 },
  },
} as const satisfies Record<
  CoinGeckoPlan,
  { baseUrl: string; intervalMs: number; rateLimit: RateLimitOptions }
>

export const COINGECKO_ORDERS = [
  'market_cap_desc',
  'market_cap_asc',
  'volume_desc',
  'volume_asc',
  'id_asc',
  'id_desc',
] as const

export const coingeckoDefaults = {
  plan: 'public',
  /** Coins per page, the API maximum. */
  perPage: 250,
  /** Pages per poll. */
  pages: 1,
  order: 'market_cap_desc',
  /** Ten seconds per request, headers and body. */
  timeoutMs: 10_000,
  /** Two minutes of provider clock skew accepted. */
  futureToleranceMs: 120_000,
} as const

/**
 * The origin (plus any proxy prefix) in front of CoinGecko's `/api/v3/…` paths: a base URL given
 * in the documented form (ending in `/api/v3`) loses that suffix, so requests do not go to
 * `/api/v3/api/v3/…`; any other URL is kept as it is.
 */
export const withoutApiVersion = (baseUrl: string): string => baseUrl.replace(/\/api\/v3\/*$/, '')

export const coingeckoOptionsSchema = z
  .object({
    plan: z.enum(COINGECKO_PLANS).default(coingeckoDefaults.plan),
    /** Demo or pro key; sent as x-cg-demo-api-key / x-cg-pro-api-key. */
    apiKey: z.string().min(1).optional(),
    /**
     * The API's base URL as CoinGecko documents it (`https://api.coingecko.com/api/v3`,
     * `https://pro-api.coingecko.com/api/v3`) or, as before, the origin (plus any proxy prefix)
     * without `/api/v3`; default by plan.
     */
    baseUrl: z.url().optional(),
    /** Between polls; default by plan. */
    intervalMs: positiveInt.optional(),
    perPage: positiveInt.max(250).default(coingeckoDefaults.perPage),
    pages: positiveInt.max(40).default(coingeckoDefaults.pages),
    order: z.enum(COINGECKO_ORDERS).default(coingeckoDefaults.order),
    /** Default by plan. */
    rateLimit: rateLimitOptionsSchema.optional(),
    retry: retryOptionsSchema.prefault({}),
    circuitBreaker: circuitBreakerOptionsSchema.prefault({}),
    timeoutMs: positiveInt.default(coingeckoDefaults.timeoutMs),
    futureToleranceMs: nonNegativeInt.default(coingeckoDefaults.futureToleranceMs),
  })
  .superRefine((o, ctx) => {
    if (o.plan !== 'public' && o.apiKey === undefined)
      ctx.addIssue({ code: 'custom', path: ['apiKey'], message: `the ${o.plan} plan needs an API key` })
    if (o.plan === 'public' && o.apiKey !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['plan'],
        message: 'an API key was given with the keyless "public" plan; set plan to "demo" or "pro"',
      })
  })
  .transform((o) => {
    const plan = coingeckoPlanDefaults[o.plan]
    return {
      ...o,
      baseUrl: o.baseUrl === undefined ? plan.baseUrl : withoutApiVersion(o.baseUrl),
      intervalMs: o.intervalMs ?? plan.intervalMs,
      rateLimit: o.rateLimit ?? { ...plan.rateLimit },
    }
  })
export type CoinGeckoOptionsInput = z.input<typeof coingeckoOptionsSchema>
export type CoinGeckoOptions = z.output<typeof coingeckoOptionsSchema>

export const coinmarketcapDefaults = {
  baseUrl: 'https://pro-api.coinmarketcap.com',
  /** Five minutes. */
  intervalMs: 300_000,
  /** 1-based rank offset. */
  start: 1,
  /** Coins per call: exactly one credit. */
  limit: 200,
  /** Credits per UTC day; 10,000/month ÷ 31 days ≈ 322. */
  dailyCreditBudget: 300,
  /** Basic allows 30/min. */
  rateLimit: { requestsPerMinute: 20, burst: 5 },
  /** Ten seconds per request. */
  timeoutMs: 10_000,
  /** Two minutes of provider clock skew accepted. */
  futureToleranceMs: 120_000,
} as const

export const coinmarketcapOptionsSchema = z.object({
  /** From CRYPTOVIZ_CMC_API_KEY; required to build the source. */
  apiKey: z.string().min(1).optional(),
  baseUrl: z.url().default(coinmarketcapDefaults.baseUrl),
  intervalMs: positiveInt.default(coinmarketcapDefaults.intervalMs),
  start: positiveInt.default(coinmarketcapDefaults.start),
  limit: positiveInt.max(5_000).default(coinmarketcapDefaults.limit),
  dailyCreditBudget: nonNegativeInt.default(coinmarketcapDefaults.dailyCreditBudget),
  rateLimit: rateLimitOptionsSchema.prefault({ ...coinmarketcapDefaults.rateLimit }),
  retry: retryOptionsSchema.prefault({}),
  circuitBreaker: circuitBreakerOptionsSchema.prefault({}),
  timeoutMs: positiveInt.default(coinmarketcapDefaults.timeoutMs),
  futureToleranceMs: nonNegativeInt.default(coinmarketcapDefaults.futureToleranceMs),
})
export type CoinMarketCapOptionsInput = z.input<typeof coinmarketcapOptionsSchema>
export type CoinMarketCapOptions = z.output<typeof coinmarketcapOptionsSchema>

export const simulatedDefaults = {
  /** Simulated coins. */
  assets: 20,
  /** Same seed, same prices. */
  seed: 42,
  /** Two seconds between ticks. */
  intervalMs: 2_000,
} as const

export const simulatedOptionsSchema = z.object({
  assets: positiveInt.max(10_000).default(simulatedDefaults.assets),
  seed: z.number().int().default(simulatedDefaults.seed),
  intervalMs: positiveInt.default(simulatedDefaults.intervalMs),
})
export type SimulatedOptions = z.output<typeof simulatedOptionsSchema>

export const autoDefaults = {
  /** Consecutive failed polls before a provider that once answered counts as down. */
  fallbackAfterFailures: 3,
} as const

export const autoOptionsSchema = z.object({
  fallbackAfterFailures: positiveInt.default(autoDefaults.fallbackAfterFailures),
})
export type AutoOptions = z.output<typeof autoOptionsSchema>

export const collectorDefaults = {
  /** Fifteen minutes at most between polls of a failing source. */
  maxBackoffMs: 900_000,
} as const

export const collectorOptionsSchema = z.object({
  maxBackoffMs: positiveInt.default(collectorDefaults.maxBackoffMs),
})
export type CollectorOptions = z.output<typeof collectorOptionsSchema>

export const backfillDefaults = {
  /** The longest range CoinGecko still answers hourly. */
  windowDays: 90,
} as const

export const backfillOptionsSchema = z.object({
  windowDays: positiveInt.max(90).default(backfillDefaults.windowDays),
})
export type BackfillOptions = z.output<typeof backfillOptionsSchema>

export const gapsDefaults = {
  /** A silence longer than this many polling intervals is a gap. */
  factor: 3,
} as const

export const gapsOptionsSchema = z.object({
  factor: z.number().min(1).default(gapsDefaults.factor),
})

/** Every source option, as one object the app config can embed under `sources`. */
export const sourcesOptionsSchema = z.object({
  coingecko: coingeckoOptionsSchema.prefault({}),
  coinmarketcap: coinmarketcapOptionsSchema.prefault({}),
  simulated: simulatedOptionsSchema.prefault({}),
  auto: autoOptionsSchema.prefault({}),
  collector: collectorOptionsSchema.prefault({}),
  backfill: backfillOptionsSchema.prefault({}),
  gaps: gapsOptionsSchema.prefault({}),
})
export type SourcesOptionsInput = z.input<typeof sourcesOptionsSchema>
export type SourcesOptions = z.output<typeof sourcesOptionsSchema>

/** Parses options or throws `CONFIG_INVALID` naming each bad field; the result is frozen. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input)
  if (!r.success) {
    const why = r.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`).join('; ')
    throw new CryptoVizError('CONFIG_INVALID', `invalid ${what} options: ${why}`, { kind: 'user' })
  }
  return deepFreeze(r.data)
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
