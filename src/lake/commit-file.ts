/**
 * Encoding and decoding one commit file (`_delta_log/%020d.json`): newline-delimited JSON, one
 * action per line. Decoding validates each known action with zod (the log is outside input: any
 * engine may have written it), drops unknown action kinds and keeps unknown fields, so newer
 * writers' extras survive a round trip through our structures.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import type { Action } from './actions.ts'
import { GrowableBytes } from './growable-bytes.ts'

const stringMap = z.record(z.string(), z.string())
const nullableStringMap = z.record(z.string(), z.string().nullable())

const protocol = z
  .object({
    minReaderVersion: z.number().int(),
    minWriterVersion: z.number().int(),
    readerFeatures: z.array(z.string()).optional(),
    writerFeatures: z.array(z.string()).optional(),
  })
  .loose()

const metaData = z
  .object({
    id: z.string(),
    name: z.string().nullish(),
    description: z.string().nullish(),
    format: z.object({ provider: z.string(), options: stringMap.default({}) }).loose(),
    schemaString: z.string(),
    partitionColumns: z.array(z.string()),
    configuration: nullableStringMap
      .default({})
      .transform(
        (c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null)) as Record<string, string>,
      ),
    createdTime: z.number().nullish(),
  })
  .loose()

const add = z
  .object({
    path: z.string().min(1),
    partitionValues: nullableStringMap.default({}),
    size: z.number(),
    modificationTime: z.number(),
    dataChange: z.boolean(),
    stats: z.string().nullish(),
    tags: stringMap.nullish(),
  })
  .loose()

const remove = z
  .object({
    path: z.string().min(1),
    dataChange: z.boolean().default(true),
    deletionTimestamp: z.number().nullish(),
    extendedFileMetadata: z.boolean().optional(),
    partitionValues: nullableStringMap.nullish(),
    size: z.number().nullish(),
    tags: stringMap.nullish(),
  })
  .loose()

const txn = z.object({ appId: z.string(), version: z.number(), lastUpdated: z.number().nullish() }).loose()

const commitInfo = z.record(z.string(), z.unknown())

const ACTION_SCHEMAS = { protocol, metaData, add, remove, txn, commitInfo } as const
type Kind = keyof typeof ACTION_SCHEMAS

const decoder = new TextDecoder()

/** Parses one commit file; `version` is only used in error messages. */
export function decodeCommit(bytes: Uint8Array, version: number): Action[] {
  const text = decoder.decode(bytes)
  const out: Action[] = []
  let lineNo = 0
  for (const line of text.split('\n')) {
    lineNo++
    if (line.trim() === '') continue
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (e) {
      throw corrupt(version, lineNo, `not JSON (${(e as Error).message})`, e)
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw corrupt(version, lineNo, 'not a JSON object')
    }
    for (const [key, value] of Object.entries(json)) {
      if (!(key in ACTION_SCHEMAS)) continue // unknown action kinds (cdc, domainMetadata, …) are ignored
      const r = ACTION_SCHEMAS[key as Kind].safeParse(value)
      if (!r.success) throw corrupt(version, lineNo, `invalid ${key}: ${r.error.message}`)
      out.push({ [key]: r.data } as Action)
    }
  }
  return out
}

export function encodeCommit(actions: readonly Action[]): Uint8Array {
  // Line by line into one growing buffer: an OPTIMIZE commit of 10,000 removes is ~13 MB, which
  // as line strings, their join and its encoding was held three times over.
  const out = new GrowableBytes()
  for (const a of actions) out.appendText(`${JSON.stringify(a)}\n`)
  if (actions.length === 0) out.appendText('\n') // as the joined form wrote it
  return out.finish()
}

const corrupt = (version: number, line: number, what: string, cause?: unknown): CryptoVizError =>
  new CryptoVizError('DELTA_LOG_CORRUPT', `commit ${version}, line ${line}: ${what}`, { cause })
