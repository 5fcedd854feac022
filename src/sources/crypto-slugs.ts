/**
 * The canonical `crypto` slug shared by every source. The canonical slug is CoinGecko's coin `id`
 * (the simulated market uses the same ids), so CoinGecko items keep theirs. CoinMarketCap's `slug`
 * usually equals it (`bitcoin`, `ethereum`, `solana`…), but not always: for the assets below the
 * two providers name the same coin differently, and without this table the lake would hold two
 * unrelated series for one asset (e.g. CMC `bnb` next to CoinGecko `binancecoin`), or worse, put
 * CMC's `terra-luna-v2` (LUNA) beside CoinGecko's `terra-luna`, which is the old chain (LUNC).
 *
 * | CoinMarketCap slug        | canonical (CoinGecko id) | asset                       |
 * |---------------------------|--------------------------|-----------------------------|
 * | bnb                       | binancecoin              | BNB                         |
 * | xrp                       | ripple                   | XRP                         |
 * | avalanche                 | avalanche-2              | Avalanche (AVAX)            |
 * | multi-collateral-dai      | dai                      | Dai (DAI)                   |
 * | toncoin                   | the-open-network         | Toncoin (TON)               |
 * | polkadot-new              | polkadot                 | Polkadot (DOT)              |
 * | near-protocol             | near                     | NEAR Protocol               |
 * | polygon                   | matic-network            | Polygon (MATIC)             |
 * | unus-sed-leo              | leo-token                | UNUS SED LEO                |
 * | cronos                    | crypto-com-chain         | Cronos (CRO)                |
 * | hedera                    | hedera-hashgraph         | Hedera (HBAR)               |
 * | optimism-ethereum         | optimism                 | Optimism (OP)               |
 * | render                    | render-token             | Render (RNDR)               |
 * | multiversx-egld           | elrond-erd-2             | MultiversX (EGLD)           |
 * | injective                 | injective-protocol       | Injective (INJ)             |
 * | stacks                    | blockstack               | Stacks (STX)                |
 * | theta-network             | theta-token              | Theta Network (THETA)       |
 * | quant                     | quant-network            | Quant (QNT)                 |
 * | xdc-network               | xdce-crowd-sale          | XDC Network (XDC)           |
 * | klaytn                    | klay-token               | Klaytn (KLAY)               |
 * | terra-luna-v2             | terra-luna-2             | Terra (LUNA, the new chain) |
 * | bitget-token-new          | bitget-token             | Bitget Token (BGB)          |
 *
 * Invariants: the table is one-to-one (no two CMC slugs share a canonical slug) and no CMC slug
 * in it is itself the canonical slug of another entry, so renaming can never merge two assets.
 * A slug not in the table passes through unchanged. Add rows when a new collision is found; a
 * test checks both invariants.
 */
export const CMC_SLUG_OVERRIDES: Readonly<Record<string, string>> = Object.freeze({
  bnb: 'binancecoin',
  xrp: 'ripple',
  avalanche: 'avalanche-2',
  'multi-collateral-dai': 'dai',
  toncoin: 'the-open-network',
  'polkadot-new': 'polkadot',
  'near-protocol': 'near',
  polygon: 'matic-network',
  'unus-sed-leo': 'leo-token',
  cronos: 'crypto-com-chain',
  hedera: 'hedera-hashgraph',
  'optimism-ethereum': 'optimism',
  render: 'render-token',
  'multiversx-egld': 'elrond-erd-2',
  injective: 'injective-protocol',
  stacks: 'blockstack',
  'theta-network': 'theta-token',
  quant: 'quant-network',
  'xdc-network': 'xdce-crowd-sale',
  klaytn: 'klay-token',
  'terra-luna-v2': 'terra-luna-2',
  'bitget-token-new': 'bitget-token',
})

/** The canonical slug of a CoinGecko coin id: the id itself. */
export const canonicalFromCoinGecko = (id: string): string => id

/** The canonical slug of a CoinMarketCap slug. */
export const canonicalFromCoinMarketCap = (slug: string): string => CMC_SLUG_OVERRIDES[slug] ?? slug

/** Symbols are compared across sources upper-case (CoinGecko sends `btc`, CMC `BTC`). */
export const canonicalSymbol = (symbol: string): string => symbol.toUpperCase()
