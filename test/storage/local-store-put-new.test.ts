import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable, field, struct } from '../../src/lake/index.ts'
import { LocalStore } from '../../src/storage/local-store.ts'

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-put-new-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('putNew writes in place, never replaces an object, and recreates a folder removed since', async (t) => {
  const dir = await tempDir(t)
  const store = new LocalStore(dir)
  await store.putNew('a=1/b=2/part-0.parquet', Uint8Array.of(1, 2, 3))
  assert.deepEqual([...(await store.get('a=1/b=2/part-0.parquet'))], [1, 2, 3])
  await assert.rejects(store.putNew('a=1/b=2/part-0.parquet', Uint8Array.of(9)), (e: unknown) =>
    isCryptoVizError(e, 'STORAGE_IO'),
  )
  assert.deepEqual([...(await readFile(join(dir, 'a=1/b=2/part-0.parquet')))], [1, 2, 3], 'kept')
  // The folder it remembers is gone (e.g. emptied by vacuum): it is made again.
  await rm(join(dir, 'a=1'), { recursive: true })
  await store.putNew('a=1/b=2/part-1.parquet', Uint8Array.of(4))
  assert.deepEqual([...(await store.get('a=1/b=2/part-1.parquet'))], [4])
  assert.deepEqual(await readdir(join(dir, 'a=1/b=2')), ['part-1.parquet'], 'no temp files')
})

test('an append into a local folder writes its data files with putNew: readable, no temp files left', async (t) => {
  const dir = await tempDir(t)
  const store = new LocalStore(dir)
  const puts: string[] = []
  const putNew = store.putNew.bind(store)
  store.putNew = async (path, bytes) => {
    puts.push(path)
    await putNew(path, bytes)
  }
  const table = await DeltaTable.create(store, {
    schema: struct([field('k', 'string', false), field('v', 'long', false)]),
    partitionColumns: ['k'],
  })
  const r = await table.append([
    { k: 'a', v: 1 },
    { k: 'b', v: 2 },
  ])
  assert.equal(r.status, 'committed')
  const files = (await table.snapshot()).files().map((f) => f.path)
  assert.deepEqual(puts.sort(), [...files].sort())
  const all = await store.list('')
  assert.ok(all.every((o) => !o.path.split('/').at(-1)!.startsWith('.tmp-')))
})
