/**
 * Ingest: quotes per second from the source to committed Parquet in the embedded mode, beside
 * DuckDB's own `COPY … TO parquet` of the same rows (the practical upper bound of a Parquet writer
 * on this machine) and a naive JSON-lines writer.
 *
 * Every writer gets identical rows, starts from an empty folder and is timed in the same run,
 * interleaved writer by writer, so background noise hits them all alike. Only the write is timed:
 * opening the warehouse, building the simulator and loading DuckDB's table are not.
 */
import { readdirSync, statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { MEMORY_DEAD_LETTERS_TOPIC, MEMORY_QUOTES_TOPIC, MemoryBus } from '../src/bus/memory-bus.ts'
import { loadConfig } from '../src/config/config.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../src/model/quote-table.ts'
import { DuckDb, sqlString } from '../src/query/duckdb.ts'
import { openWarehouse } from '../src/runtime/warehouse.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import { LiveFeed } from '../src/stream/live-feed.ts'
import { MicroBatchProcessor } from '../src/stream/processor.ts'
import {
  describeShape,
  loadIntoDuckDb,
  quoteCount,
  simulatedQuotes,
  simulatedTicks,
  writeLines,
  type DatasetShape,
} from './dataset.ts'
import { ratio, summarize, type BenchContext, type SectionResult } from './report.ts'

interface Writer {
  name: string
  /** Writes the dataset into the empty folder `dir`; resolves to the milliseconds of the write alone. */
  run(dir: string): Promise<number>
}

/** Total size of the files under `dir`. */
export function folderBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size
  }
  return total
}

export async function ingestSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  // One second between ticks, from midnight: every quote lands in the same day partition, as in a
  // live embedded run.
  const shape: DatasetShape = ctx.quick
    ? { assets: 100, ticks: 1_000, intervalSeconds: 1 }
    : { assets: 100, ticks: 10_000, intervalSeconds: 1 }
  const runs = ctx.quick ? 3 : 7
  const total = quoteCount(shape)
  const config = loadConfig({})
  const { flushMaxRows, flushIntervalMs } = config.processor
  const compression = config.lake.compression
  const silent = pino({ level: 'silent' })

  ctx.log(`ingest: generating ${describeShape(shape)} and loading DuckDB`)
  const quotes = simulatedQuotes(shape)
  const duckdb = await DuckDb.open()
  const root = join(ctx.tmp, 'ingest')
  await mkdir(root, { recursive: true })
  const table = await loadIntoDuckDb(duckdb, quotes, join(root, 'load.jsonl'), 'bench_quotes')

  const writers: Writer[] = [
    {
      name: 'CryptoViz embedded: simulator → bus → MicroBatchProcessor → Delta',
      async run(dir): Promise<number> {
        const warehouse = await openWarehouse(new LocalStore(dir))
        const processor = new MicroBatchProcessor({
          quotes: warehouse.quotes,
          deadLetters: warehouse.deadLetters,
          writerId: 'bench-ingest',
          topics: { quotes: MEMORY_QUOTES_TOPIC, deadLetters: MEMORY_DEAD_LETTERS_TOPIC },
          replayable: false,
          flushIntervalMs,
          flushMaxRows,
          flushMaxBytes: Number.MAX_SAFE_INTEGER,
          flushIdleMs: flushIntervalMs,
          maxBufferRows: 10 * flushMaxRows,
          maxBufferBytes: Number.MAX_SAFE_INTEGER,
          compression,
          logger: silent,
        })
        await processor.start()
        const feed = new LiveFeed()
        const bus = new MemoryBus()
        processor.attach(await bus.consume('bench', processor))
        await bus.subscribeLive((q) => feed.push(q))
        const ticks = simulatedTicks(shape)
        const t0 = performance.now()
        for (const tick of ticks) {
          await bus.publishQuotes(tick)
          // Let the flush started by `accept` make progress between ticks, as the event loop does
          // between collector polls in `cryptoviz start`.
          await new Promise((resolve) => setImmediate(resolve))
        }
        await processor.stop()
        const ms = performance.now() - t0
        const s = processor.stats()
        if (s.records_written !== total) {
          throw new Error(`embedded ingest wrote ${s.records_written} of ${total} quotes`)
        }
        return ms
      },
    },
    {
      name: `CryptoViz DeltaTable.append only (batches of ${flushMaxRows.toLocaleString('en-US')})`,
      async run(dir): Promise<number> {
        const warehouse = await openWarehouse(new LocalStore(dir))
        const t0 = performance.now()
        for (let i = 0, v = 0; i < quotes.length; i += flushMaxRows, v++) {
          await warehouse.quotes.append(quotes.slice(i, i + flushMaxRows).map(quoteToRow), {
            txn: { appId: 'bench-append', version: v },
            sortBy: QUOTES_SORT_BY,
            compression,
          })
        }
        return performance.now() - t0
      },
    },
    {
      name: 'DuckDB COPY → one Parquet file (COPY only)',
      async run(dir): Promise<number> {
        const t0 = performance.now()
        await duckdb.all(
          `COPY ${table} TO ${sqlString(join(dir, 'quotes.parquet'))} (FORMAT parquet, COMPRESSION ${compression})`,
        )
        return performance.now() - t0
      },
    },
    {
      name: 'DuckDB COPY → hive partitions, our layout (COPY only)',
      async run(dir): Promise<number> {
        const t0 = performance.now()
        await duckdb.all(
          `COPY ${table} TO ${sqlString(join(dir, 'quotes'))}
             (FORMAT parquet, COMPRESSION ${compression}, PARTITION_BY (year, month, day, source, crypto))`,
        )
        return performance.now() - t0
      },
    },
    {
      name: 'naive JSON lines (JSON.stringify per row + fs stream)',
      async run(dir): Promise<number> {
        const t0 = performance.now()
        await writeLines(
          join(dir, 'quotes.jsonl'),
          (function* () {
            for (const q of quotes) yield `${JSON.stringify(q)}\n`
          })(),
        )
        return performance.now() - t0
      },
    },
  ]

  const samples = writers.map(() => [] as number[])
  const bytes = writers.map(() => 0)
  try {
    // Run 0 warms up the JIT and the file system cache and is not counted.
    for (let r = 0; r <= runs; r++) {
      for (const [i, w] of writers.entries()) {
        const dir = join(root, `run${r}-w${i}`)
        await mkdir(dir, { recursive: true })
        const timedMs = await w.run(dir)
        if (r > 0) samples[i]?.push(timedMs)
        bytes[i] = folderBytes(dir)
        await rm(dir, { recursive: true })
        ctx.log(`ingest: ${r === 0 ? 'warm-up' : `run ${r}/${runs}`} ${w.name}: ${Math.round(timedMs)} ms`)
      }
    }
  } finally {
    duckdb.close()
  }

  const rates = samples.map((ms) => summarize(ms.map((m) => total / (m / 1000))))
  const times = samples.map((ms) => summarize(ms))
  const copyRate = rates[2]?.median ?? null
  const rows = writers.map((w, i) => [
    w.name,
    total,
    times[i]?.median ?? null,
    times[i]?.p95 ?? null,
    rates[i]?.median ?? null,
    ratio(rates[i]?.median, copyRate),
    (bytes[i] ?? 0) / 1e6,
  ])
  return {
    section: 'ingest',
    title: 'Ingest',
    seconds: (performance.now() - started) / 1000,
    tables: [
      {
        title: `Ingest: quotes/s to Parquet, ${describeShape(shape)} (${runs} runs after a warm-up)`,
        columns: [
          'writer',
          'quotes',
          'median ms',
          'p95 ms',
          'quotes/s (median)',
          'vs DuckDB COPY',
          'MB written',
        ],
        rows,
        notes: [
          `CryptoViz rows are the real commit path: ${compression}, sorted by ${QUOTES_SORT_BY.join(', ')}, ` +
            `micro-batches of ${flushMaxRows.toLocaleString('en-US')} quotes (the --flush-max-rows default), ` +
            'one Delta commit per batch, one file per asset and day per batch.',
          'The embedded row includes generating the quotes with the simulator (the source); the others get them pre-generated.',
          'DuckDB rows time only the COPY statement: the same rows were loaded into a DuckDB table beforehand. ' +
            'DuckDB uses every core (2 here); CryptoViz writes on one thread.',
          '"vs DuckDB COPY" is quotes/s divided by the one-file COPY rate measured in the same run.',
        ],
      },
    ],
    metrics: {
      ingest_quotes: total,
      ingest_quotes_per_s: rates[0]?.median ?? null,
      append_quotes_per_s: rates[1]?.median ?? null,
      duckdb_copy_quotes_per_s: copyRate,
      duckdb_copy_partitioned_quotes_per_s: rates[3]?.median ?? null,
      jsonl_quotes_per_s: rates[4]?.median ?? null,
      ingest_vs_copy: ratio(rates[0]?.median, copyRate),
    },
  }
}
