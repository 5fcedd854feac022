import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { isCryptoVizError } from '../../src/errors.ts'
import { loadConfig } from '../../src/config/config.ts'
import { s3Options } from '../../src/runtime/store.ts'
import { LocalStore } from '../../src/storage/local-store.ts'
import { S3Store } from '../../src/storage/s3-store.ts'
import { parseWarehouseUri } from '../../src/storage/warehouse-location.ts'
import { createWarehouseStore } from '../../src/storage/warehouse-uri.ts'

test('a warehouse is a path, a file:// URL or s3://bucket/prefix', () => {
  assert.deepEqual(parseWarehouseUri('./wh'), { kind: 'local', path: resolve('wh') })
  assert.deepEqual(parseWarehouseUri('/data/wh'), { kind: 'local', path: '/data/wh' })
  assert.deepEqual(parseWarehouseUri('file:///data/my%20wh'), { kind: 'local', path: '/data/my wh' })
  assert.deepEqual(parseWarehouseUri('s3://lake'), { kind: 's3', bucket: 'lake', prefix: '' })
  assert.deepEqual(parseWarehouseUri('s3://my-lake/a/b/'), { kind: 's3', bucket: 'my-lake', prefix: 'a/b' })
  assert.ok(createWarehouseStore('./wh') instanceof LocalStore)
  const s3 = createWarehouseStore('s3://my-lake/a', { region: 'us-east-1' })
  assert.ok(s3 instanceof S3Store)
  assert.equal(s3.url, 's3://my-lake/a')
})

test('bad warehouse URIs are refused, not taken for folders', () => {
  for (const uri of ['s3://', 's3://A_B/x', 's3://ok-bucket/../x', 'gs://bucket/x', 'http://host/x']) {
    assert.throws(
      () => parseWarehouseUri(uri),
      (e) => isCryptoVizError(e, 'INVALID_ARGUMENT'),
      uri,
    )
  }
})

test('S3 settings: path-style is automatic with a custom endpoint and can be forced either way', () => {
  const base = loadConfig({ env: {} })
  assert.deepEqual(s3Options(base).forcePathStyle, undefined)
  assert.equal(s3Options(base).endpoint, undefined)
  const minio = loadConfig({ env: { CRYPTOVIZ_S3_ENDPOINT: 'http://127.0.0.1:9000' } })
  assert.equal(s3Options(minio).forcePathStyle, true)
  assert.equal(s3Options(minio).endpoint, 'http://127.0.0.1:9000')
  const vhost = loadConfig({
    flags: { 's3-endpoint': 'https://s3.example.com', 's3-force-path-style': 'false' },
  })
  assert.equal(s3Options(vhost).forcePathStyle, false)
})
