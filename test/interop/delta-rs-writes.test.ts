/**
 * delta-rs writes tables (appends, an overwrite that removes files, a schema-evolving append,
 * with and without its own checkpoint); we read every version and must see what delta-rs sees.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { LocalStore } from '../../src/storage/local-store.ts'
import { assertSameView, ourHistory, readWithOurs } from '../harness/compare-tables.ts'
import { readWithDeltaRs } from '../harness/delta-rs.ts'
import { runPython } from '../harness/python.ts'

/** Writes two tables under ARGS.root: `plain` (JSON log only) and `checkpointed`. */
const WRITE_SCRIPT = String.raw`
import datetime, decimal, os
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

UTC = datetime.timezone.utc
schema = pa.schema([
    ('id', pa.int64()), ('crypto', pa.string()), ('price', pa.float64()), ('rank', pa.int32()),
    ('ts', pa.timestamp('us', tz='UTC')), ('day', pa.date32()), ('ok', pa.bool_()),
    ('amount', pa.decimal128(12, 3)), ('source', pa.string()),
])

def batch(start, n, source):
    ids = list(range(start, start + n))
    return pa.table({
        'id': pa.array(ids, pa.int64()),
        'crypto': [['bitcoin', 'ether', 'sol/ana', None][i % 4] for i in ids],
        'price': [None if i % 5 == 0 else i * 1.25 for i in ids],
        'rank': pa.array([i % 7 for i in ids], pa.int32()),
        'ts': pa.array([datetime.datetime(2024, 1, 1, tzinfo=UTC) + datetime.timedelta(microseconds=i * 3_600_000_123) for i in ids], pa.timestamp('us', tz='UTC')),
        'day': pa.array([datetime.date(2024, 1, 1 + i % 3) for i in ids], pa.date32()),
        'ok': [i % 2 == 0 for i in ids],
        'amount': pa.array([decimal.Decimal(i) / 1000 for i in ids], pa.decimal128(12, 3)),
        'source': pa.array([source if i % 6 else None for i in ids], pa.string()),
    }, schema=schema)

out = {}
for name, checkpoint in (('plain', False), ('checkpointed', True)):
    path = os.path.join(ARGS['root'], name)
    write_deltalake(path, batch(0, 12, 'coingecko'), partition_by=['source', 'day'])
    write_deltalake(path, batch(12, 9, 'coincap'), mode='append', partition_by=['source', 'day'])
    # overwrite removes every earlier file
    write_deltalake(path, batch(100, 7, 'coingecko'), mode='overwrite', partition_by=['source', 'day'])
    if checkpoint:
        DeltaTable(path).create_checkpoint()
    # a later append adds a nullable column: older files lack it
    evolved = batch(200, 5, 'binance').append_column('note', pa.array(['n%d' % i for i in range(5)], pa.string()))
    write_deltalake(path, evolved, mode='append', partition_by=['source', 'day'], schema_mode='merge')
    out[name] = sorted(os.listdir(os.path.join(path, '_delta_log')))
emit(out)
`

test('we read what delta-rs wrote, at every version, with and without its checkpoint', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cryptoviz-delta-rs-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const logs = await runPython<Record<string, string[]>>(WRITE_SCRIPT, { root })
  assert.ok(
    logs.checkpointed?.includes('00000000000000000002.checkpoint.parquet'),
    JSON.stringify(logs.checkpointed),
  )
  assert.ok(!logs.plain?.some((n) => n.includes('checkpoint.parquet')))

  for (const name of ['plain', 'checkpointed']) {
    const dir = join(root, name)
    const store = new LocalStore(dir)
    const theirs = await readWithDeltaRs(dir)
    assert.deepEqual(theirs.history, [0, 1, 2, 3])
    assert.deepEqual(await ourHistory(store), theirs.history, `${name}: history`)
    for (const v of theirs.versions) {
      assert.ok(v.ok && v.rows !== null, `${name}@${v.version}: delta-rs reads it`)
      assertSameView(await readWithOurs(store, v.version), v, `${name}@${v.version}`)
    }
    const counts = theirs.versions.map((v) => (v.ok ? v.rows?.length : -1))
    assert.deepEqual(counts, [12, 21, 7, 12], `${name}: rows per version`)
  }
})

test('with the older JSON commits gone, delta-rs checkpoint alone carries the state we read', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cryptoviz-delta-rs-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  await runPython(WRITE_SCRIPT, { root })
  const dir = join(root, 'checkpointed')
  const store = new LocalStore(dir)
  for (const v of [0, 1]) await store.delete(`_delta_log/${String(v).padStart(20, '0')}.json`)
  const theirs = await readWithDeltaRs(dir, [2, 3])
  for (const v of theirs.versions)
    assertSameView(await readWithOurs(store, v.version), v, `checkpointed@${v.version}`)
  const gone = await readWithOurs(store, 1)
  assert.ok(!gone.ok && gone.code === 'DELTA_VERSION_NOT_FOUND', JSON.stringify(gone).slice(0, 300))
})
