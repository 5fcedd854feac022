/**
 * The collector's state file (`--collector-state`): what a collector must remember across
 * restarts, as one small JSON object. Every `set` rewrites it atomically (temp file + rename), so
 * a crash leaves the previous or the new content, never half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from 'pino'
import type { SourceStateStore } from '../sources/source-deps.ts'

export function fileStateStore(path: string, logger: Logger): SourceStateStore {
  let values: Record<string, unknown> = {}
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      values = parsed as Record<string, unknown>
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ err: e, path }, 'collector state unreadable; starting empty')
  }
  return {
    get: (key) => values[key],
    set: (key, value) => {
      values = { ...values, [key]: value }
      mkdirSync(dirname(path), { recursive: true })
      const tmp = `${path}.${process.pid}.tmp`
      writeFileSync(tmp, `${JSON.stringify(values, null, 2)}\n`)
      renameSync(tmp, path)
    },
  }
}
