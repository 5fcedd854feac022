/**
 * `cryptoviz gaps`: per (source, crypto), the intervals with no quotes longer than `factor` ×
 * the polling interval, read from the lake (only the `ts` column of the pruned files).
 */
import type { Config } from '../config/config.ts'
import { dataFilePath } from '../lake/index.ts'
import { isoFromMicros } from '../micros.ts'
import { DuckDb, sqlString } from '../query/duckdb.ts'
import { findGaps, type Gap, type TimestampSeries } from '../sources/index.ts'
import { openWarehouseStore } from '../runtime/store.ts'
import { openWarehouseForReading } from '../runtime/warehouse.ts'

export interface GapsCommand {
  cryptos?: string[]
  sources?: string[]
  intervalMs: number
  factor: number
  /** Microseconds. */
  start?: number
  end?: number
}

export async function runGaps(config: Readonly<Config>, o: GapsCommand): Promise<Gap[]> {
  const warehouse = await openWarehouseForReading(await openWarehouseStore(config, { write: false }))
  const snapshot = await warehouse.quotes.snapshot()
  const files = snapshot.filesFor({
    partitions: {
      ...(o.cryptos && { crypto: o.cryptos }),
      ...(o.sources && { source: o.sources }),
    },
    ranges: {
      ts: { ...(o.start !== undefined && { min: o.start }), ...(o.end !== undefined && { max: o.end }) },
    },
  })
  const bySeries = new Map<string, { source: string; crypto: string; paths: string[] }>()
  for (const f of files) {
    const source = f.partitionValues['source'] ?? ''
    const crypto = f.partitionValues['crypto'] ?? ''
    const key = `${source}\u0000${crypto}`
    const entry = bySeries.get(key) ?? { source, crypto, paths: [] }
    entry.paths.push(warehouse.quotesStore.localPath(dataFilePath(f)) ?? dataFilePath(f))
    bySeries.set(key, entry)
  }
  const duckdb = await DuckDb.open()
  try {
    const series: TimestampSeries[] = []
    for (const s of bySeries.values()) {
      const rows = await duckdb.all(
        `SELECT epoch_us(ts) AS ts FROM read_parquet([${s.paths.map(sqlString).join(', ')}]) ORDER BY ts`,
      )
      const ts = rows
        .map((r) => Number(r['ts']))
        .filter((t) => (o.start === undefined || t >= o.start) && (o.end === undefined || t <= o.end))
      series.push({ source: s.source, crypto: s.crypto, ts })
    }
    return findGaps(series, {
      intervalMs: o.intervalMs,
      factor: o.factor,
      ...(o.start !== undefined && o.end !== undefined && { window: { from: o.start, to: o.end } }),
    })
  } finally {
    duckdb.close()
  }
}

export const formatGap = (g: Gap): string =>
  `${g.source}/${g.crypto}: ${isoFromMicros(g.from)} → ${isoFromMicros(g.to)} (${Math.round(g.durationMs / 1000)} s, ~${g.missedPolls} missed polls)`
