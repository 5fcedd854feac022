/**
 * Storage: bytes per quote in our Delta/Parquet table against CSV and JSON lines of the same rows
 * (written in the `cryptoviz query --format csv|json` row format: ISO-8601 times), with DuckDB's
 * own Parquet of the same rows as a reference.
 *
 * Two layouts of ours are shown because they differ: one file per asset and day (what
 * `cryptoviz generate` writes) and the live micro-batch files of `cryptoviz start`, which hold
 * fewer rows each and compress less.
 */
import { createWriteStream, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import { generateHistory } from '../src/cli/generate.ts'
import { formatRow, writeRows } from '../src/cli/output.ts'
import { loadConfig } from '../src/config/config.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../src/model/quote-table.ts'
import { DuckDb, sqlString } from '../src/query/duckdb.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import {
  BENCH_SEED,
  BENCH_START,
  describeShape,
  loadIntoDuckDb,
  simulatedQuotes,
  writeLines,
} from './dataset.ts'
import { folderBytes } from './ingest.ts'
import { ratio, type BenchContext, type Cell, type SectionResult } from './report.ts'

const DAY = 86_400_000_000

export async function storageSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  const assets = 100
  const days = ctx.quick ? 1 : 7
  const shape = { assets, ticks: days * 1_440, intervalSeconds: 60 }
  const n = assets * shape.ticks
  const root = join(ctx.tmp, 'storage')
  await mkdir(root, { recursive: true })
  const flushMaxRows = loadConfig({}).processor.flushMaxRows
  ctx.log(`storage: ${describeShape(shape)} (${n.toLocaleString('en-US')} quotes)`)

  const sizes: { format: string; bytes: number }[] = []
  const quotes = simulatedQuotes(shape)

  for (const compression of ['snappy', 'zstd'] as const) {
    const dir = join(root, `daily-${compression}`)
    const warehouse = await openWarehouse(new LocalStore(dir))
    const r = await generateHistory(warehouse.quotes, {
      assets,
      days,
      intervalSeconds: 60,
      seed: BENCH_SEED,
      end: BENCH_START + days * DAY,
      compression,
    })
    if (r.rows !== n) throw new Error(`generate wrote ${r.rows} rows, expected ${n}`)
    sizes.push({
      format: `CryptoViz Parquet, ${compression}, one file per asset-day (data files)`,
      bytes: r.bytes,
    })
    if (compression === 'snappy') {
      sizes.push({
        format: 'CryptoViz table, snappy, one file per asset-day (data + _delta_log)',
        bytes: folderBytes(join(dir, 'quotes')),
      })
    }
  }

  const live = await openWarehouse(new LocalStore(join(root, 'live')))
  let liveBytes = 0
  for (let i = 0, v = 0; i < quotes.length; i += flushMaxRows, v++) {
    const r = await live.quotes.append(quotes.slice(i, i + flushMaxRows).map(quoteToRow), {
      txn: { appId: 'bench-storage', version: v },
      sortBy: QUOTES_SORT_BY,
    })
    if (r.status === 'committed') liveBytes += r.bytes
  }
  sizes.push({
    format: `CryptoViz Parquet, snappy, live micro-batches of ${flushMaxRows.toLocaleString('en-US')} (data files)`,
    bytes: liveBytes,
  })

  const duckdb = await DuckDb.open()
  try {
    const table = await loadIntoDuckDb(duckdb, quotes, join(root, 'load.jsonl'), 'bench_storage')
    const file = join(root, 'duckdb.parquet')
    await duckdb.all(
      `COPY (SELECT * EXCLUDE (year, month, day) FROM ${table} ORDER BY crypto, ts)
         TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`,
    )
    sizes.push({
      format: 'DuckDB Parquet, snappy, one file sorted by crypto, ts',
      bytes: statSync(file).size,
    })
  } finally {
    duckdb.close()
  }

  const csv = join(root, 'quotes.csv')
  const out = createWriteStream(csv)
  await writeRows(out, quotes, 'csv')
  out.end()
  await once(out, 'finish')
  sizes.push({ format: 'CSV (cryptoviz query --format csv rows)', bytes: statSync(csv).size })
  const jsonl = join(root, 'quotes.jsonl')
  await writeLines(
    jsonl,
    (function* () {
      for (const q of quotes) yield `${JSON.stringify(formatRow(q))}\n`
    })(),
  )
  sizes.push({ format: 'JSON lines (cryptoviz query --format json rows)', bytes: statSync(jsonl).size })

  const csvBytes = sizes.find((s) => s.format.startsWith('CSV'))?.bytes ?? null
  const rows: Cell[][] = sizes.map((s) => [
    s.format,
    s.bytes / 1e6,
    s.bytes / n,
    ratio(s.bytes * 100, csvBytes),
  ])
  const ours = sizes[0]?.bytes ?? null
  return {
    section: 'storage',
    title: 'Storage',
    seconds: (performance.now() - started) / 1000,
    tables: [
      {
        title: `Storage: bytes per quote, ${describeShape(shape)} (${n.toLocaleString('en-US')} quotes)`,
        columns: ['format', 'MB', 'bytes/quote', '% of CSV'],
        rows,
        notes: [
          'Same rows in every format. Partition columns (year, month, day, source, crypto) live in the folder names of the ' +
            'CryptoViz files, as Delta prescribes; CSV and JSON carry every column.',
        ],
      },
    ],
    metrics: {
      storage_quotes: n,
      parquet_bytes_per_quote: ours === null ? null : ours / n,
      parquet_live_bytes_per_quote: liveBytes / n,
      csv_bytes_per_quote: csvBytes === null ? null : csvBytes / n,
      parquet_vs_csv: ratio(ours, csvBytes),
      parquet_live_vs_csv: ratio(liveBytes, csvBytes),
    },
  }
}
