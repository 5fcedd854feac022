/**
 * Provider payloads with the real field names and shapes, from the providers' documentation
 * (CoinGecko `/coins/markets` with `price_change_percentage=1h,24h,7d`, CoinMarketCap
 * `/v1/cryptocurrency/listings/latest`) with plausible April 2024 values.
 */

export const NOW = '2024-04-28T10:16:00.000Z'

export function cgBitcoin(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'bitcoin',
    symbol: 'btc',
    name: 'Bitcoin',
    image: 'https://coin-images.coingecko.com/coins/images/1/large/bitcoin.png?1696501400',
    current_price: 63412.77,
    market_cap: 1248713206475,
    market_cap_rank: 1,
    fully_diluted_valuation: 1331700089447,
    total_volume: 14763825932,
    high_24h: 63931,
    low_24h: 62844,
    price_change_24h: -365.7139,
    price_change_percentage_24h: -0.57341,
    market_cap_change_24h: -6830611640.1345,
    market_cap_change_percentage_24h: -0.544,
    circulating_supply: 19688915,
    total_supply: 21000000,
    max_supply: 21000000,
    ath: 73738,
    ath_change_percentage: -13.99838,
    ath_date: '2024-03-14T07:10:36.635Z',
    atl: 67.81,
    atl_change_percentage: 93418.14855,
    atl_date: '2013-07-06T00:00:00.000Z',
    roi: null,
    last_updated: '2024-04-28T10:15:21.264Z',
    price_change_percentage_1h_in_currency: 0.1322394,
    price_change_percentage_24h_in_currency: -0.5734129,
    price_change_percentage_7d_in_currency: -2.0415766,
    ...overrides,
  }
}

export function cgEthereum(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ethereum',
    symbol: 'eth',
    name: 'Ethereum',
    image: 'https://coin-images.coingecko.com/coins/images/279/large/ethereum.png?1696501628',
    current_price: 3261.04,
    market_cap: 391681418021,
    market_cap_rank: 2,
    fully_diluted_valuation: 391681418021,
    total_volume: 9437285467,
    high_24h: 3290.82,
    low_24h: 3218.01,
    price_change_24h: -1.8714,
    price_change_percentage_24h: -0.05735,
    market_cap_change_24h: 151735398,
    market_cap_change_percentage_24h: 0.03875,
    circulating_supply: 120101578.69,
    total_supply: 120101578.69,
    max_supply: null,
    ath: 4878.26,
    ath_change_percentage: -33.1446,
    ath_date: '2021-11-10T14:24:19.604Z',
    atl: 0.432979,
    atl_change_percentage: 753161.47627,
    atl_date: '2015-10-20T00:00:00.000Z',
    roi: { times: 62.13, currency: 'btc', percentage: 6213.49 },
    last_updated: '2024-04-28T10:15:33.011Z',
    price_change_percentage_1h_in_currency: 0.05,
    price_change_percentage_24h_in_currency: -0.0573,
    price_change_percentage_7d_in_currency: 4.62,
    ...overrides,
  }
}

export function cmcListing(
  coin: { id: number; name: string; symbol: string; slug: string; rank: number; price: number },
  overrides: { item?: Record<string, unknown>; usd?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    id: coin.id,
    name: coin.name,
    symbol: coin.symbol,
    slug: coin.slug,
    num_market_pairs: 1530,
    date_added: '2017-07-25T00:00:00.000Z',
    tags: ['marketplace', 'centralized-exchange'],
    max_supply: null,
    circulating_supply: 147583922.5,
    total_supply: 147583922.5,
    infinite_supply: false,
    platform: null,
    cmc_rank: coin.rank,
    self_reported_circulating_supply: null,
    self_reported_market_cap: null,
    tvl_ratio: null,
    last_updated: '2024-04-28T10:14:00.000Z',
    quote: {
      USD: {
        price: coin.price,
        volume_24h: 1368207651.53,
        volume_change_24h: -23.84,
        percent_change_1h: -0.0927,
        percent_change_24h: 0.8712,
        percent_change_7d: 3.2519,
        percent_change_30d: 4.1,
        percent_change_60d: 61.2,
        percent_change_90d: 92.4,
        market_cap: 88830000000.17,
        market_cap_dominance: 3.66,
        fully_diluted_market_cap: 88830000000.17,
        tvl: null,
        last_updated: '2024-04-28T10:14:00.000Z',
        ...overrides.usd,
      },
    },
    ...overrides.item,
  }
}

export const CMC_BTC = { id: 1, name: 'Bitcoin', symbol: 'BTC', slug: 'bitcoin', rank: 1, price: 63420.51 }
export const CMC_BNB = { id: 1839, name: 'BNB', symbol: 'BNB', slug: 'bnb', rank: 4, price: 601.88 }

export function cmcBody(data: unknown[], status: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: {
      timestamp: NOW,
      error_code: 0,
      error_message: null,
      elapsed: 31,
      credit_count: 1,
      notice: null,
      total_count: 9866,
      ...status,
    },
    data,
  }
}

export function cmcError(code: number, message: string): Record<string, unknown> {
  return {
    status: {
      timestamp: NOW,
      error_code: code,
      error_message: message,
      elapsed: 0,
      credit_count: 0,
      notice: null,
    },
  }
}

export const HTML_502 = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>`
