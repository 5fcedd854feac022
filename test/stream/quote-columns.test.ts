import assert from 'node:assert/strict'
import { test } from 'node:test'
import { prepareColumnFiles } from '../../src/lake/column-batch.ts'
import { prepareDataFiles, type DataFileOptions, type PreparedFile } from '../../src/lake/data-files.ts'
import {
  QUOTES_PARTITION_COLUMNS,
  QUOTES_SCHEMA,
  QUOTES_SORT_BY,
  quoteToRow,
} from '../../src/model/quote-table.ts'
import type { Quote } from '../../src/model/quote.ts'
import { packQuotes, sliceChunk, unpackQuotes } from '../../src/model/quote-chunk.ts'
import { chunksToColumns, chunkToColumns, quotesToColumns } from '../../src/stream/quote-columns.ts'

const T0 = Date.UTC(2024, 0, 5) * 1000

const strip = (f: PreparedFile): object => {
  const s = (p: string): string => p.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, '<uuid>')
  return { ...f, storePath: s(f.storePath), add: { ...f.add, path: s(f.add.path) } }
}

function sampleQuotes(): Quote[] {
  const assets = ['bitcoin', 'ethereum', 'solana']
  return Array.from({ length: 1_500 }, (_, i) => ({
    ts: T0 + ((i * 7_919) % 1_500) * 97_000_000, // out of order, over two days
    source: i % 4 === 0 ? 'coincap' : 'coingecko',
    crypto: assets[i % 3]!,
    symbol: assets[i % 3]!.slice(0, 3).toUpperCase(),
    name: `${assets[i % 3]} ${i % 2 ? 'ü' : ''}`,
    price_usd: 1 + i / 3,
    market_cap_usd: i % 5 === 0 ? null : i * 1e6,
    volume_24h_usd: i % 6 === 0 ? null : i * 1e3,
    change_1h_pct: i % 7 === 0 ? null : (i % 13) - 6,
    change_24h_pct: -0.5,
    change_7d_pct: i % 2 ? null : 1.25,
    circulating_supply: null,
    total_supply: i % 3 ? null : 21e6,
    max_supply: 21e6,
    rank: i % 9 === 0 ? null : 1 + (i % 50),
    ingested_at: T0 + i,
  }))
}

const options: DataFileOptions = {
  schema: QUOTES_SCHEMA,
  partitionColumns: QUOTES_PARTITION_COLUMNS,
  sortBy: QUOTES_SORT_BY,
  modificationTime: 1,
}

test('held chunks give their quotes back, sliced or whole, and joined chunks make the same files as the quotes', () => {
  const quotes = sampleQuotes()
  assert.deepEqual(unpackQuotes(packQuotes(quotes)), quotes)
  assert.deepEqual(unpackQuotes(sliceChunk(packQuotes(quotes), 1_234)), quotes.slice(1_234))
  assert.deepEqual(unpackQuotes(sliceChunk(packQuotes(quotes), 1_500)), [])
  // Chunks of different sizes, dictionaries and null patterns, one of them sliced (as a re-delivery is trimmed).
  const chunks = [
    packQuotes(quotes.slice(0, 100)),
    sliceChunk(packQuotes(quotes.slice(50, 700)), 50),
    packQuotes(quotes.slice(700, 701)),
    packQuotes(quotes.slice(701)),
  ]
  const fromRows = prepareDataFiles(quotes.map(quoteToRow), options)
  assert.deepEqual(prepareColumnFiles(chunksToColumns(chunks), options).map(strip), fromRows.map(strip))
})

test('quotes as columns are the rows quoteToRow makes: the same files, stats and partitions', () => {
  const quotes = sampleQuotes()
  const o = options
  const fromRows = prepareDataFiles(quotes.map(quoteToRow), o)
  assert.ok(fromRows.length >= 12)
  assert.deepEqual(prepareColumnFiles(quotesToColumns(quotes), o).map(strip), fromRows.map(strip))
})

test('one chunk as columns without copying is the batch that joining it makes', () => {
  const chunk = packQuotes(sampleQuotes())
  const viewed = chunkToColumns(chunk)
  assert.deepEqual(viewed, chunksToColumns([chunk]))
  assert.equal((viewed.columns['ts'] as { values: Float64Array }).values, chunk.numbers[0]!.values)
})

test('quotes already in partition and time order (rows as views of the batch) make the same files as their rows', () => {
  const day = (q: Quote): number => Math.floor(q.ts / 86_400_000_000)
  const quotes = sampleQuotes().sort(
    (a, b) =>
      day(a) - day(b) || a.source.localeCompare(b.source) || a.crypto.localeCompare(b.crypto) || a.ts - b.ts,
  )
  const fromRows = prepareDataFiles(quotes.map(quoteToRow), options)
  assert.ok(fromRows.length >= 12)
  assert.deepEqual(prepareColumnFiles(quotesToColumns(quotes), options).map(strip), fromRows.map(strip))
  // A partition whose rows come in two runs still makes one file, in time order.
  const twice = [...quotes, ...quotes.map((q) => ({ ...q, ts: q.ts + 1 }))]
  assert.deepEqual(
    prepareColumnFiles(quotesToColumns(twice), options).map(strip),
    prepareDataFiles(twice.map(quoteToRow), options).map(strip),
  )
})
