/**
 * Human-readable log lines for `cryptoviz start` on a terminal: pino still builds the structured
 * record; this destination prints it as `12:04:05 INFO  processor  batch committed  version=5 rows=300`
 * instead of one JSON object. `auto` picks pretty on a TTY and JSON when piped, so scripts and log
 * collectors keep the structured stream.
 *
 * Invariant: a line that is not a JSON object (it cannot happen with pino, but a stray write
 * could) is passed through as it is, never dropped.
 */
import type { DestinationStream } from 'pino'

export type LogFormat = 'auto' | 'pretty' | 'json'

const LEVELS: Readonly<Record<number, { name: string; color: number }>> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 36 },
  30: { name: 'INFO ', color: 32 },
  40: { name: 'WARN ', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
}

/** Fields every pino record carries that the pretty line shows elsewhere or not at all. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'err'])

const paint = (color: boolean, code: number, text: string): string =>
  color ? `\u001b[${code}m${text}\u001b[0m` : text

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v
  return JSON.stringify(v) ?? String(v)
}

/** One pino JSON record as a readable line (no trailing newline). */
export function prettyLine(json: string, color = false): string {
  let record: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(json)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return json
    record = parsed as Record<string, unknown>
  } catch {
    return json
  }
  const level = LEVELS[Number(record['level'])] ?? { name: String(record['level']).padEnd(5), color: 0 }
  const time = new Date(Number(record['time'])).toISOString().slice(11, 19)
  const component = typeof record['component'] === 'string' ? `${record['component']} ` : ''
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ')
  let line =
    `${paint(color, 90, time)} ${paint(color, level.color, level.name)} ` +
    `${paint(color, 36, component)}${String(record['msg'] ?? '')}` +
    (fields === '' ? '' : `  ${paint(color, 90, fields)}`)
  const err = record['err'] as { message?: unknown; stack?: unknown } | undefined
  if (err !== undefined) line += `\n  ${paint(color, 31, String(err.stack ?? err.message ?? value(err)))}`
  return line
}

/** Whether `format` means pretty lines on this output. */
export function isPretty(format: LogFormat, isTty: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTty)
}

/** A pino destination writing pretty lines to `out`, with ANSI colours when `color`. */
export function prettyDestination(out: NodeJS.WritableStream, color: boolean): DestinationStream {
  let pending = ''
  return {
    write(chunk: string): void {
      pending += chunk
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        out.write(`${prettyLine(pending.slice(0, nl), color)}\n`)
        pending = pending.slice(nl + 1)
      }
    },
  }
}
