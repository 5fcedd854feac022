/**
 * The one place a warehouse store is made from the configuration, for every command and the
 * embedded runtime. Writers (`write: true`) first probe that the store refuses a second
 * conditional write (see storage/conditional-writes.ts) and stop with a clear error when it does
 * not; readers skip the probe, so they work on any store.
 */
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Config } from '../config/config.ts'
import { guardConditionalWrites, unsupported } from '../storage/conditional-writes.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { ReadCache } from '../storage/read-cache.ts'
import type { S3ConnectionOptions } from '../storage/s3-store.ts'
import { LocalStore } from '../storage/local-store.ts'
import { parseWarehouseUri } from '../storage/warehouse-location.ts'

export function s3Options(config: Readonly<Config>): S3ConnectionOptions {
  const { s3Endpoint, s3ForcePathStyle, s3Region, s3TimeoutMs } = config.storage
  return {
    endpoint: s3Endpoint,
    region: s3Region,
    forcePathStyle:
      s3ForcePathStyle === 'auto' ? s3Endpoint !== undefined || undefined : s3ForcePathStyle === 'true',
    requestTimeoutMs: s3TimeoutMs,
  }
}

export async function openWarehouseStore(
  config: Readonly<Config>,
  o: { write: boolean },
): Promise<ObjectStore> {
  const location = parseWarehouseUri(config.warehouse)
  // A local folder's put-if-absent is link(2): atomic by construction, nothing to probe.
  if (location.kind === 'local') return new LocalStore(location.path)
  // The S3 client (~35 MB resident) is loaded only by processes on an s3:// warehouse.
  const { createWarehouseStore } = await import('../storage/warehouse-uri.ts')
  const store = createWarehouseStore(config.warehouse, s3Options(config))
  if (!o.write) return store
  const guarded = await guardConditionalWrites(store)
  if (guarded !== store) throw unsupported(store.url)
  return store
}

/** The query engine's read cache for a remote warehouse; undefined for a local one (read in place). */
export function openReadCache(config: Readonly<Config>): ReadCache | undefined {
  if (parseWarehouseUri(config.warehouse).kind === 'local') return undefined
  const dir = config.storage.readCacheDir ?? join(tmpdir(), 'cryptoviz-read-cache')
  return new ReadCache({ dir: resolve(dir), maxBytes: config.storage.readCacheMb * 1024 * 1024 })
}

/** Root folder of the processor's degraded-mode spool. */
export function spoolRoot(config: Readonly<Config>): string {
  return resolve(config.processor.spoolDir ?? join(tmpdir(), 'cryptoviz-spool'))
}

/**
 * The lake's /health entry: degraded, with the reason, while commits keep failing (the store is
 * unreachable or refusing writes) and quotes wait in memory or in the spool.
 */
export function lakeHealth(
  url: string,
  s: {
    last_table_version: number | null
    consecutive_flush_errors: number
    last_flush_error: string | null
    buffered: number
    spooled?: number
  },
): { status: 'ok' | 'degraded'; [key: string]: unknown } {
  const base = { warehouse: url, version: s.last_table_version }
  if (s.consecutive_flush_errors === 0) return { status: 'ok', ...base }
  return {
    status: 'degraded',
    ...base,
    reason: `commits to ${url} are failing (${s.consecutive_flush_errors} in a row): ${s.last_flush_error ?? 'unknown error'}`,
    waiting: { memory: s.buffered, spool: s.spooled ?? 0 },
  }
}
