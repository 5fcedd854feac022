/**
 * A warehouse is a folder (or bucket prefix) of Delta tables: `quotes/` and `dead_letters/`.
 * Opening one creates the tables on first use; racing creators agree on one version 0.
 */
import { DeltaTable } from '../lake/index.ts'
import {
  DEAD_LETTERS_PARTITION_COLUMNS,
  DEAD_LETTERS_SCHEMA,
  DEAD_LETTERS_TABLE,
} from '../model/dead-letter-table.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA, QUOTES_TABLE } from '../model/quote-table.ts'
import type { ObjectStore } from '../storage/object-store.ts'

export interface Warehouse {
  store: ObjectStore
  quotesStore: ObjectStore
  quotes: DeltaTable
  deadLetters: DeltaTable
}

export async function openWarehouse(store: ObjectStore): Promise<Warehouse> {
  const quotesStore = store.child(QUOTES_TABLE)
  const quotes = await DeltaTable.openOrCreate(quotesStore, {
    schema: QUOTES_SCHEMA,
    partitionColumns: QUOTES_PARTITION_COLUMNS,
    name: QUOTES_TABLE,
    description: 'Cryptocurrency market quotes, one row per (source, crypto, ts).',
    configuration: { 'delta.checkpointInterval': '10', 'delta.appendOnly': 'false' },
  })
  const deadLetters = await DeltaTable.openOrCreate(store.child(DEAD_LETTERS_TABLE), {
    schema: DEAD_LETTERS_SCHEMA,
    partitionColumns: DEAD_LETTERS_PARTITION_COLUMNS,
    name: DEAD_LETTERS_TABLE,
    description: 'Provider items that failed validation, with the raw payload and the reason.',
  })
  return { store, quotesStore, quotes, deadLetters }
}
