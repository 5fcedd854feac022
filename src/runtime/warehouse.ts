/**
 * A warehouse is a folder (or bucket prefix) of Delta tables: `quotes/` and `dead_letters/`.
 * Writers create the tables on first use (racing creators agree on one version 0); readers
 * (`openWarehouseForReading`) never create anything and say clearly when there is no table.
 */
import { CryptoVizError, isCryptoVizError } from '../errors.ts'
import { DeltaTable, type TableOptions } from '../lake/index.ts'
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

export interface ReadableWarehouse {
  store: ObjectStore
  quotesStore: ObjectStore
  quotes: DeltaTable
  /** Undefined when no dead letter was ever written. */
  deadLetters: DeltaTable | undefined
}

/** `quotesOptions`: how the quotes table is opened (a server or a one-shot read: background stats packing). */
export async function openWarehouseForReading(
  store: ObjectStore,
  quotesOptions: TableOptions = {},
): Promise<ReadableWarehouse> {
  const quotesStore = store.child(QUOTES_TABLE)
  let quotes: DeltaTable
  try {
    quotes = await DeltaTable.open(quotesStore, quotesOptions)
  } catch (e) {
    if (!isCryptoVizError(e, 'DELTA_TABLE_NOT_FOUND')) throw e
    throw new CryptoVizError(
      'DELTA_TABLE_NOT_FOUND',
      `no quotes table in ${store.url}: run \`cryptoviz start\`, \`generate\` or \`backfill\` with this --warehouse first`,
      { kind: 'user', cause: e },
    )
  }
  const deadLetters = await DeltaTable.open(store.child(DEAD_LETTERS_TABLE)).catch((e: unknown) => {
    if (isCryptoVizError(e, 'DELTA_TABLE_NOT_FOUND')) return undefined
    throw e
  })
  return { store, quotesStore, quotes, deadLetters }
}
