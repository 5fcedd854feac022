/**
 * What delta-rs (the `deltalake` Python package) sees in a Delta table, in one Python process per
 * call: version history and, per requested version, schema field names, partition columns, the
 * live files with their typed partition values, and every row. `readWithDuckDb` asks a third
 * engine, DuckDB's `delta` extension, for the latest rows.
 *
 * Values are brought to one canonical JSON form on both sides (`canonicalRows`) so rows written
 * or read by either engine compare with `deepEqual`: timestamps as integer microseconds, dates as
 * `YYYY-MM-DD`, decimals as numbers, binary as `hex:…`, maps as objects, non-finite floats and
 * integers beyond ±2^53 as strings. Rows are sorted by their canonical JSON text.
 */
import { runPython } from './python.ts'

export type Canonical = null | boolean | number | string | Canonical[] | { [k: string]: Canonical }

export interface DeltaRsFile {
  path: string
  partition: Record<string, Canonical>
}

export type DeltaRsVersion =
  | {
      ok: true
      version: number
      fields: string[]
      partitionColumns: string[]
      files: DeltaRsFile[]
      /** null when a data file could not be read (e.g. a log-only fixture); see `rowsError`. */
      rows: Canonical[] | null
      rowsError?: string
    }
  | { ok: false; version: number; error: string }

export interface DeltaRsTable {
  latest: number
  history: number[]
  versions: DeltaRsVersion[]
}

/** Python: `canon(value)` brings one pyarrow Python value to the canonical form. */
export const PYTHON_CANON = String.raw`
import datetime, decimal

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

def canon(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float):
        if v != v: return 'nan'
        if v in (float('inf'), float('-inf')): return 'inf' if v > 0 else '-inf'
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, (bytes, bytearray)):
        return 'hex:' + bytes(v).hex()
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    if isinstance(v, list):
        # pyarrow renders a map as a list of (key, value) tuples
        if len(v) > 0 and all(isinstance(e, tuple) and len(e) == 2 for e in v):
            return {str(k): canon(x) for k, x in v}
        return [canon(e) for e in v]
    return str(v)
`

const READ_SCRIPT = String.raw`
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import DeltaTable

STORAGE = ARGS.get('storage_options') or None

def read_version(path, version):
    dt = DeltaTable(path, version=version, storage_options=STORAGE)
    fields = [f.name for f in dt.schema().fields]
    adds = pa.table(dt.get_add_actions(flatten=False)).to_pylist()
    files = [{'path': a['path'], 'partition': canon(a.get('partition') or {})} for a in adds]
    result = {'ok': True, 'version': dt.version(), 'fields': fields,
              'partitionColumns': list(dt.metadata().partition_columns), 'files': files}
    try:
        # INT96 timestamps (Spark's legacy encoding) must be coerced to micros or year 9999 overflows.
        dataset = dt.to_pyarrow_dataset(parquet_read_options=ds.ParquetReadOptions(coerce_int96_timestamp_unit='us'))
        result['rows'] = [{f: canon(r.get(f)) for f in fields} for r in dataset.to_table().to_pylist()]
    except Exception as e:
        result['rows'] = None
        result['rowsError'] = type(e).__name__ + ': ' + str(e)[:300]
    return result

path = ARGS['path']
dt = DeltaTable(path, storage_options=STORAGE)
history = sorted(h['version'] for h in dt.history())
wanted = ARGS['versions'] if ARGS['versions'] is not None else history
out = []
for v in wanted:
    try:
        out.append(read_version(path, v))
    except Exception as e:
        out.append({'ok': False, 'version': v, 'error': type(e).__name__ + ': ' + str(e)[:500]})
emit({'latest': dt.version(), 'history': history, 'versions': out})
`

/**
 * Reads the table at `path` (a folder, or `s3://…` with `storageOptions` such as
 * `AWS_ENDPOINT_URL`) with delta-rs at each of `versions` (default: every version its history
 * lists). A version delta-rs cannot read is reported with its error, not thrown.
 */
export function readWithDeltaRs(
  path: string,
  versions?: number[],
  storageOptions?: Record<string, string>,
): Promise<DeltaRsTable> {
  return runPython<DeltaRsTable>(`${PYTHON_CANON}\n${READ_SCRIPT}`, {
    path,
    versions: versions ?? null,
    storage_options: storageOptions ?? null,
  })
}

const DUCKDB_SCRIPT = String.raw`
import os
import duckdb, duckdb_extension_delta
ext = os.path.join(os.path.dirname(duckdb_extension_delta.__file__), 'extensions', 'v' + duckdb.__version__, 'delta.duckdb_extension')
# No progress bar: on a loaded machine a query passing 2 s would print one into the JSON stdout.
con = duckdb.connect(config={'allow_unsigned_extensions': False, 'autoinstall_known_extensions': False})
con.execute('SET enable_progress_bar = false')
con.execute("LOAD '%s'" % ext.replace("'", "''"))
table = con.execute('SELECT * FROM delta_scan(?)', [ARGS['path']]).fetch_arrow_table()
emit([{f: canon(r.get(f)) for f in ARGS['fields']} for r in table.to_pylist()])
`

/**
 * The latest rows of the table at `path` as DuckDB's `delta` extension (delta-kernel-rs) reads
 * them, canonical and keyed by `fields` in that order.
 */
export function readWithDuckDb(path: string, fields: readonly string[]): Promise<Canonical[]> {
  return runPython<Canonical[]>(`${PYTHON_CANON}\n${DUCKDB_SCRIPT}`, { path, fields })
}

/** One value in the canonical form delta-rs values are emitted in (see module doc). */
export function canonicalValue(v: unknown): Canonical {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v)
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan'
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
    // Our reader returns an exactly representable integer beyond ±2^53 as a number; Python
    // emits such ints as strings (see runPython).
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return BigInt(v).toString()
    return v
  }
  if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`
  if (v instanceof Date) return v.getTime() * 1000
  if (Array.isArray(v)) return v.map(canonicalValue)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), canonicalValue(x)]))
  if (typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, canonicalValue(x)]),
    )
  }
  return String(v)
}

/** Rows in canonical form with the given column order, sorted by their JSON text. */
export function canonicalRows(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
): Canonical[] {
  const out = rows.map((r) => {
    const c: Record<string, Canonical> = {}
    for (const col of columns) c[col] = canonicalValue(r[col])
    return c
  })
  return sortCanonical(out)
}

/** Sorts canonical rows (e.g. delta-rs's, after JSON parsing) by their JSON text. */
export function sortCanonical(rows: readonly Canonical[]): Canonical[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r)
}
