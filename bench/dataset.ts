/**
 * The rows every benchmark measures: quotes of the deterministic market simulator, in the order the
 * collector emits them (tick by tick, every asset per tick), and the same rows handed to the
 * baselines (DuckDB, CSV, JSON lines) so each comparison is over identical data.
 *
 * Same options → the same quotes, byte for byte, in every run and every section.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Quote } from '../src/model/quote.ts'
import { QUOTE_COLUMNS, QUOTE_FIELDS, type QuoteField } from '../src/model/quote.ts'
import type { ColumnType } from '../src/model/table-schema.ts'
import { MarketSimulator } from '../src/sources/simulated.ts'
import type { DuckDb } from '../src/query/duckdb.ts'
import { sqlString } from '../src/query/duckdb.ts'

/** 2024-01-01T00:00:00Z in microseconds: a fixed start keeps partitions and sizes reproducible. */
export const BENCH_START = Date.UTC(2024, 0, 1) * 1000
export const BENCH_SEED = 42

export interface DatasetShape {
  assets: number
  ticks: number
  intervalSeconds: number
}

export const quoteCount = (d: DatasetShape): number => d.assets * d.ticks

export const describeShape = (d: DatasetShape): string =>
  `${d.assets} assets × ${d.ticks.toLocaleString('en-US')} ticks at ${d.intervalSeconds} s`

/**
 * Simulator ticks of a dataset, one array per tick. The simulator's construction (a week of hourly
 * pre-history per asset) happens here, outside whatever the caller times.
 */
export function simulatedTicks(d: DatasetShape, start = BENCH_START): Iterable<Quote[]> {
  const simulator = new MarketSimulator({ assets: d.assets, seed: BENCH_SEED, startTs: start })
  const step = d.intervalSeconds * 1_000_000
  return (function* () {
    for (let i = 0; i < d.ticks; i++) yield simulator.tick(start + i * step)
  })()
}

export function simulatedQuotes(d: DatasetShape, start = BENCH_START): Quote[] {
  const out: Quote[] = []
  for (const tick of simulatedTicks(d, start)) for (const q of tick) out.push(q)
  return out
}

/** Writes `lines` to a file through a stream, honouring back-pressure. */
export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path)
  for (const line of lines) if (!out.write(line)) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

/** DuckDB column types of the quote's stored types (timestamps as TIMESTAMP, like the lake's schema). */
const DUCKDB_TYPE_OF: Record<ColumnType, string> = {
  timestamp: 'TIMESTAMP',
  string: 'VARCHAR',
  double: 'DOUBLE',
  integer: 'INTEGER',
}
const DUCKDB_TYPES = Object.fromEntries(
  QUOTE_FIELDS.map((f) => [f, DUCKDB_TYPE_OF[QUOTE_COLUMNS[f].type]]),
) as Record<QuoteField, string>

/**
 * Loads quotes into a DuckDB table `name` (the quote columns plus year/month/day partition
 * columns), via a JSON-lines file of raw values in `scratch`. Returns the table name.
 */
export async function loadIntoDuckDb(
  duckdb: DuckDb,
  quotes: readonly Quote[],
  scratchFile: string,
  name: string,
): Promise<string> {
  await writeLines(
    scratchFile,
    (function* () {
      for (const q of quotes) yield `${JSON.stringify(q)}\n`
    })(),
  )
  const raw = QUOTE_FIELDS.map(
    (f) => `${f}: '${DUCKDB_TYPES[f] === 'TIMESTAMP' ? 'BIGINT' : DUCKDB_TYPES[f]}'`,
  ).join(', ')
  const select = QUOTE_FIELDS.map((f) =>
    DUCKDB_TYPES[f] === 'TIMESTAMP' ? `make_timestamp(${f}) AS ${f}` : f,
  )
  await duckdb.all(
    `CREATE OR REPLACE TABLE ${name} AS
       SELECT ${select.join(', ')},
              strftime(make_timestamp(ts), '%Y') AS year,
              strftime(make_timestamp(ts), '%m') AS month,
              strftime(make_timestamp(ts), '%d') AS day
       FROM read_json(${sqlString(scratchFile)}, format = 'newline_delimited', columns = {${raw}})`,
  )
  return name
}
