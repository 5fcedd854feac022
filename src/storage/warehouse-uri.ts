/**
 * The store behind a warehouse location (see warehouse-location.ts for the accepted forms).
 */
import { LocalStore } from './local-store.ts'
import type { ObjectStore } from './object-store.ts'
import { createS3Client, S3Store, type S3ConnectionOptions } from './s3-store.ts'
import { parseWarehouseUri } from './warehouse-location.ts'

/** The store for a warehouse location; `s3` holds the connection options for `s3://` URIs. */
export function createWarehouseStore(uri: string, s3: S3ConnectionOptions = {}): ObjectStore {
  const location = parseWarehouseUri(uri)
  if (location.kind === 'local') return new LocalStore(location.path)
  return new S3Store({ client: createS3Client(s3), bucket: location.bucket, prefix: location.prefix })
}
