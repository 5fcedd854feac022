/**
 * `node bench/query-cold.ts TABLE_DIR CRYPTO DAY_START_US`: one cold one-day read in this fresh
 * process (DuckDB start and table open side by side, then the first read; the clock starts after
 * the imports, as the Python peers' does), printed as `{"ms": …, "rows": …}`. Used by
 * bench/query-peers.ts and bench/query-cold-peers.ts.
 */
import { DeltaTable } from '../src/lake/index.ts'
import { DuckDb, QueryEngine } from '../src/query/index.ts'
import { LocalStore } from '../src/storage/local-store.ts'

const DAY = 86_400_000_000
const [tableDir, crypto, dayText] = process.argv.slice(2)
if (tableDir === undefined || crypto === undefined || dayText === undefined) {
  process.stderr.write('Usage: node bench/query-cold.ts TABLE_DIR CRYPTO DAY_START_US\n')
  process.exit(2)
}
const day = Number(dayText)
const started = performance.now()
// DuckDB starts (mostly on its own threads) while the table's log is read, as a server's startup would.
const [duckdb, table] = await Promise.all([
  DuckDb.open({ poolSize: 2 }),
  DeltaTable.open(new LocalStore(tableDir), { statsPacking: 'background' }),
])
const engine = new QueryEngine({ table, duckdb })
const r = await engine.readRange({ crypto, start: day, end: day + DAY - 1 })
const ms = performance.now() - started
process.stdout.write(JSON.stringify({ ms, rows: r.rows.length }))
engine.close()
duckdb.close()
