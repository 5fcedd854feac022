/**
 * Integrity check of a table (`cryptoviz check`): the log is contiguous and every commit parses,
 * the latest snapshot loads, every live file exists with its recorded size, and data files that
 * no retained version references (orphans, e.g. from a writer killed before its commit) are
 * listed. Orphans are reported but do not make the table unhealthy: VACUUM removes them.
 *
 * Read-only: the check never writes or deletes anything.
 */
import { isCryptoVizError } from '../errors.ts'
import type { ObjectMeta, ObjectStore } from '../storage/object-store.ts'
import { decodeCommit } from './commit-file.ts'
import { recordCount } from './file-stats.ts'
import { LOG_DIR } from './log-paths.ts'
import { loadState, mapLimit } from './log-replay.ts'
import { listLog } from './log-segment.ts'
import { dataFilePath } from './partition-path.ts'
import type { TableState } from './table-state.ts'

export type CheckProblem =
  | { kind: 'no-log'; message: string }
  | { kind: 'unparseable-commit'; version: number; message: string }
  | { kind: 'log-gap'; missing: number; message: string }
  | { kind: 'unreadable-snapshot'; code: string; message: string }
  | { kind: 'missing-file'; path: string; message: string }
  | { kind: 'size-mismatch'; path: string; expected: number; actual: number; message: string }

export interface CheckReport {
  /** True when no problem was found (orphans alone keep it true). */
  ok: boolean
  version: number | undefined
  commits: number
  checkpoints: number
  liveFiles: number
  liveBytes: number
  /** Rows in live files per their stats; undefined if some file has none. */
  rows: number | undefined
  problems: CheckProblem[]
  orphans: ObjectMeta[]
}

/** Paths under `_…` or `.…` folders (log, checkpoints, temp files) are not data files. */
const isDataFileCandidate = (path: string): boolean =>
  !path.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'))

export async function checkTable(store: ObjectStore): Promise<CheckReport> {
  const problems: CheckProblem[] = []
  const listing = await listLog(store)
  const report: CheckReport = {
    ok: false,
    version: undefined,
    commits: listing.commits.size,
    checkpoints: listing.checkpoints.length,
    liveFiles: 0,
    liveBytes: 0,
    rows: undefined,
    problems,
    orphans: [],
  }
  if (listing.latest < 0) {
    problems.push({ kind: 'no-log', message: `no Delta log under ${store.url}/${LOG_DIR}` })
    return report
  }

  const referenced = new Set<string>()
  const versions = [...listing.commits.keys()].sort((a, b) => a - b)
  await mapLimit(versions, 16, async (v) => {
    try {
      for (const a of decodeCommit(await store.get(listing.commits.get(v)!.path), v)) {
        if ('add' in a) referenced.add(dataFilePath(a.add))
        else if ('remove' in a) referenced.add(dataFilePath(a.remove))
      }
    } catch (e) {
      problems.push({ kind: 'unparseable-commit', version: v, message: (e as Error).message })
    }
  })
  for (let i = 1; i < versions.length; i++) {
    for (let v = versions[i - 1]! + 1; v < versions[i]!; v++) {
      if (!listing.checkpoints.some((c) => c.version >= v && c.version < versions[i]!)) {
        problems.push({
          kind: 'log-gap',
          missing: v,
          message: `commit ${v} is missing between existing commits`,
        })
      }
    }
  }

  let state: TableState | undefined
  try {
    state = await loadState(store, listing)
  } catch (e) {
    problems.push({
      kind: 'unreadable-snapshot',
      code: isCryptoVizError(e) ? e.code : 'INTERNAL',
      message: (e as Error).message,
    })
  }
  if (state) {
    report.version = state.version
    for (const key of state.adds.keys()) referenced.add(key)
    for (const key of state.removes.keys()) referenced.add(key)
    const live = [...state.adds.entries()]
    report.liveFiles = live.length
    let rows: number | undefined = 0
    await mapLimit(live, 16, async ([path, add]) => {
      report.liveBytes += add.size
      const n = recordCount(add)
      rows = rows === undefined || typeof n !== 'number' ? undefined : rows + n
      const meta = await store.head(path)
      if (!meta) {
        problems.push({ kind: 'missing-file', path, message: `live file ${path} does not exist` })
      } else if (meta.size !== add.size) {
        problems.push({
          kind: 'size-mismatch',
          path,
          expected: add.size,
          actual: meta.size,
          message: `live file ${path} has ${meta.size} bytes, the log says ${add.size}`,
        })
      }
    })
    report.rows = rows
  }

  report.orphans = (await store.list('')).filter(
    (m) => isDataFileCandidate(m.path) && !referenced.has(m.path),
  )
  report.ok = problems.length === 0
  return report
}
