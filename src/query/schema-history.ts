/**
 * The version at which each column of a table first appeared, derived from the `metaData` actions
 * in the commit log (the table's schema history).
 *
 * Invariants:
 * - The log is read once: later calls read only commits newer than the last one seen. Commit
 *   files are immutable, so what was learnt stays true.
 * - Columns are assumed to be only ever added (this lake's schema evolution adds nullable
 *   columns; it never drops or renames), so "first appeared" is well defined.
 * - When old commits were cleaned up, the schema of the oldest retained state is attributed to
 *   the version just before the oldest retained commit ("at or before").
 */
import type { DeltaTable, Snapshot } from '../lake/index.ts'

const COMMIT_FILE = /^_delta_log\/(\d{20})\.json$/
const READ_AHEAD = 16

export class SchemaHistory {
  private readonly table: DeltaTable
  private readonly firstSeen = new Map<string, number>()
  /** Highest version whose commit was read (-1: none). */
  private scanned = -1
  private queue: Promise<unknown> = Promise.resolve()

  constructor(table: DeltaTable) {
    this.table = table
  }

  /** Column name → version it first appeared in, for the columns of `snapshot`'s schema. */
  since(snapshot: Snapshot): Promise<Map<string, number>> {
    const run = this.queue.then(async () => {
      if (snapshot.version > this.scanned) await this.scan(snapshot.version)
      const out = new Map<string, number>()
      for (const f of snapshot.schema.fields) out.set(f.name, this.firstSeen.get(f.name) ?? snapshot.version)
      return out
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Records the columns of every metaData action in commit `version`. */
  private learn(version: number, text: string): void {
    if (!text.includes('"metaData"')) return
    for (const line of text.split('\n')) {
      if (!line.includes('"metaData"')) continue
      const schemaString = (JSON.parse(line) as { metaData?: { schemaString?: string } }).metaData
        ?.schemaString
      if (typeof schemaString !== 'string') continue
      const schema = JSON.parse(schemaString) as { fields?: { name?: unknown }[] }
      for (const f of schema.fields ?? []) {
        if (typeof f.name === 'string' && !this.firstSeen.has(f.name)) this.firstSeen.set(f.name, version)
      }
    }
  }

  private async scan(upTo: number): Promise<void> {
    const store = this.table.store
    const commits = new Map<number, string>()
    // After the first scan only newer commits matter: list from the last scanned one (StartAfter).
    const startAfter =
      this.scanned < 0 ? undefined : `_delta_log/${String(this.scanned).padStart(20, '0')}.json`
    for await (const meta of store.listFrom('_delta_log/', startAfter)) {
      const m = COMMIT_FILE.exec(meta.path)
      if (m) commits.set(Number(m[1]), meta.path)
    }
    let from = this.scanned + 1
    if (this.scanned < 0 && !commits.has(0)) {
      const oldest = Math.min(...commits.keys())
      if (Number.isFinite(oldest) && oldest > 0) {
        const base = await this.table.snapshot({ version: oldest - 1 }).catch(() => undefined)
        for (const f of base?.schema.fields ?? []) this.firstSeen.set(f.name, oldest - 1)
        from = oldest
      }
    }
    const versions: number[] = []
    for (let v = from; v <= upTo; v++) if (commits.has(v)) versions.push(v)
    // Read a few commits at a time, but learn from them in version order.
    for (let i = 0; i < versions.length; i += READ_AHEAD) {
      const batch = versions.slice(i, i + READ_AHEAD)
      const texts = await Promise.all(
        batch.map(async (v) => new TextDecoder().decode(await store.get(commits.get(v)!))),
      )
      batch.forEach((v, j) => this.learn(v, texts[j]!))
    }
    this.scanned = upTo
  }
}
