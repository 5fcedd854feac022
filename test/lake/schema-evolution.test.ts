import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable, field, struct } from '../../src/lake/index.ts'
import { readRows } from '../../src/lake/scan.ts'
import { parseSchemaString } from '../../src/lake/schema-json.ts'
import { commitActions, SMALL_SCHEMA, smallRows, smallTable } from './lake-fixtures.ts'

test('mergeSchema appends new nullable columns inferred from the rows; old rows read them as null', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(2, { crypto: 'a' }))
  const rows = smallRows(2, { crypto: 'b', start: 5 }).map((r, i) => ({
    ...r,
    volume: i + 0.5,
    source: 'sim',
    ok: true,
  }))
  const r = await table.append(rows, { mergeSchema: true })
  assert.equal(r.status, 'committed')
  const snap = await table.snapshot()
  assert.deepEqual(
    snap.schema.fields.map((f) => [f.name, f.type, f.nullable]),
    [
      ['ts', 'timestamp', false],
      ['crypto', 'string', false],
      ['price', 'double', false],
      ['note', 'string', true],
      ['volume', 'double', true],
      ['source', 'string', true],
      ['ok', 'boolean', true],
    ],
  )
  assert.ok(
    (await commitActions(store, 2)).some((a) => 'metaData' in a),
    'the append commit carries the new metaData',
  )
  const back = await readRows(store, await (await DeltaTable.open(store)).snapshot())
  const old = back.filter((x) => x.crypto === 'a')
  assert.equal(old.length, 2)
  for (const x of old) assert.deepEqual([x.volume, x.source, x.ok], [null, null, null])
  assert.deepEqual(
    back
      .filter((x) => x.crypto === 'b')
      .map((x) => x.volume)
      .sort(),
    [0.5, 1.5],
  )
})

test('without mergeSchema a new column is refused', async () => {
  const { table } = await smallTable()
  await assert.rejects(table.append([{ ...smallRows(1)[0]!, volume: 1 }]), (e) =>
    isCryptoVizError(e, 'DELTA_SCHEMA_MISMATCH'),
  )
})

test('mergeSchema with an explicit schema refuses type changes, new NOT NULL columns and dropping NOT NULL', async () => {
  const { table } = await smallTable()
  const fields = SMALL_SCHEMA.fields
  const cases = [
    {
      schema: struct(fields.map((f) => (f.name === 'price' ? field('price', 'string', false) : f))),
      why: /price.*double.*string/,
    },
    {
      schema: struct([...fields, field('strict', 'long', false)]),
      why: /new column "strict" must be nullable/,
    },
    {
      schema: struct(fields.filter((f) => f.name !== 'price')),
      why: /"price" is NOT NULL and cannot be dropped/,
    },
    {
      schema: struct(fields.map((f) => (f.name === 'price' ? field('price', 'double', true) : f))),
      why: /"price" is NOT NULL/,
    },
  ]
  for (const c of cases) {
    await assert.rejects(table.append(smallRows(1), { mergeSchema: true, schema: c.schema }), (e) => {
      assert.ok(isCryptoVizError(e, 'DELTA_SCHEMA_MISMATCH'))
      assert.match(e.message, c.why)
      return true
    })
  }
  assert.equal((await table.snapshot()).version, 0, 'nothing was committed')
})

test('mergeSchema with an explicit schema may add typed columns and leave nullable ones out', async () => {
  const { table } = await smallTable()
  const schema = struct([...SMALL_SCHEMA.fields.filter((f) => f.name !== 'note'), field('rank', 'integer')])
  const r = await table.append(
    smallRows(2).map(({ note: _note, ...rest }) => ({ ...rest, rank: 3 })),
    { mergeSchema: true, schema },
  )
  assert.equal(r.status, 'committed')
  const snap = await table.snapshot()
  assert.deepEqual(
    snap.schema.fields.map((f) => f.name),
    ['ts', 'crypto', 'price', 'note', 'rank'],
  )
  assert.equal(snap.schema.fields[4]!.type, 'integer')
  assert.deepEqual(parseSchemaString(snap.metadata.schemaString), snap.schema)
})

test('a column whose values mix types cannot be inferred', async () => {
  const { table } = await smallTable()
  const rows = smallRows(2).map((r, i) => ({ ...r, mixed: i === 0 ? 1 : 'one' }))
  await assert.rejects(table.append(rows, { mergeSchema: true }), /mixes number and string/)
})

test('mergeSchema without new columns commits no metaData', async () => {
  const { table, store } = await smallTable()
  await table.append(smallRows(1), { mergeSchema: true })
  assert.equal(
    (await commitActions(store, 1)).some((a) => 'metaData' in a),
    false,
  )
})
