/**
 * The CoinGecko API v3 client shared by the live source and backfill, so both draw on one token
 * bucket and one circuit breaker per process.
 *
 * Keys and hosts: keyless and demo keys use `api.coingecko.com` (demo key in `x-cg-demo-api-key`),
 * pro keys use `pro-api.coingecko.com` (`x-cg-pro-api-key`). A key sent to the wrong host is
 * answered with error 10010/10011, reported as `SOURCE_AUTH` naming the fix.
 *
 * Error bodies come in three shapes, all understood here:
 * `{"status":{"error_code":…,"error_message":…}}` (401/429), `{"error":{"status":{…}}}` and
 * `{"error":"…"}` (400/404).
 */
import { CryptoVizError } from '../errors.ts'
import { parseRetryAfter } from './backoff.ts'
import {
  coingeckoOptionsSchema,
  parseOptions,
  type CoinGeckoOptions,
  type CoinGeckoOptionsInput,
} from './options.ts'
import { ProviderHttp, type ProviderResponse } from './provider-http.ts'
import { systemDeps, type SourceDeps } from './source-deps.ts'

export const COINGECKO_SOURCE = 'coingecko'
export const COINGECKO_MARKETS_PATH = '/api/v3/coins/markets'

export interface CoinGeckoErrorBody {
  code: number | undefined
  message: string
}

/** The provider's error code and message, from whichever documented error shape the body has. */
export function coingeckoErrorBody(json: unknown): CoinGeckoErrorBody | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined
  const o = json as Record<string, unknown>
  const fromStatus = (s: unknown): CoinGeckoErrorBody | undefined => {
    if (s === null || typeof s !== 'object') return undefined
    const st = s as Record<string, unknown>
    const code = Number(st['error_code'])
    if (!Number.isFinite(code) || code === 0) return undefined
    return { code, message: String(st['error_message'] ?? '') }
  }
  const direct = fromStatus(o['status'])
  if (direct !== undefined) return direct
  const e = o['error']
  if (typeof e === 'string') return { code: undefined, message: e }
  if (e !== null && typeof e === 'object') return fromStatus((e as Record<string, unknown>)['status'])
  return undefined
}

const KEY_HINT: Record<number, string> = {
  10002:
    'API key missing: set the key and the matching plan (demo → x-cg-demo-api-key, pro → x-cg-pro-api-key)',
  10005: 'this endpoint is not available on the current plan',
  10010: 'a pro key must be used with https://pro-api.coingecko.com (set plan "pro")',
  10011: 'a demo key must be used with https://api.coingecko.com (set plan "demo")',
}

/** CoinGecko's own errors as typed errors; undefined leaves the response to the generic rules. */
export function interpretCoinGecko(res: ProviderResponse, nowMs: number): CryptoVizError | undefined {
  const body = coingeckoErrorBody(res.json)
  if (body === undefined) return undefined
  const details = {
    provider: COINGECKO_SOURCE,
    target: res.target,
    status: res.status,
    providerCode: body.code,
    providerMessage: body.message,
  }
  const hint = body.code === undefined ? undefined : KEY_HINT[body.code]
  if (hint !== undefined)
    return new CryptoVizError('SOURCE_AUTH', `coingecko error ${body.code}: ${hint} (${body.message})`, {
      kind: 'user',
      details,
    })
  if (res.status === 429 || body.code === 429)
    return new CryptoVizError('SOURCE_RATE_LIMITED', `coingecko: rate limited: ${body.message}`, {
      kind: 'external',
      canRetry: true,
      details: { ...details, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), nowMs) },
    })
  if (res.status >= 200 && res.status < 300)
    return new CryptoVizError(
      'SOURCE_BAD_RESPONSE',
      `coingecko: error body with HTTP ${res.status}: ${body.message}`,
      {
        kind: 'external',
        canRetry: false,
        details,
      },
    )
  return undefined
}

export class CoinGeckoClient {
  readonly options: CoinGeckoOptions
  readonly http: ProviderHttp

  constructor(options: CoinGeckoOptionsInput = {}, deps: SourceDeps = systemDeps) {
    this.options = parseOptions(coingeckoOptionsSchema, options, 'coingecko')
    const o = this.options
    const headers: Record<string, string> = {}
    if (o.apiKey !== undefined)
      headers[o.plan === 'pro' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key'] = o.apiKey
    this.http = new ProviderHttp(
      {
        provider: COINGECKO_SOURCE,
        baseUrl: o.baseUrl,
        headers,
        timeoutMs: o.timeoutMs,
        retry: o.retry,
        rateLimit: o.rateLimit,
        circuitBreaker: o.circuitBreaker,
        interpret: (res) => interpretCoinGecko(res, deps.now()),
      },
      deps,
    )
  }

  /** One page of `/coins/markets` in USD with 1h/24h/7d changes. `ids` restricts the coins. */
  markets(page: number, signal: AbortSignal, ids?: readonly string[]): Promise<ProviderResponse> {
    const o = this.options
    return this.http.getJson(
      COINGECKO_MARKETS_PATH,
      {
        vs_currency: 'usd',
        ids: ids?.join(','),
        order: o.order,
        per_page: o.perPage,
        page,
        sparkline: 'false',
        price_change_percentage: '1h,24h,7d',
      },
      signal,
    )
  }

  /** `/coins/{id}/market_chart/range` in USD between two unix times in seconds. */
  marketChartRange(
    id: string,
    fromSec: number,
    toSec: number,
    signal: AbortSignal,
  ): Promise<ProviderResponse> {
    return this.http.getJson(
      `/api/v3/coins/${encodeURIComponent(id)}/market_chart/range`,
      { vs_currency: 'usd', from: fromSec, to: toSec },
      signal,
    )
  }
}
