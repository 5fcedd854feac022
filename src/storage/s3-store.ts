/**
 * `ObjectStore` over an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph) with
 * `@aws-sdk/client-s3`. A store is rooted at `s3://bucket/prefix`; store paths are keys below it.
 *
 * Invariants:
 * - `putIfAbsent` is one `PutObject` with `If-None-Match: *` (or a multipart upload completed
 *   with it): the server decides atomically, 412 means another writer holds the key. A 409
 *   `ConditionalRequestConflict` (a concurrent conditional write in flight) is retried here.
 * - A conditional write that the SDK had to resend (timeout, 5xx, dropped connection) may have
 *   succeeded the first time; a 412 on such a resend is checked against the stored bytes, so a
 *   writer never reports "lost" for a commit it actually made (nor retries it at a later version).
 * - Transient failures (5xx, 503 SlowDown, throttling, timeouts, network errors) are retried by
 *   the SDK's standard strategy with exponential backoff and jitter (`maxAttempts`); what still
 *   fails surfaces as `STORAGE_IO` (retryable), a missing key as `STORAGE_NOT_FOUND`.
 * - Listing is `ListObjectsV2` with `StartAfter`, page by page; nothing here lists a prefix the
 *   caller did not ask for.
 * - Credentials are resolved by the SDK (environment, profiles, instance roles) and never logged;
 *   error messages name the bucket and key only.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { CryptoVizError } from '../errors.ts'
import {
  type ByteChunks,
  collect,
  joinPath,
  type ObjectMeta,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts'

export interface S3ConnectionOptions {
  /** Custom endpoint (MinIO, R2, moto); undefined = the SDK's (AWS, or `AWS_ENDPOINT_URL_S3`). */
  endpoint?: string | undefined
  /** Region; undefined = the SDK's chain (`AWS_REGION`, profile). */
  region?: string | undefined
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO and most S3 clones. */
  forcePathStyle?: boolean | undefined
  /** Attempts per request, including the first (SDK standard retry strategy). */
  maxAttempts?: number | undefined
  /** Socket inactivity limit per request, ms. */
  requestTimeoutMs?: number | undefined
  /** Explicit credentials (tests); undefined = the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined
}

export const S3_DEFAULTS = {
  maxAttempts: 5,
  requestTimeoutMs: 10_000,
  connectionTimeoutMs: 5_000,
  /** Objects at least this large are uploaded in parts. */
  multipartThreshold: 16 * 1024 * 1024,
  partSize: 8 * 1024 * 1024,
  /** Retries of a 409 ConditionalRequestConflict before giving up. */
  conflictRetries: 8,
} as const

export function createS3Client(o: S3ConnectionOptions): S3Client {
  const config: S3ClientConfig = {
    maxAttempts: o.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    requestHandler: {
      requestTimeout: o.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      connectionTimeout: S3_DEFAULTS.connectionTimeoutMs,
      // Without it the SDK only logs a warning and the request hangs on (e.g. a frozen server).
      throwOnRequestTimeout: true,
    },
    // Checksums on every PUT cost a full extra pass and are not understood by every S3 clone.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
  if (o.endpoint !== undefined) config.endpoint = o.endpoint
  if (o.region !== undefined) config.region = o.region
  else if (o.endpoint !== undefined) config.region = regionFromChainOr('us-east-1')
  if (o.forcePathStyle !== undefined) config.forcePathStyle = o.forcePathStyle
  if (o.credentials !== undefined) config.credentials = o.credentials
  return new S3Client(config)
}

/**
 * With a custom endpoint the region is often meaningless (MinIO ignores it) but the SDK still
 * demands one: use the chain's when it has one, else the given fallback.
 */
function regionFromChainOr(fallback: string): () => Promise<string> {
  let resolved: Promise<string> | undefined
  return () =>
    (resolved ??= (async () => {
      const probe = new S3Client({})
      try {
        return await probe.config.region()
      } catch {
        return fallback
      } finally {
        probe.destroy()
      }
    })())
}

export interface S3StoreOptions {
  client: S3Client
  bucket: string
  /** Key prefix of the store's root, without leading or trailing `/`; '' for the bucket root. */
  prefix?: string
  multipartThreshold?: number
  partSize?: number
  conflictRetries?: number
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number
}

interface SdkError {
  name?: string
  Code?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
  message?: string
}

const statusOf = (e: unknown): number | undefined => (e as SdkError).$metadata?.httpStatusCode
const nameOf = (e: unknown): string => (e as SdkError).name ?? (e as SdkError).Code ?? 'Error'

const isMissing = (e: unknown): boolean =>
  nameOf(e) !== 'NoSuchBucket' &&
  (statusOf(e) === 404 || nameOf(e) === 'NoSuchKey' || nameOf(e) === 'NotFound')
const isPreconditionFailed = (e: unknown): boolean =>
  statusOf(e) === 412 || nameOf(e) === 'PreconditionFailed'
const isConditionalConflict = (e: unknown): boolean =>
  statusOf(e) === 409 && nameOf(e) === 'ConditionalRequestConflict'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class S3Store implements ObjectStore {
  readonly url: string
  readonly client: S3Client
  readonly bucket: string
  private readonly prefix: string
  private readonly multipartThreshold: number
  private readonly partSize: number
  private readonly conflictRetries: number
  private readonly listPageSize: number | undefined

  constructor(o: S3StoreOptions) {
    this.client = o.client
    this.bucket = o.bucket
    this.prefix = joinPath(o.prefix ?? '')
    this.multipartThreshold = o.multipartThreshold ?? S3_DEFAULTS.multipartThreshold
    this.partSize = Math.max(5 * 1024 * 1024, o.partSize ?? S3_DEFAULTS.partSize)
    this.conflictRetries = o.conflictRetries ?? S3_DEFAULTS.conflictRetries
    this.listPageSize = o.listPageSize
    this.url = `s3://${this.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`
  }

  private key(path: string): string {
    if (path.startsWith('/') || path.split('/').includes('..')) {
      throw new CryptoVizError('INVALID_ARGUMENT', `storage path must be relative without "..": ${path}`, {
        kind: 'user',
      })
    }
    return this.prefix === '' ? path : `${this.prefix}/${path}`
  }

  localPath(): undefined {
    return undefined
  }

  child(prefix: string): ObjectStore {
    return new S3Store({
      client: this.client,
      bucket: this.bucket,
      prefix: joinPath(this.prefix, prefix),
      multipartThreshold: this.multipartThreshold,
      partSize: this.partSize,
      conflictRetries: this.conflictRetries,
      ...(this.listPageSize === undefined ? {} : { listPageSize: this.listPageSize }),
    })
  }

  async get(path: string): Promise<Uint8Array> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
      return await r.Body!.transformToByteArray()
    } catch (e) {
      throw this.error(e, path)
    }
  }

  async getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0)
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          Range: `bytes=${start}-${end - 1}`,
        }),
      )
      return await r.Body!.transformToByteArray()
    } catch (e) {
      // A range starting past the end is empty, as a local read there is.
      if (statusOf(e) === 416 || nameOf(e) === 'InvalidRange') return new Uint8Array(0)
      throw this.error(e, path)
    }
  }

  async head(path: string): Promise<ObjectMeta | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
      return { path, size: r.ContentLength ?? 0, modified: r.LastModified?.getTime() ?? 0 }
    } catch (e) {
      if (isMissing(e)) return undefined
      throw this.error(e, path)
    }
  }

  async put(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.upload(path, bytes, false)
    } catch (e) {
      throw this.error(e, path)
    }
  }

  /**
   * Chunks gathered into parts of at least `partSize` bytes: everything in one `PutObject` when
   * it ends before the first part is full, else a multipart upload (parts ≥ 5 MiB except the
   * last), aborted on any failure so nothing becomes visible. Holds at most one part.
   */
  async putStream(path: string, chunks: ByteChunks): Promise<void> {
    const Bucket = this.bucket
    const Key = this.key(path)
    // Requests fail as store errors; the chunks' own errors pass through unchanged.
    const send = async <T>(request: Promise<T>): Promise<T> => {
      try {
        return await request
      } catch (e) {
        throw this.error(e, path)
      }
    }
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    let UploadId: string | undefined
    const parts: { ETag: string; PartNumber: number }[] = []
    const uploadPart = async (): Promise<void> => {
      const Body = Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      const PartNumber = parts.length + 1
      const r = await send(
        this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body })),
      )
      parts.push({ ETag: r.ETag!, PartNumber })
    }
    try {
      for await (const chunk of chunks) {
        pending.push(chunk)
        pendingBytes += chunk.byteLength
        if (pendingBytes < this.partSize) continue
        UploadId ??= (await send(this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }))))
          .UploadId
        await uploadPart()
      }
      if (UploadId === undefined) {
        const Body = Buffer.concat(pending, pendingBytes)
        await send(this.client.send(new PutObjectCommand({ Bucket, Key, Body })))
        return
      }
      if (pendingBytes > 0) await uploadPart()
      await send(
        this.client.send(
          new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
        ),
      )
    } catch (e) {
      if (UploadId !== undefined) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))
          .catch(() => undefined)
      }
      throw e
    }
  }

  async putIfAbsent(path: string, bytes: Uint8Array): Promise<PutIfAbsentResult> {
    let resent = false
    for (let attempt = 0; ; attempt++) {
      try {
        await this.upload(path, bytes, true)
        return 'created'
      } catch (e) {
        resent ||= ((e as SdkError).$metadata?.attempts ?? 1) > 1
        if (isPreconditionFailed(e)) return resent && (await this.holds(path, bytes)) ? 'created' : 'exists'
        if (isConditionalConflict(e) && attempt < this.conflictRetries) {
          resent = true
          await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()))
          continue
        }
        throw this.error(e, path)
      }
    }
  }

  /** Whether the object at `path` has exactly `bytes` (our own earlier, unacknowledged write). */
  private async holds(path: string, bytes: Uint8Array): Promise<boolean> {
    const stored = await this.get(path)
    return Buffer.from(stored).equals(Buffer.from(bytes))
  }

  private async upload(path: string, bytes: Uint8Array, ifAbsent: boolean): Promise<void> {
    const Key = this.key(path)
    const condition = ifAbsent ? { IfNoneMatch: '*' } : {}
    if (bytes.byteLength < this.multipartThreshold) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ...condition }))
      return
    }
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key }),
    )
    try {
      const parts: { ETag: string; PartNumber: number }[] = []
      for (let offset = 0, n = 1; offset < bytes.byteLength; offset += this.partSize, n++) {
        const r = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            PartNumber: n,
            Body: bytes.subarray(offset, offset + this.partSize),
          }),
        )
        parts.push({ ETag: r.ETag!, PartNumber: n })
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
          ...condition,
        }),
      )
    } catch (e) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }))
        .catch(() => undefined)
      throw e
    }
  }

  list(prefix: string): Promise<ObjectMeta[]> {
    return collect(this.listFrom(prefix))
  }

  async *listFrom(prefix: string, startAfter?: string): AsyncIterable<ObjectMeta> {
    const root = this.prefix === '' ? '' : `${this.prefix}/`
    let ContinuationToken: string | undefined
    do {
      let page
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: root + prefix,
            ...(startAfter === undefined ? {} : { StartAfter: root + startAfter }),
            ...(ContinuationToken === undefined ? {} : { ContinuationToken }),
            ...(this.listPageSize === undefined ? {} : { MaxKeys: this.listPageSize }),
          }),
        )
      } catch (e) {
        throw this.error(e, prefix)
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(root)) continue
        yield { path: o.Key.slice(root.length), size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 }
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (ContinuationToken !== undefined)
  }

  async delete(path: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }))
    } catch (e) {
      if (!isMissing(e)) throw this.error(e, path)
    }
  }

  private error(e: unknown, path: string): CryptoVizError {
    if (e instanceof CryptoVizError) return e
    const where = `${this.url}/${path}`
    if (isMissing(e)) {
      return new CryptoVizError('STORAGE_NOT_FOUND', `no object at ${path} in ${this.url}`, {
        cause: e,
        kind: 'user',
      })
    }
    const status = statusOf(e)
    if (nameOf(e) === 'NoSuchBucket') {
      return new CryptoVizError('STORAGE_IO', `the bucket of ${this.url} does not exist: create it first`, {
        cause: e,
        kind: 'user',
        details: { status, name: nameOf(e) },
      })
    }
    return new CryptoVizError(
      'STORAGE_IO',
      `storage error at ${where}: ${nameOf(e)}${status === undefined ? '' : ` (HTTP ${status})`}: ${(e as SdkError).message ?? ''}`,
      { cause: e, kind: 'external', canRetry: true, details: { status, name: nameOf(e) } },
    )
  }
}
