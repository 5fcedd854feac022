/**
 * `cryptoviz backfill`: CoinGecko history into the quotes table through the same lake writer,
 * idempotent and resumable (each window is one commit with its txn version), with progress.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/config.ts'
import { backfill, CoinGeckoClient } from '../sources/index.ts'
import { openWarehouseStore } from '../runtime/store.ts'
import { quotesTableSink } from '../runtime/lake-sink.ts'
import { openWarehouse } from '../runtime/warehouse.ts'
import { progress } from './progress.ts'

export interface BackfillCommand {
  cryptos: string[]
  days: number
  /** Milliseconds; default now. */
  end?: number
}

export async function runBackfill(
  config: Readonly<Config>,
  o: BackfillCommand,
  logger: Logger,
): Promise<boolean> {
  const warehouse = await openWarehouse(await openWarehouseStore(config, { write: true }))
  const client = new CoinGeckoClient({ ...config.sources.coingecko })
  const to = o.end ?? Date.now()
  let bar: ReturnType<typeof progress> | undefined
  const controller = new AbortController()
  const onSignal = (): void => controller.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const reports = await backfill({
      client,
      sink: quotesTableSink(warehouse.quotes, config.lake.compression),
      cryptos: o.cryptos,
      from: to - o.days * 86_400_000,
      to,
      signal: controller.signal,
      onProgress: ({ done, total, crypto }) => {
        bar ??= progress('backfill', total)
        bar.update(done, crypto)
      },
      onDeadLetters: async (deadLetters) => {
        const { deadLetterToRow } = await import('../model/dead-letter-table.ts')
        await warehouse.deadLetters.append(deadLetters.map(deadLetterToRow), {
          compression: config.lake.compression,
        })
      },
    })
    bar?.stop()
    for (const r of reports) logger.info(r, r.error === null ? 'backfilled' : 'backfill stopped early')
    process.stdout.write(`${JSON.stringify(reports)}\n`)
    return reports.every((r) => r.error === null)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
