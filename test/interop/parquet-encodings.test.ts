/**
 * Data files as other engines encode them: pyarrow writes the same rows with each codec Spark,
 * delta-rs and DuckDB use (snappy, zstd, gzip, lz4, brotli, none), with data page v1 and v2,
 * and with timestamps as INT96, millis, micros and nanos; `readRows` must return pyarrow's values
 * from every one.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { AddFile } from '../../src/lake/actions.ts'
import { field, struct } from '../../src/lake/schema.ts'
import { readRows } from '../../src/lake/scan.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { canonicalRows, PYTHON_CANON, sortCanonical, type Canonical } from '../harness/delta-rs.ts'
import { runPython } from '../harness/python.ts'

const WRITE_SCRIPT = String.raw`
import datetime, decimal, os
import pyarrow as pa
import pyarrow.parquet as pq

UTC = datetime.timezone.utc
n = 300
base = datetime.datetime(2024, 3, 1, tzinfo=UTC)
rows = {
    'id': pa.array(range(n), pa.int64()),
    'name': pa.array([None if i % 11 == 0 else 'coin-%d' % (i % 17) for i in range(n)], pa.string()),
    'price': pa.array([i * 0.1 for i in range(n)], pa.float64()),
    'small': pa.array([i % 100 for i in range(n)], pa.int32()),
    'ratio': pa.array([i / 8 for i in range(n)], pa.float32()),
    'ok': pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
    'day': pa.array([datetime.date(2024, 3, 1) + datetime.timedelta(days=i % 40) for i in range(n)], pa.date32()),
    'amount': pa.array([decimal.Decimal(i * 7) / 100 for i in range(n)], pa.decimal128(10, 2)),
    'raw': pa.array([bytes([i % 256, 1, 2]) for i in range(n)], pa.binary()),
}
out = []
def write(name, table, **kw):
    path = os.path.join(ARGS['root'], name)
    pq.write_table(table, path, **kw)
    out.append(name)

for codec in ['snappy', 'zstd', 'gzip', 'lz4', 'brotli', 'none']:
    for page in ['1.0', '2.0']:
        ts = pa.array([base + datetime.timedelta(microseconds=i * 1_000_001) for i in range(n)], pa.timestamp('us', tz='UTC'))
        t = pa.table({**rows, 'ts': ts})
        write('%s-v%s.parquet' % (codec, page), t, compression=codec, data_page_version=page, row_group_size=128)

# Timestamp encodings: every value a whole millisecond so all units hold it exactly.
ms_values = [base + datetime.timedelta(milliseconds=i * 1001) for i in range(n)]
for unit in ['ms', 'us', 'ns']:
    t = pa.table({**rows, 'ts': pa.array(ms_values, pa.timestamp(unit, tz='UTC'))})
    write('ts-%s.parquet' % unit, t, coerce_timestamps=None if unit == 'ns' else unit, version='2.6')
t = pa.table({**rows, 'ts': pa.array(ms_values, pa.timestamp('us', tz='UTC'))})
write('ts-int96.parquet', t, use_deprecated_int96_timestamps=True)

expected = {}
for name in out:
    table = pq.read_table(os.path.join(ARGS['root'], name))
    table = table.set_column(table.schema.get_field_index('ts'), 'ts', table.column('ts').cast(pa.timestamp('us', tz='UTC')))
    expected[name] = [{f: canon(r[f]) for f in table.column_names} for r in table.to_pylist()]
emit(expected)
`

test('readRows returns the values pyarrow wrote with every codec, page version and timestamp unit', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cryptoviz-encodings-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const expected = await runPython<Record<string, Canonical[]>>(`${PYTHON_CANON}\n${WRITE_SCRIPT}`, { root })
  assert.equal(Object.keys(expected).length, 16)
  const schema = struct([
    field('id', 'long'),
    field('name', 'string'),
    field('price', 'double'),
    field('small', 'integer'),
    field('ratio', 'float'),
    field('ok', 'boolean'),
    field('day', 'date'),
    field('amount', 'decimal(10,2)'),
    field('raw', 'binary'),
    field('ts', 'timestamp'),
  ])
  const names = schema.fields.map((f) => f.name)
  const store = new LocalStore(root)
  for (const [name, want] of Object.entries(expected)) {
    const add: AddFile = {
      path: name,
      partitionValues: {},
      size: (await stat(join(root, name))).size,
      modificationTime: 0,
      dataChange: true,
    }
    const rows = await readRows(store, { schema, partitionColumns: [], files: () => [add] })
    assert.equal(rows.length, 300, name)
    assert.deepEqual(canonicalRows(rows, names), sortCanonical(want), name)
  }
})
