/**
 * The simulated market's assets: real CoinGecko slugs, symbols and names with round, plausible
 * starting prices and supplies. Simulated quotes are always labelled `source=simulated`, so these
 * figures are never mistaken for real prices; they only make charts and queries look familiar.
 */
export interface SimulatedAsset {
  slug: string
  symbol: string
  name: string
  /** Starting price in USD. */
  price: number
  /** Circulating supply (units). */
  supply: number
  /** Maximum supply, or null when uncapped. */
  maxSupply: number | null
  /** Annualised volatility of the simulated geometric Brownian motion. */
  volatility: number
}

// slug, symbol, name, price, circulating supply, max supply (0 = uncapped), volatility
const TABLE: [string, string, string, number, number, number, number][] = [
  ['bitcoin', 'BTC', 'Bitcoin', 65_000, 19_700_000, 21_000_000, 0.55],
  ['ethereum', 'ETH', 'Ethereum', 3_200, 120_000_000, 0, 0.7],
  ['tether', 'USDT', 'Tether', 1, 110_000_000_000, 0, 0.01],
  ['binancecoin', 'BNB', 'BNB', 580, 150_000_000, 200_000_000, 0.6],
  ['solana', 'SOL', 'Solana', 150, 460_000_000, 0, 0.9],
  ['usd-coin', 'USDC', 'USDC', 1, 33_000_000_000, 0, 0.01],
  ['ripple', 'XRP', 'XRP', 0.55, 55_000_000_000, 100_000_000_000, 0.8],
  ['dogecoin', 'DOGE', 'Dogecoin', 0.14, 145_000_000_000, 0, 1.0],
  ['the-open-network', 'TON', 'Toncoin', 6.5, 3_500_000_000, 0, 0.9],
  ['cardano', 'ADA', 'Cardano', 0.45, 35_000_000_000, 45_000_000_000, 0.85],
  ['avalanche-2', 'AVAX', 'Avalanche', 35, 390_000_000, 720_000_000, 0.95],
  ['shiba-inu', 'SHIB', 'Shiba Inu', 0.000022, 589_000_000_000_000, 0, 1.1],
  ['tron', 'TRX', 'TRON', 0.12, 87_000_000_000, 0, 0.6],
  ['polkadot', 'DOT', 'Polkadot', 7, 1_400_000_000, 0, 0.9],
  ['chainlink', 'LINK', 'Chainlink', 15, 590_000_000, 1_000_000_000, 0.9],
  ['bitcoin-cash', 'BCH', 'Bitcoin Cash', 450, 19_700_000, 21_000_000, 0.8],
  ['near', 'NEAR', 'NEAR Protocol', 6, 1_070_000_000, 0, 1.0],
  ['litecoin', 'LTC', 'Litecoin', 80, 74_000_000, 84_000_000, 0.75],
  ['matic-network', 'MATIC', 'Polygon', 0.7, 9_900_000_000, 10_000_000_000, 0.95],
  ['internet-computer', 'ICP', 'Internet Computer', 12, 460_000_000, 0, 1.0],
  ['uniswap', 'UNI', 'Uniswap', 9, 600_000_000, 1_000_000_000, 1.0],
  ['dai', 'DAI', 'Dai', 1, 5_300_000_000, 0, 0.01],
  ['ethereum-classic', 'ETC', 'Ethereum Classic', 27, 147_000_000, 210_700_000, 0.85],
  ['aptos', 'APT', 'Aptos', 9, 430_000_000, 0, 1.0],
  ['stellar', 'XLM', 'Stellar', 0.11, 29_000_000_000, 50_001_806_812, 0.8],
  ['monero', 'XMR', 'Monero', 160, 18_400_000, 0, 0.7],
  ['cosmos', 'ATOM', 'Cosmos Hub', 8.5, 390_000_000, 0, 0.9],
  ['okb', 'OKB', 'OKB', 48, 60_000_000, 0, 0.7],
  ['filecoin', 'FIL', 'Filecoin', 5.8, 560_000_000, 1_960_000_000, 1.0],
  ['hedera-hashgraph', 'HBAR', 'Hedera', 0.09, 35_700_000_000, 50_000_000_000, 0.9],
  ['crypto-com-chain', 'CRO', 'Cronos', 0.1, 26_700_000_000, 30_263_013_692, 0.8],
  ['arbitrum', 'ARB', 'Arbitrum', 1.0, 2_900_000_000, 10_000_000_000, 1.0],
  ['mantle', 'MNT', 'Mantle', 0.9, 3_200_000_000, 6_219_316_795, 0.9],
  ['vechain', 'VET', 'VeChain', 0.035, 72_700_000_000, 86_712_634_466, 0.9],
  ['render-token', 'RNDR', 'Render', 9, 388_000_000, 531_000_000, 1.1],
  ['maker', 'MKR', 'Maker', 2_800, 920_000, 1_005_577, 0.85],
  ['optimism', 'OP', 'Optimism', 2.4, 1_050_000_000, 4_294_967_296, 1.0],
  ['injective-protocol', 'INJ', 'Injective', 25, 93_000_000, 100_000_000, 1.1],
  ['immutable-x', 'IMX', 'Immutable', 2.1, 1_500_000_000, 2_000_000_000, 1.05],
  ['kaspa', 'KAS', 'Kaspa', 0.13, 23_400_000_000, 28_704_026_601, 1.0],
  ['the-graph', 'GRT', 'The Graph', 0.28, 9_500_000_000, 0, 1.05],
  ['algorand', 'ALGO', 'Algorand', 0.18, 8_100_000_000, 10_000_000_000, 0.9],
  ['aave', 'AAVE', 'Aave', 95, 14_800_000, 16_000_000, 0.95],
  ['stacks', 'STX', 'Stacks', 2.0, 1_460_000_000, 1_818_000_000, 1.1],
  ['sui', 'SUI', 'Sui', 1.1, 2_400_000_000, 10_000_000_000, 1.1],
  ['fantom', 'FTM', 'Fantom', 0.7, 2_800_000_000, 3_175_000_000, 1.1],
  ['theta-token', 'THETA', 'Theta Network', 2.2, 1_000_000_000, 1_000_000_000, 1.0],
  ['bittensor', 'TAO', 'Bittensor', 400, 6_800_000, 21_000_000, 1.2],
  ['thorchain', 'RUNE', 'THORChain', 5.5, 335_000_000, 500_000_000, 1.1],
  ['lido-dao', 'LDO', 'Lido DAO', 2.1, 890_000_000, 1_000_000_000, 1.05],
  ['sei-network', 'SEI', 'Sei', 0.55, 2_900_000_000, 10_000_000_000, 1.15],
  ['the-sandbox', 'SAND', 'The Sandbox', 0.45, 2_200_000_000, 3_000_000_000, 1.05],
  ['decentraland', 'MANA', 'Decentraland', 0.45, 1_900_000_000, 2_193_179_327, 1.05],
  ['eos', 'EOS', 'EOS', 0.8, 1_130_000_000, 0, 0.9],
  ['tezos', 'XTZ', 'Tezos', 0.95, 990_000_000, 0, 0.9],
  ['axie-infinity', 'AXS', 'Axie Infinity', 7.5, 147_000_000, 270_000_000, 1.1],
  ['flow', 'FLOW', 'Flow', 0.9, 1_500_000_000, 0, 1.0],
  ['gala', 'GALA', 'GALA', 0.04, 35_000_000_000, 50_000_000_000, 1.2],
  ['neo', 'NEO', 'NEO', 14, 70_500_000, 100_000_000, 0.9],
  ['kucoin-shares', 'KCS', 'KuCoin', 10, 96_000_000, 0, 0.7],
  ['chiliz', 'CHZ', 'Chiliz', 0.1, 8_800_000_000, 8_888_888_888, 1.05],
  ['iota', 'IOTA', 'IOTA', 0.22, 3_300_000_000, 0, 0.95],
  ['pancakeswap-token', 'CAKE', 'PancakeSwap', 2.6, 250_000_000, 450_000_000, 1.0],
  ['curve-dao-token', 'CRV', 'Curve DAO', 0.45, 1_200_000_000, 3_030_303_031, 1.1],
  ['klay-token', 'KLAY', 'Klaytn', 0.2, 3_700_000_000, 0, 1.0],
  ['ecash', 'XEC', 'eCash', 0.00004, 19_600_000_000_000, 21_000_000_000_000, 0.9],
  ['bitcoin-cash-sv', 'BSV', 'Bitcoin SV', 60, 19_700_000, 21_000_000, 1.0],
  ['mina-protocol', 'MINA', 'Mina', 0.8, 1_150_000_000, 0, 1.05],
  ['conflux-token', 'CFX', 'Conflux', 0.2, 4_000_000_000, 0, 1.1],
  ['pendle', 'PENDLE', 'Pendle', 5, 157_000_000, 258_446_028, 1.2],
  ['synthetix-network-token', 'SNX', 'Synthetix', 2.5, 330_000_000, 0, 1.1],
  ['zcash', 'ZEC', 'Zcash', 25, 16_300_000, 21_000_000, 0.9],
  ['gnosis', 'GNO', 'Gnosis', 280, 2_600_000, 3_000_000, 0.9],
  ['dydx-chain', 'DYDX', 'dYdX', 1.8, 620_000_000, 1_000_000_000, 1.15],
  ['worldcoin-wld', 'WLD', 'Worldcoin', 4.5, 240_000_000, 10_000_000_000, 1.3],
  ['blur', 'BLUR', 'Blur', 0.35, 1_700_000_000, 3_000_000_000, 1.2],
  ['oasis-network', 'ROSE', 'Oasis', 0.09, 6_700_000_000, 10_000_000_000, 1.05],
  ['fetch-ai', 'FET', 'Fetch.ai', 1.8, 1_040_000_000, 1_152_997_575, 1.25],
  ['helium', 'HNT', 'Helium', 5, 160_000_000, 223_000_000, 1.1],
  ['compound-governance-token', 'COMP', 'Compound', 55, 8_200_000, 10_000_000, 1.0],
  ['1inch', '1INCH', '1inch', 0.4, 1_200_000_000, 1_500_000_000, 1.05],
  ['nexo', 'NEXO', 'NEXO', 1.2, 560_000_000, 1_000_000_000, 0.8],
  ['pepe', 'PEPE', 'Pepe', 0.00001, 420_690_000_000_000, 420_690_000_000_000, 1.4],
  ['dash', 'DASH', 'Dash', 28, 11_900_000, 18_900_000, 0.9],
  ['zilliqa', 'ZIL', 'Zilliqa', 0.02, 18_000_000_000, 21_000_000_000, 1.0],
  ['enjincoin', 'ENJ', 'Enjin Coin', 0.28, 1_700_000_000, 2_000_000_000, 1.05],
  ['celo', 'CELO', 'Celo', 0.75, 550_000_000, 1_000_000_000, 1.05],
  ['basic-attention-token', 'BAT', 'Basic Attention', 0.25, 1_490_000_000, 1_500_000_000, 0.95],
  ['qtum', 'QTUM', 'Qtum', 3.3, 105_000_000, 107_822_406, 0.95],
  ['ravencoin', 'RVN', 'Ravencoin', 0.025, 14_000_000_000, 21_000_000_000, 1.0],
  ['kusama', 'KSM', 'Kusama', 30, 16_000_000, 0, 1.0],
  ['arweave', 'AR', 'Arweave', 30, 65_000_000, 66_000_000, 1.15],
  ['ocean-protocol', 'OCEAN', 'Ocean Protocol', 0.7, 570_000_000, 1_410_000_000, 1.15],
  ['ankr', 'ANKR', 'Ankr', 0.04, 10_000_000_000, 10_000_000_000, 1.05],
  ['harmony', 'ONE', 'Harmony', 0.02, 14_000_000_000, 0, 1.1],
  ['icon', 'ICX', 'ICON', 0.2, 1_000_000_000, 0, 1.0],
  ['wax', 'WAXP', 'WAX', 0.05, 3_300_000_000, 0, 1.05],
  ['loopring', 'LRC', 'Loopring', 0.25, 1_370_000_000, 1_374_513_896, 1.05],
  ['golem', 'GLM', 'Golem', 0.4, 1_000_000_000, 1_000_000_000, 1.05],
  ['siacoin', 'SC', 'Siacoin', 0.006, 57_000_000_000, 0, 1.05],
]

export const SIMULATED_ASSETS: readonly SimulatedAsset[] = TABLE.map(
  ([slug, symbol, name, price, supply, max, volatility]) => ({
    slug,
    symbol,
    name,
    price,
    supply,
    maxSupply: max === 0 ? null : max,
    volatility,
  }),
)

/**
 * The first `n` simulated assets. Past the catalogue, assets are numbered (`sim-asset-0101`) so
 * that scale tests can ask for thousands; they are plainly not real slugs.
 */
export function simulatedAssets(n: number): SimulatedAsset[] {
  const out = SIMULATED_ASSETS.slice(0, n)
  for (let i = out.length; i < n; i++) {
    const id = String(i + 1).padStart(4, '0')
    out.push({
      slug: `sim-asset-${id}`,
      symbol: `S${id}`,
      name: `Simulated Asset ${id}`,
      price: 1 + ((i * 7919) % 997) / 10,
      supply: 1_000_000 * (1 + (i % 50)),
      maxSupply: null,
      volatility: 0.8,
    })
  }
  return out
}
