/**
 * S3Store against the real moto server, directly and through a proxy that misbehaves like S3
 * clones and networks do: conditional writes ignored, 503 SlowDown, 500, 409 conflicts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { isCryptoVizError } from '../../src/errors.ts'
import { DeltaTable } from '../../src/lake/index.ts'
import { guardConditionalWrites, probeConditionalWrites } from '../../src/storage/conditional-writes.ts'
import { S3Store } from '../../src/storage/s3-store.ts'
import { SMALL_SCHEMA, smallRows } from '../lake/lake-fixtures.ts'
import { freshBucket, motoClient } from '../harness/moto-server.ts'
import { startS3Proxy } from '../harness/s3-proxy.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

test('the probe passes on moto, which refuses a second conditional write', async () => {
  const { store } = await freshBucket()
  assert.equal(await probeConditionalWrites(store), true)
  assert.equal(await guardConditionalWrites(store), store)
  assert.deepEqual(await store.list(''), [], 'the probe object is deleted')
})

test('a store that ignores If-None-Match is detected: writes are refused naming the store, reads still work', async (t) => {
  const { store: direct, bucket, endpoint } = await freshBucket({ prefix: 'wh' })
  const table = await DeltaTable.create(direct, { schema: SMALL_SCHEMA, partitionColumns: ['crypto'] })
  await table.append(smallRows(5))
  const proxy = await startS3Proxy(endpoint, { stripIfNoneMatch: true })
  t.after(() => proxy.close())
  const ignoring = new S3Store({ client: motoClient(proxy.endpoint), bucket, prefix: 'wh' })
  assert.equal(await probeConditionalWrites(ignoring), false)
  const guarded = await guardConditionalWrites(ignoring)
  const err = await guarded.putIfAbsent('_delta_log/x.json', bytes('x')).catch((e: unknown) => e)
  assert.ok(isCryptoVizError(err, 'STORAGE_PRECONDITION_UNSUPPORTED'), String(err))
  assert.match((err as Error).message, new RegExp(`s3://${bucket}/wh ignores conditional writes`))
  const reopened = await DeltaTable.open(guarded)
  assert.equal((await reopened.snapshot()).version, 1)
  await assert.rejects(reopened.append(smallRows(1)), (e) =>
    isCryptoVizError(e, 'STORAGE_PRECONDITION_UNSUPPORTED'),
  )
})

test('503 SlowDown and 500 are retried with backoff; a 409 ConditionalRequestConflict is retried', async (t) => {
  const { bucket, endpoint } = await freshBucket()
  const proxy = await startS3Proxy(endpoint)
  t.after(() => proxy.close())
  const store = new S3Store({ client: motoClient(proxy.endpoint), bucket })
  proxy.failNext(2, 503, 'SlowDown', 'PUT')
  await store.put('a', bytes('a'))
  proxy.failNext(2, 500, 'InternalError', 'GET')
  assert.equal(new TextDecoder().decode(await store.get('a')), 'a')
  proxy.failNext(1, 409, 'ConditionalRequestConflict', 'PUT')
  assert.equal(await store.putIfAbsent('b', bytes('b')), 'created')
  assert.equal(await store.putIfAbsent('b', bytes('b2')), 'exists')
  const statuses = proxy.requests.map((r) => r.status)
  assert.deepEqual(statuses.slice(0, 7), [503, 503, 200, 500, 500, 200, 409])
})

test('a conditional write resent after a lost response and then refused counts as created when the bytes are ours', async (t) => {
  const { bucket, endpoint, store: direct } = await freshBucket()
  const proxy = await startS3Proxy(endpoint)
  t.after(() => proxy.close())
  const store = new S3Store({ client: motoClient(proxy.endpoint), bucket })
  // Our first write lands, but its answer is "lost" (a 500); the SDK resends and gets 412.
  await direct.putIfAbsent('c', bytes('mine'))
  proxy.failNext(1, 500, 'InternalError', 'PUT')
  assert.equal(await store.putIfAbsent('c', bytes('mine')), 'created')
  proxy.failNext(1, 500, 'InternalError', 'PUT')
  assert.equal(await store.putIfAbsent('c', bytes('theirs')), 'exists')
})

test('large objects go up in parts; a conditional multipart upload on an existing key reports exists', async () => {
  const { client, bucket } = await freshBucket()
  const store = new S3Store({
    client,
    bucket,
    multipartThreshold: 5 * 1024 * 1024,
    partSize: 5 * 1024 * 1024,
  })
  const body = randomBytes(11 * 1024 * 1024)
  await store.put('big/a.parquet', body)
  assert.ok(Buffer.from(await store.get('big/a.parquet')).equals(body))
  assert.equal(await store.putIfAbsent('big/b.parquet', body), 'created')
  assert.equal(await store.putIfAbsent('big/b.parquet', randomBytes(6 * 1024 * 1024)), 'exists')
  assert.ok(Buffer.from(await store.get('big/b.parquet')).equals(body))
})

test('putStream sends a small object in one PutObject and a large one in parts of at least partSize', async () => {
  const { client, bucket } = await freshBucket()
  const partSize = 5 * 1024 * 1024
  const store = new S3Store({ client, bucket, partSize })
  const etag = async (Key: string) =>
    (await client.send(new HeadObjectCommand({ Bucket: bucket, Key }))).ETag!
  const small = [randomBytes(1000), randomBytes(2000)]
  await store.putStream('small.bin', small)
  assert.ok(Buffer.from(await store.get('small.bin')).equals(Buffer.concat(small)))
  assert.doesNotMatch(await etag('small.bin'), /-\d+"$/, 'a single PutObject')
  const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024 - 7))
  await store.putStream('big.bin', chunks)
  assert.ok(Buffer.from(await store.get('big.bin')).equals(Buffer.concat(chunks)))
  // 12 chunks of just under 1 MiB: two full parts of 6 chunks (≥ 5 MiB each), nothing left over.
  assert.match(await etag('big.bin'), /-2"$/, 'a multipart upload of two parts')
})

test('a putStream failing after parts were uploaded aborts the upload: nothing is visible or pending', async () => {
  const { client, bucket } = await freshBucket()
  const store = new S3Store({ client, bucket, partSize: 5 * 1024 * 1024 })
  const failure = new Error('encoder failed')
  function* failing(): Generator<Uint8Array> {
    for (let i = 0; i < 7; i++) yield randomBytes(1024 * 1024)
    throw failure
  }
  await store.put('kept.bin', bytes('old'))
  await assert.rejects(store.putStream('kept.bin', failing()), (e) => e === failure)
  await assert.rejects(store.putStream('new.bin', failing()), (e) => e === failure)
  assert.equal(new TextDecoder().decode(await store.get('kept.bin')), 'old')
  assert.equal(await store.head('new.bin'), undefined)
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
  assert.deepEqual(uploads.Uploads ?? [], [])
})

test('a request to a server that never answers fails with a retryable STORAGE_IO after the timeout', async (t) => {
  // Accepts connections and says nothing, like a frozen server.
  const sockets: Socket[] = []
  const silent = createServer((socket) => void sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const port = (silent.address() as { port: number }).port
  const store = new S3Store({
    client: motoClient(`http://127.0.0.1:${port}`, { requestTimeoutMs: 300, maxAttempts: 2 }),
    bucket: 'silent',
  })
  const started = Date.now()
  const err = await store.get('x').catch((e: unknown) => e)
  assert.ok(isCryptoVizError(err, 'STORAGE_IO') && err.canRetry, String(err))
  assert.match((err as Error).message, /TimeoutError/)
  assert.ok(Date.now() - started < 10_000)
})

test('a missing bucket is reported as such, not as a missing object', async () => {
  const store = new S3Store({ client: motoClient(), bucket: 'no-such-bucket-here' })
  const err = await store.get('x').catch((e: unknown) => e)
  assert.ok(isCryptoVizError(err, 'STORAGE_IO'), String(err))
  assert.match((err as Error).message, /the bucket of s3:\/\/no-such-bucket-here does not exist/)
})
