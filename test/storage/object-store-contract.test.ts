/**
 * The ObjectStore contract, run against every store: memory, a local folder and S3 (the moto
 * server of this test run). What the lake relies on — atomic put-if-absent, listing from a key
 * in byte order page by page, ranges, STORAGE_NOT_FOUND — must hold on each.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { MemoryStore } from '../../src/storage/memory-store.ts'
import { collect, type ObjectStore } from '../../src/storage/object-store.ts'
import { S3Store } from '../../src/storage/s3-store.ts'
import { freshBucket } from '../harness/moto-server.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

const STORES: { name: string; make: () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }> }[] =
  [
    { name: 'memory', make: async () => ({ store: new MemoryStore(), cleanup: async () => undefined }) },
    {
      name: 'local',
      make: async () => {
        const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-store-contract-'))
        return { store: new LocalStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) }
      },
    },
    {
      name: 's3',
      make: async () => {
        const { client, bucket } = await freshBucket()
        // Small pages so that paging is exercised with a few dozen keys.
        return {
          store: new S3Store({ client, bucket, prefix: 'root', listPageSize: 7 }),
          cleanup: async () => undefined,
        }
      },
    },
  ]

for (const kind of STORES) {
  describe(`ObjectStore contract: ${kind.name}`, () => {
    const withStore = (fn: (s: ObjectStore) => Promise<void>) => async () => {
      const { store, cleanup } = await kind.make()
      try {
        await fn(store)
      } finally {
        await cleanup()
      }
    }

    test(
      'get of a missing object throws STORAGE_NOT_FOUND and head returns undefined',
      withStore(async (s) => {
        await assert.rejects(s.get('nope/x.json'), (e) => isCryptoVizError(e, 'STORAGE_NOT_FOUND'))
        assert.equal(await s.head('nope/x.json'), undefined)
      }),
    )

    test(
      'put then get, head and ranges return the bytes',
      withStore(async (s) => {
        await s.put('a/b.bin', bytes('0123456789'))
        assert.equal(text(await s.get('a/b.bin')), '0123456789')
        assert.equal((await s.head('a/b.bin'))?.size, 10)
        assert.equal(text(await s.getRange('a/b.bin', 2, 5)), '234')
        assert.equal(text(await s.getRange('a/b.bin', 8, 20)), '89')
        assert.equal((await s.getRange('a/b.bin', 12, 20)).length, 0)
        await s.put('a/b.bin', bytes('replaced'))
        assert.equal(text(await s.get('a/b.bin')), 'replaced')
      }),
    )

    test(
      'putIfAbsent creates once; a second call reports exists and keeps the first body',
      withStore(async (s) => {
        assert.equal(await s.putIfAbsent('_delta_log/0.json', bytes('first')), 'created')
        assert.equal(await s.putIfAbsent('_delta_log/0.json', bytes('second')), 'exists')
        assert.equal(text(await s.get('_delta_log/0.json')), 'first')
      }),
    )

    test(
      'of 8 concurrent putIfAbsent calls on one key exactly one wins, and its body is stored',
      withStore(async (s) => {
        for (let round = 0; round < 5; round++) {
          const key = `race/${round}`
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, i) => s.putIfAbsent(key, bytes(`writer-${i}`))),
          )
          const winners = results.flatMap((r, i) => (r === 'created' ? [i] : []))
          assert.equal(winners.length, 1, `round ${round}: ${results.join(',')}`)
          assert.equal(text(await s.get(key)), `writer-${winners[0]}`)
        }
      }),
    )

    test(
      'listFrom yields keys strictly after startAfter in byte order, across pages',
      withStore(async (s) => {
        const names = Array.from({ length: 24 }, (_, i) => `_delta_log/${String(i).padStart(20, '0')}.json`)
        names.push('_delta_log/00000000000000000010.checkpoint.parquet', 'data/x.parquet', '_delta_log_other')
        await Promise.all(names.map((n) => s.put(n, bytes(n))))
        const all = (await collect(s.listFrom('_delta_log/'))).map((m) => m.path)
        assert.deepEqual(all, names.filter((n) => n.startsWith('_delta_log/')).sort())
        const from10 = (await collect(s.listFrom('_delta_log/', '_delta_log/00000000000000000010'))).map(
          (m) => m.path,
        )
        assert.deepEqual(from10.slice(0, 3), [
          '_delta_log/00000000000000000010.checkpoint.parquet',
          '_delta_log/00000000000000000010.json',
          '_delta_log/00000000000000000011.json',
        ])
        assert.equal(from10.length, 15)
        const afterLast = await collect(s.listFrom('_delta_log/', '_delta_log/00000000000000000023.json'))
        assert.deepEqual(afterLast, [])
        assert.deepEqual(
          (await s.list('data/')).map((m) => [m.path, m.size]),
          [['data/x.parquet', 14]],
        )
      }),
    )

    test(
      'a child store sees only its prefix, under paths relative to it',
      withStore(async (s) => {
        await s.put('quotes/_delta_log/a.json', bytes('q'))
        await s.put('quotesx/b.json', bytes('x'))
        const child = s.child('quotes')
        assert.deepEqual(
          (await child.list('')).map((m) => m.path),
          ['_delta_log/a.json'],
        )
        assert.equal(text(await child.get('_delta_log/a.json')), 'q')
      }),
    )

    test(
      'putStream stores the chunks (sync or async, empty ones too) as one object and replaces an old one',
      withStore(async (s) => {
        await s.putStream('c/a.bin', [bytes('01'), bytes(''), bytes('2345')])
        assert.equal(text(await s.get('c/a.bin')), '012345')
        async function* later(): AsyncGenerator<Uint8Array> {
          for (const part of ['re', 'pla', 'ced']) {
            await new Promise((r) => setImmediate(r))
            yield bytes(part)
          }
        }
        await s.putStream('c/a.bin', later())
        assert.equal(text(await s.get('c/a.bin')), 'replaced')
        assert.equal((await s.head('c/a.bin'))?.size, 8)
        await s.putStream('c/empty.bin', [])
        assert.equal((await s.get('c/empty.bin')).length, 0)
      }),
    )

    test(
      'a putStream whose chunks fail midway leaves nothing visible, keeps the old object and rethrows their error',
      withStore(async (s) => {
        const failure = new Error('encoder failed')
        function* failing(): Generator<Uint8Array> {
          yield bytes('partial ')
          yield bytes('bytes')
          throw failure
        }
        await assert.rejects(s.putStream('f/new.bin', failing()), (e) => e === failure)
        assert.equal(await s.head('f/new.bin'), undefined)
        await s.put('f/old.bin', bytes('old'))
        await assert.rejects(s.putStream('f/old.bin', failing()), (e) => e === failure)
        assert.equal(text(await s.get('f/old.bin')), 'old')
        assert.deepEqual(
          (await s.list('f/')).map((m) => m.path),
          ['f/old.bin'],
        )
        // Nor is a temp file left in a local folder (listings skip temp files, so look directly).
        const folder = s.localPath('f')
        if (folder !== undefined) assert.deepEqual(await readdir(folder), ['old.bin'])
      }),
    )

    test(
      'delete removes an object and is silent for a missing one',
      withStore(async (s) => {
        await s.put('d/x', bytes('x'))
        await s.delete('d/x')
        await s.delete('d/x')
        assert.equal(await s.head('d/x'), undefined)
      }),
    )
  })
}
