/**
 * The backfill sink over the quotes table: each window's quotes and its `txn(appId, version)` go
 * in one commit, so a rerun (or a resume after a crash) skips every window already recorded.
 */
import type { DeltaTable } from '../lake/index.ts'
import { QUOTES_SORT_BY, quoteToRow } from '../model/quote-table.ts'
import type { Quote } from '../model/quote.ts'
import type { BackfillSink } from '../sources/backfill.ts'

export function quotesTableSink(table: DeltaTable, compression: 'snappy' | 'zstd'): BackfillSink {
  return {
    async append(quotes: Quote[], txn) {
      const r = await table.append(quotes.map(quoteToRow), {
        txn,
        sortBy: QUOTES_SORT_BY,
        compression,
        operation: 'BACKFILL',
      })
      return r.status === 'committed' ? 'committed' : 'skipped'
    },
    async txnVersion(appId) {
      return (await table.snapshot()).txnVersion(appId)
    },
  }
}
