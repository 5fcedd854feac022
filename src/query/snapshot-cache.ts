/**
 * Snapshots for queries without a log read per query.
 *
 * - Latest: `DeltaTable.snapshot()` is incremental but still lists the log to look for new
 *   commits. The cache reuses the latest snapshot for `ttlMs` after it was checked, so a burst of
 *   queries costs one listing; a query may therefore see a version up to `ttlMs` old. Callers
 *   that must not lag (the hot tail, see hot-tail.ts) ask for a `fresh` one, which always checks.
 *   Concurrent non-fresh callers share one in-flight check.
 * - Time travel: a snapshot at a version never changes, so the last few are kept (LRU) by
 *   version; `{timestamp}` is resolved by the lake (it lists the log) and then shares that cache.
 */
import type { DeltaTable, Snapshot } from '../lake/index.ts'
import { checkAsOf, type AsOf } from './types.ts'

const VERSIONS_KEPT = 8

export class SnapshotCache {
  private readonly table: DeltaTable
  private readonly ttlMs: number
  private readonly now: () => number
  private latest: { snapshot: Snapshot; checkedAt: number } | undefined
  private inFlight: Promise<Snapshot> | undefined
  private readonly byVersion = new Map<number, Snapshot>()

  constructor(table: DeltaTable, ttlMs: number, now: () => number = () => performance.now()) {
    this.table = table
    this.ttlMs = ttlMs
    this.now = now
  }

  async get(asOf?: AsOf, o: { fresh?: boolean } = {}): Promise<Snapshot> {
    checkAsOf(asOf)
    if (asOf === undefined) return o.fresh ? this.refresh() : this.cachedLatest()
    if ('version' in asOf) {
      const known = this.byVersion.get(asOf.version) ?? this.sameAsLatest(asOf.version)
      if (known) return this.remember(known)
      return this.remember(await this.table.snapshot({ version: asOf.version }))
    }
    return this.remember(await this.table.snapshot({ timestamp: asOf.timestamp }))
  }

  private sameAsLatest(version: number): Snapshot | undefined {
    return this.latest?.snapshot.version === version ? this.latest.snapshot : undefined
  }

  private cachedLatest(): Promise<Snapshot> {
    if (this.latest && this.now() - this.latest.checkedAt < this.ttlMs) {
      return Promise.resolve(this.latest.snapshot)
    }
    this.inFlight ??= this.refresh().finally(() => (this.inFlight = undefined))
    return this.inFlight
  }

  private async refresh(): Promise<Snapshot> {
    const checkedAt = this.now()
    const snapshot = await this.table.snapshot()
    // Never replace a newer snapshot with an older one when checks overlap.
    if (!this.latest || snapshot.version >= this.latest.snapshot.version) {
      this.latest = { snapshot, checkedAt }
    }
    return snapshot
  }

  private remember(s: Snapshot): Snapshot {
    this.byVersion.delete(s.version)
    this.byVersion.set(s.version, s)
    while (this.byVersion.size > VERSIONS_KEPT) {
      this.byVersion.delete(this.byVersion.keys().next().value!)
    }
    return s
  }
}
