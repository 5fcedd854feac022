/**
 * One server-sent-events connection over a raw Node response.
 *
 * Invariants:
 * - Memory per client is bounded: a write is refused and the client dropped (socket destroyed,
 *   not ended, so the unsent buffer is freed at once) when more than `maxBufferedBytes` are still
 *   queued in user space. A stalled reader therefore costs at most that much plus one event and
 *   never slows the others: writes never wait on it.
 * - `event` and `id` never contain a line break (that would let data forge fields); `data` is
 *   split into one `data:` line per line, as the SSE format requires.
 * - After `close()` or a drop nothing more is written and `onClose` runs exactly once.
 */
import type { ServerResponse } from 'node:http'

export interface SseEvent {
  id?: number | string
  event?: string
  data: string
}

export interface SseConnectionOptions {
  maxBufferedBytes: number
  /** Called once when the connection ends, with why. */
  onClose: (reason: 'closed' | 'dropped' | 'server') => void
}

const LINE_BREAK = /[\r\n]/

export function formatSseEvent(e: SseEvent): string {
  if (e.event !== undefined && LINE_BREAK.test(e.event)) throw new Error('SSE event name has a line break')
  const id = e.id === undefined ? undefined : String(e.id)
  if (id !== undefined && (LINE_BREAK.test(id) || id.includes('\0')))
    throw new Error('SSE id has a line break')
  let out = id === undefined ? '' : `id: ${id}\n`
  if (e.event !== undefined) out += `event: ${e.event}\n`
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return `${out}\n`
}

export class SseConnection {
  private readonly res: ServerResponse
  private readonly options: SseConnectionOptions
  private closed = false

  constructor(res: ServerResponse, options: SseConnectionOptions) {
    this.res = res
    this.options = options
    res.on('close', () => this.finish('closed'))
    res.on('error', () => this.finish('closed'))
  }

  get isOpen(): boolean {
    return !this.closed
  }

  /** Bytes written but not yet accepted by the kernel. */
  get buffered(): number {
    return this.res.writableLength
  }

  /** Writes one event; false if the connection is closed or was just dropped for being slow. */
  send(event: SseEvent): boolean {
    return this.write(formatSseEvent(event))
  }

  /** A comment line (heartbeats): keeps proxies from timing the connection out. */
  comment(text: string): boolean {
    return this.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`)
  }

  write(chunk: string): boolean {
    if (this.closed) return false
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      this.finish('dropped')
      this.res.destroy()
      return false
    }
    this.res.write(chunk)
    return true
  }

  /** Ends the stream politely (server shutdown): what is buffered is still delivered. */
  end(): void {
    if (this.closed) return
    this.finish('server')
    this.res.end()
  }

  private finish(reason: 'closed' | 'dropped' | 'server'): void {
    if (this.closed) return
    this.closed = true
    this.options.onClose(reason)
  }
}
