/**
 * Warehouse locations: a local path (`./warehouse`, `/data/wh`), a `file:///path` URL, or
 * `s3://bucket/prefix` for S3-compatible object storage. Parsing is strict: an unknown scheme or
 * an `s3://` URI without a bucket fails with INVALID_ARGUMENT instead of being taken for a folder.
 *
 * Parsing only, with no store behind it: a process on a local warehouse decides that without
 * loading the S3 client (see warehouse-uri.ts for the stores).
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CryptoVizError } from '../errors.ts'

export type WarehouseLocation =
  | { kind: 'local'; /** Absolute folder path. */ path: string }
  | {
      kind: 's3'
      bucket: string
      /** Key prefix without leading/trailing `/`; '' = bucket root. */ prefix: string
    }

/** Bucket names as S3 allows them (3–63 of lowercase letters, digits, dots, hyphens). */
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function parseWarehouseUri(uri: string): WarehouseLocation {
  const bad = (why: string): CryptoVizError =>
    new CryptoVizError('INVALID_ARGUMENT', `invalid warehouse "${uri}": ${why}`, { kind: 'user' })
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(uri)?.[1]?.toLowerCase()
  if (scheme === undefined) return { kind: 'local', path: resolve(uri) }
  if (scheme === 'file') {
    try {
      return { kind: 'local', path: fileURLToPath(uri) }
    } catch (e) {
      throw bad((e as Error).message)
    }
  }
  if (scheme === 's3' || scheme === 's3a') {
    const rest = uri.slice(scheme.length + 3)
    const slash = rest.indexOf('/')
    const bucket = slash < 0 ? rest : rest.slice(0, slash)
    const prefix = (slash < 0 ? '' : rest.slice(slash + 1))
      .split('/')
      .filter((p) => p !== '')
      .join('/')
    if (!BUCKET_RE.test(bucket)) throw bad(`"${bucket}" is not a valid bucket name`)
    if (prefix.split('/').some((p) => p === '.' || p === '..'))
      throw bad('the prefix must not contain . or ..')
    return { kind: 's3', bucket, prefix }
  }
  throw bad(`unsupported scheme ${scheme}:// (use a folder, file:///path or s3://bucket/prefix)`)
}
