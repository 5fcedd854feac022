import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dataFilePath, DeltaTable, field, HIVE_DEFAULT_PARTITION, struct } from '../../src/lake/index.ts'
import {
  encodeLogPath,
  hiveEscape,
  hiveUnescape,
  partitionFolder,
  partitionValueString,
} from '../../src/lake/partition-path.ts'
import { readRows } from '../../src/lake/scan.ts'
import { lakeTestStore } from './lake-fixtures.ts'

test('hive escaping follows Spark: / % : = # ? \\ and control characters become %XX', () => {
  assert.equal(hiveEscape('a/b%c:d=e#f?g\\h'), 'a%2Fb%25c%3Ad%3De%23f%3Fg%5Ch')
  assert.equal(hiveEscape('tab\there\nnl'), 'tab%09here%0Anl')
  assert.equal(hiveEscape('spaces stay, unicode too: é ₿ 😀'), 'spaces stay, unicode too%3A é ₿ 😀')
  for (const s of ['a/b', '100%', 'x=y', 'é ₿ 😀', '%2F', '\u0001\u007f', '[]{}^*"\'']) {
    assert.equal(hiveUnescape(hiveEscape(s)), s)
  }
})

test('add.path is the folder URI-encoded once, so % in a folder becomes %25 and decoding once restores it', () => {
  const folder = partitionFolder(['crypto'], { crypto: 'eth/usd 100%' })
  assert.equal(folder, 'crypto=eth%2Fusd 100%25')
  const path = encodeLogPath(`${folder}/part-0.parquet`)
  assert.equal(path, 'crypto=eth%252Fusd%20100%2525/part-0.parquet')
  assert.equal(dataFilePath({ path }), `${folder}/part-0.parquet`)
  assert.equal(encodeLogPath('crypto=é/x.parquet'), 'crypto=%C3%A9/x.parquet')
})

test('partition values are serialised as Delta strings per type, with null and empty string as null', () => {
  assert.equal(partitionValueString('date', 19727), '2024-01-05')
  assert.equal(
    partitionValueString('timestamp', Date.UTC(2024, 0, 5) * 1000 + 7),
    '2024-01-05T00:00:00.000007Z',
  )
  assert.equal(partitionValueString('boolean', true), 'true')
  assert.equal(partitionValueString('long', 42), '42')
  assert.equal(partitionValueString('string', ''), null)
  assert.equal(partitionValueString('string', null), null)
  assert.equal(partitionFolder(['a', 'b'], { a: null, b: 'x' }), `a=${HIVE_DEFAULT_PARTITION}/b=x`)
})

test('awkward partition values round-trip through folders, the log and the reader', async () => {
  const store = await lakeTestStore()
  const schema = struct([field('key', 'string'), field('v', 'long', false)])
  const table = await DeltaTable.create(store, { schema, partitionColumns: ['key'] })
  const keys = ['a/b', '100%', 'with space', 'ünïcödé ₿', 'x=y:z?#', '%2F', null]
  const r = await table.append(keys.map((key, v) => ({ key, v })))
  assert.equal(r.status, 'committed')
  const snap = await (await DeltaTable.open(store)).snapshot()
  assert.equal(snap.files().length, keys.length)
  for (const f of snap.files()) {
    const meta = await store.head(dataFilePath(f))
    assert.ok(meta, `data file for ${f.path} exists at the decoded path`)
    assert.equal(meta.size, f.size)
  }
  const byKey = new Map(snap.files().map((f) => [f.partitionValues.key, f]))
  assert.deepEqual([...byKey.keys()].sort(), [...keys].sort())
  assert.match(byKey.get('a/b')!.path, /^key=a%252Fb\//)
  assert.match(byKey.get(null)!.path, /^key=__HIVE_DEFAULT_PARTITION__\//)
  const rows = await readRows(store, snap)
  assert.deepEqual(
    rows.map((x) => [x.key, x.v]).sort((a, b) => Number(a[1]) - Number(b[1])),
    keys.map((k, v) => [k, v]),
  )
})
