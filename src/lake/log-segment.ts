/**
 * Which log files make up a version: the newest complete checkpoint at or below it plus every
 * JSON commit after that checkpoint up to the version. The listing is the truth;
 * `_last_checkpoint` is only a hint and is not needed here.
 *
 * Invariants:
 * - Commits in a segment are contiguous; a missing commit between existing ones is a damaged
 *   log (DELTA_LOG_CORRUPT), while a version older than every retained commit and checkpoint is
 *   simply gone (DELTA_VERSION_NOT_FOUND).
 * - A multi-part checkpoint counts only when all of its parts are listed.
 */
import { CryptoVizError } from '../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { LOG_DIR, logFilePrefix, parseLogFile, type LogFile } from './log-paths.ts'

export type CommitFile = Extract<LogFile, { kind: 'commit' }>

export interface CheckpointRef {
  version: number
  /** Store paths of the parts, in part order. */
  paths: string[]
  /** Sizes of the parts in bytes, as listed (a large part is read by ranges). */
  sizes: number[]
  modified: number
}

export interface LogListing {
  /** Commit files by version. */
  commits: Map<number, CommitFile>
  /** Complete checkpoints, newest first. */
  checkpoints: CheckpointRef[]
  /** Highest version with a commit or a checkpoint; -1 for an empty log. */
  latest: number
}

export interface LogSegment {
  version: number
  checkpoint: CheckpointRef | undefined
  /** Commits after the checkpoint up to `version`, ascending and contiguous. */
  commits: CommitFile[]
}

/**
 * Lists the log (`_delta_log/`), or only the files of versions at or after `from` (one ranged
 * listing, S3 `StartAfter`): opening a table lists from its last checkpoint, refreshing it from
 * the next version, so the cost does not grow with the length of the log.
 */
export async function listLog(store: ObjectStore, o: { from?: number } = {}): Promise<LogListing> {
  const commits = new Map<number, CommitFile>()
  const parts = new Map<string, Extract<LogFile, { kind: 'checkpoint' }>[]>()
  let latest = -1
  // Every file of version v starts with `_delta_log/<v padded>`, which sorts strictly before them.
  const startAfter = o.from === undefined || o.from <= 0 ? undefined : logFilePrefix(o.from)
  for await (const meta of store.listFrom(`${LOG_DIR}/`, startAfter)) {
    const f = parseLogFile(meta)
    if (!f) continue
    if (f.kind === 'commit') {
      commits.set(f.version, f)
      if (f.version > latest) latest = f.version
    } else {
      const key = `${f.version}/${f.parts}`
      const list = parts.get(key) ?? []
      list.push(f)
      parts.set(key, list)
    }
  }
  const checkpoints: CheckpointRef[] = []
  for (const list of parts.values()) {
    const first = list[0]!
    const distinct = new Set(list.map((p) => p.part))
    if (distinct.size !== first.parts) continue // incomplete multi-part checkpoint: ignored
    list.sort((a, b) => a.part - b.part)
    checkpoints.push({
      version: first.version,
      paths: list.map((p) => p.path),
      sizes: list.map((p) => p.size),
      modified: Math.max(...list.map((p) => p.modified)),
    })
    if (first.version > latest) latest = first.version
  }
  // Newest first; among equal versions prefer the classic single file (fewest parts).
  checkpoints.sort((a, b) => b.version - a.version || a.paths.length - b.paths.length)
  return { commits, checkpoints, latest }
}

/**
 * The segment for `target` (latest when undefined), using the newest complete checkpoint whose
 * version is at most `maxCheckpoint` (so a caller can fall back past an unreadable checkpoint).
 */
export function segmentFor(listing: LogListing, target?: number, maxCheckpoint = Infinity): LogSegment {
  if (listing.latest < 0) {
    throw new CryptoVizError('DELTA_TABLE_NOT_FOUND', 'no Delta log: the table does not exist', {
      kind: 'user',
    })
  }
  const version = target ?? listing.latest
  if (!Number.isInteger(version) || version < 0) {
    throw new CryptoVizError('INVALID_ARGUMENT', `invalid table version ${version}`, { kind: 'user' })
  }
  if (version > listing.latest) {
    throw new CryptoVizError(
      'DELTA_VERSION_NOT_FOUND',
      `version ${version} does not exist: the latest version is ${listing.latest}`,
      { kind: 'user', details: { version, latest: listing.latest } },
    )
  }
  const checkpoint = listing.checkpoints.find((c) => c.version <= version && c.version <= maxCheckpoint)
  const from = checkpoint ? checkpoint.version + 1 : 0
  const commits: CommitFile[] = []
  for (let v = from; v <= version; v++) {
    const c = listing.commits.get(v)
    if (c) {
      commits.push(c)
      continue
    }
    const earliest = earliestCommit(listing)
    if (earliest !== undefined && v < earliest && !laterCheckpointCovers(listing, v, version)) {
      throw new CryptoVizError(
        'DELTA_VERSION_NOT_FOUND',
        `version ${version} cannot be reconstructed: commit ${v} was cleaned up and no checkpoint covers it ` +
          `(earliest reconstructable version is ${earliestReconstructable(listing) ?? 'none'})`,
        { kind: 'user', details: { version, earliest: earliestReconstructable(listing) } },
      )
    }
    throw new CryptoVizError(
      'DELTA_LOG_CORRUPT',
      `the log is not contiguous: commit ${v} is missing but later commits exist (needed for version ${version})`,
      { details: { missing: v } },
    )
  }
  return { version, checkpoint, commits }
}

const earliestCommit = (listing: LogListing): number | undefined => {
  let min: number | undefined
  for (const v of listing.commits.keys()) if (min === undefined || v < min) min = v
  return min
}

const laterCheckpointCovers = (listing: LogListing, missing: number, version: number): boolean =>
  listing.checkpoints.some((c) => c.version >= missing && c.version <= version)

/** The smallest version whose state the listed files can rebuild. */
export function earliestReconstructable(listing: LogListing): number | undefined {
  if (listing.commits.has(0)) return 0
  const oldest = listing.checkpoints.at(-1)
  return oldest?.version
}

/**
 * A commit's time given the previous commit's: its recorded time, or one millisecond after the
 * previous one when clocks went backwards (the protocol's rule: commit times strictly increase).
 */
export const monotonicCommitTime = (previous: number, recorded: number): number =>
  recorded > previous ? recorded : previous + 1

/** Commit times of the listed commits, strictly increasing, oldest first. */
export function adjustedCommitTimes(
  listing: LogListing,
  rawTime: (c: CommitFile) => number = (c) => c.modified,
): { version: number; timestamp: number }[] {
  const versions = [...listing.commits.keys()].sort((a, b) => a - b)
  const out: { version: number; timestamp: number }[] = []
  let prev = -Infinity
  for (const v of versions) {
    const raw = rawTime(listing.commits.get(v)!)
    prev = monotonicCommitTime(prev, raw)
    out.push({ version: v, timestamp: prev })
  }
  return out
}
