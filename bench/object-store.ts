/**
 * Object storage: the same work on a local folder and on S3 (moto on 127.0.0.1, started here, as
 * in the tests) in one run — micro-batch ingest rate, and a one-day read of one asset with the
 * read cache cold (emptied before every sample) and warm — plus the S3 requests each read makes,
 * counted by a wrapper store, to show that no read path lists a data prefix.
 *
 * moto is a Python server on loopback, so absolute S3 figures are moto's (about 200 small PUTs/s
 * on this machine class), not AWS's; the request counts hold for any S3.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { generateHistory } from '../src/cli/generate.ts'
import { MEMORY_DEAD_LETTERS_TOPIC, MEMORY_QUOTES_TOPIC, MemoryBus } from '../src/bus/memory-bus.ts'
import { loadConfig } from '../src/config/config.ts'
import { DuckDb } from '../src/query/duckdb.ts'
import { QueryEngine } from '../src/query/engine.ts'
import { openWarehouse, openWarehouseForReading } from '../src/runtime/warehouse.ts'
import { CountingStore } from '../src/storage/counting-store.ts'
import { LocalStore } from '../src/storage/local-store.ts'
import type { ObjectStore } from '../src/storage/object-store.ts'
import { ReadCache } from '../src/storage/read-cache.ts'
import { MicroBatchProcessor } from '../src/stream/processor.ts'
import { freshBucket, startMoto } from '../test/harness/moto-server.ts'
import { describeShape, simulatedTicks, quoteCount, type DatasetShape } from './dataset.ts'
import { ratio, summarize, type BenchContext, type SectionResult } from './report.ts'

const DAY = 86_400_000_000

export async function objectStoreSection(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now()
  ctx.log('objectstore: starting moto')
  const moto = await startMoto()
  const duckdb = await DuckDb.open()
  try {
    const s3 = async (prefix: string): Promise<ObjectStore> =>
      (await freshBucket({ endpoint: moto.endpoint, prefix })).store

    // --- ingest ---
    const shape: DatasetShape = ctx.quick
      ? { assets: 100, ticks: 300, intervalSeconds: 1 }
      : { assets: 100, ticks: 2_000, intervalSeconds: 1 }
    const total = quoteCount(shape)
    const settings = loadConfig({}).processor
    // The embedded pipeline: the in-process bus feeding the processor, as `cryptoviz start`.
    const ingest = async (store: ObjectStore): Promise<number> => {
      const warehouse = await openWarehouse(store)
      const processor = new MicroBatchProcessor({
        quotes: warehouse.quotes,
        deadLetters: warehouse.deadLetters,
        writerId: 'bench-objectstore',
        topics: { quotes: MEMORY_QUOTES_TOPIC, deadLetters: MEMORY_DEAD_LETTERS_TOPIC },
        replayable: false,
        flushIntervalMs: settings.flushIntervalMs,
        flushMaxRows: settings.flushMaxRows,
        flushMaxBytes: settings.flushMaxBytes,
        flushIdleMs: settings.flushIdleMs,
        maxBufferRows: settings.maxBufferRows,
        maxBufferBytes: settings.maxBufferBytes,
        compression: 'snappy',
        logger: pino({ level: 'silent' }),
      })
      await processor.start()
      const bus = new MemoryBus()
      processor.attach(await bus.consume('bench-objectstore', processor))
      const t0 = performance.now()
      for (const tick of simulatedTicks(shape)) {
        await bus.publishQuotes(tick)
        await new Promise((resolve) => setImmediate(resolve))
      }
      await processor.stop()
      await bus.close()
      const ms = performance.now() - t0
      if (processor.stats().records_written !== total) throw new Error('ingest lost quotes')
      return (total / ms) * 1000
    }
    ctx.log(`objectstore: ingest ${describeShape(shape)} into local and S3`)
    const runs = ctx.quick ? 2 : 3
    const localRates: number[] = []
    const s3Rates: number[] = []
    for (let i = 0; i < runs; i++) {
      const dir = join(ctx.tmp, 'objectstore', `ingest-${i}`)
      await mkdir(dir, { recursive: true })
      localRates.push(await ingest(new LocalStore(dir)))
      await rm(dir, { recursive: true, force: true })
      s3Rates.push(await ingest(await s3(`ingest-${i}`)))
    }
    const localIngest = summarize(localRates).median
    const s3Ingest = summarize(s3Rates).median

    // --- one-day read ---
    const history = {
      assets: 20,
      days: ctx.quick ? 3 : 7,
      intervalSeconds: 60,
      seed: 42,
      end: Date.UTC(2024, 0, 10) * 1000,
      compression: 'snappy' as const,
    }
    ctx.log(`objectstore: generating ${history.assets} assets × ${history.days} days into local and S3`)
    const localDir = join(ctx.tmp, 'objectstore', 'read-local')
    await generateHistory((await openWarehouse(new LocalStore(localDir))).quotes, history)
    const s3Store = new CountingStore(await s3('read'))
    await generateHistory((await openWarehouse(s3Store)).quotes, history)
    const localWarehouse = await openWarehouseForReading(new LocalStore(localDir))
    const localEngine = new QueryEngine({
      table: localWarehouse.quotes,
      duckdb,
    })
    const remoteWarehouse = await openWarehouseForReading(s3Store)
    const q = { crypto: 'bitcoin', start: history.end - DAY, end: history.end }
    const samples = ctx.quick ? 10 : 30
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now()
      await fn()
      return performance.now() - t0
    }
    await localEngine.readRange(q)
    const local: number[] = []
    for (let i = 0; i < samples; i++) local.push(await time(() => localEngine.readRange(q)))

    const cold: number[] = []
    const coldRequests: { gets: number; dataLists: number; lists: number }[] = []
    for (let i = 0; i < samples; i++) {
      const dir = join(ctx.tmp, 'objectstore', `cache-cold-${i}`)
      const engine = new QueryEngine({
        table: remoteWarehouse.quotes,
        duckdb,
        readCache: new ReadCache({ dir, maxBytes: 1 << 30 }),
      })
      s3Store.requests.length = 0
      cold.push(await time(() => engine.readRange(q)))
      const lists = s3Store.requests.filter((r) => r.op === 'list')
      coldRequests.push({
        gets: s3Store.requests.filter((r) => r.op === 'get').length,
        lists: lists.length,
        dataLists: lists.filter((r) => !r.path.endsWith('_delta_log/')).length,
      })
      engine.close()
      await rm(dir, { recursive: true, force: true })
    }
    const warmEngine = new QueryEngine({
      table: remoteWarehouse.quotes,
      duckdb,
      readCache: new ReadCache({ dir: join(ctx.tmp, 'objectstore', 'cache-warm'), maxBytes: 1 << 30 }),
    })
    await warmEngine.readRange(q)
    const warm: number[] = []
    s3Store.requests.length = 0
    for (let i = 0; i < samples; i++) warm.push(await time(() => warmEngine.readRange(q)))
    const warmRequests = s3Store.requests.length
    const warmDataGets = s3Store.requests.filter(
      (r) => r.op === 'get' && !r.path.includes('_delta_log'),
    ).length
    warmEngine.close()
    localEngine.close()

    const l = summarize(local)
    const c = summarize(cold)
    const w = summarize(warm)
    const req = coldRequests[0]!
    const dataLists = coldRequests.reduce((s, r) => s + r.dataLists, 0)
    return {
      section: 'objectstore',
      title: 'Object storage (S3 via moto on loopback) vs local',
      seconds: (performance.now() - started) / 1000,
      tables: [
        {
          title: `Ingest, ${describeShape(shape)}, embedded processor (median of ${runs})`,
          columns: ['store', 'quotes/s', 'vs local'],
          rows: [
            ['local folder', Math.round(localIngest), 1],
            ['S3 (moto)', Math.round(s3Ingest), ratio(s3Ingest, localIngest)],
          ],
          notes: [
            `batches of ${settings.flushMaxRows.toLocaleString('en-US')} quotes (the default), one commit each`,
          ],
        },
        {
          title: `One-day read of one asset (${history.assets} assets × ${history.days} days at ${history.intervalSeconds} s), ${samples} samples`,
          columns: ['case', 'p50 ms', 'p95 ms', 'vs local p50'],
          rows: [
            ['local folder', l.median, l.p95, 1],
            ['S3, read cache cold (emptied before each sample)', c.median, c.p95, ratio(c.median, l.median)],
            ['S3, read cache warm', w.median, w.p95, ratio(w.median, l.median)],
          ],
          notes: [
            `cold read requests: ${req.gets} GETs (the selected data files, by exact key), ${req.lists} LIST of _delta_log/ from the next version (snapshot refresh), ${dataLists} LISTs of data prefixes over all ${samples} cold samples`,
            `warm reads: ${warmRequests} requests in ${samples} reads (snapshot refreshes only), ${warmDataGets} data GETs`,
          ],
        },
      ],
      metrics: {
        s3_ingest_quotes_per_s: s3Ingest,
        local_ingest_quotes_per_s_objectstore: localIngest,
        s3_one_day_read_cold_p50_ms: c.median,
        s3_one_day_read_warm_p50_ms: w.median,
        local_one_day_read_p50_ms_objectstore: l.median,
        s3_read_data_prefix_lists: dataLists,
      },
    }
  } finally {
    duckdb.close()
    await moto.stop()
  }
}
