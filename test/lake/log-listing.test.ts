/**
 * What opening, refreshing and committing cost in store requests: the log is listed from the
 * last checkpoint (or the next version), never from the beginning, and no commit needs a HEAD.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeltaTable } from '../../src/lake/index.ts'
import { CountingStore } from '../../src/storage/counting-store.ts'
import { lakeTestStore, SMALL_SCHEMA, smallRows } from './lake-fixtures.ts'

test('opening lists the log from the last checkpoint and reads only the commits after it', async () => {
  const inner = await lakeTestStore()
  const writer = await DeltaTable.create(inner, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  for (let i = 0; i < 23; i++) await writer.append(smallRows(2, { start: i * 2 }))
  const store = new CountingStore(inner)
  const table = await DeltaTable.open(store)
  const lists = store.requests.filter((r) => r.op === 'list')
  assert.deepEqual(lists, [
    { op: 'list', path: '_delta_log/', startAfter: '_delta_log/00000000000000000020' },
  ])
  const gets = store.requests.filter((r) => r.op === 'get').map((r) => r.path)
  assert.deepEqual(gets.sort(), [
    '_delta_log/00000000000000000020.checkpoint.parquet',
    '_delta_log/00000000000000000021.json',
    '_delta_log/00000000000000000022.json',
    '_delta_log/00000000000000000023.json',
    '_delta_log/_last_checkpoint',
  ])

  store.requests.length = 0
  await writer.append(smallRows(1, { start: 999 }))
  assert.equal((await table.snapshot()).version, 24)
  assert.deepEqual(
    store.requests.map((r) => [r.op, r.path, r.startAfter]),
    [
      ['list', '_delta_log/', '_delta_log/00000000000000000024'],
      ['get', '_delta_log/00000000000000000024.json', undefined],
    ],
    'a refresh lists from the next version and reads only the new commit',
  )

  store.requests.length = 0
  const r = await table.append(smallRows(1, { start: 2000 }))
  assert.equal(r.status, 'committed')
  assert.equal(store.counts().head, 0, 'no HEAD per commit: commit times come from commitInfo')
})
