/**
 * A minimal server-sent-events client over `node:http` for stream tests: parses events and
 * comments as they arrive and lets a test wait for a number of events.
 */
import { get, type IncomingMessage } from 'node:http'

export interface SseEvent {
  id?: string
  event?: string
  data: string
}

export interface SseClient {
  response: IncomingMessage
  events: SseEvent[]
  comments: string[]
  /** Resolves when the server ends the stream or the socket closes. */
  ended: Promise<void>
  waitForEvents(n: number, timeoutMs?: number): Promise<void>
  close(): void
}

export function parseSseBlock(block: string): { event?: SseEvent; comments: string[] } {
  const comments: string[] = []
  const data: string[] = []
  let id: string | undefined
  let event: string | undefined
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comments.push(line.slice(1).trim())
    else if (line.startsWith('id: ')) id = line.slice(4)
    else if (line.startsWith('event: ')) event = line.slice(7)
    else if (line.startsWith('data: ')) data.push(line.slice(6))
  }
  if (data.length === 0) return { comments }
  return {
    event: { ...(id !== undefined && { id }), ...(event !== undefined && { event }), data: data.join('\n') },
    comments,
  }
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = get(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (response) => {
        const events: SseEvent[] = []
        const comments: string[] = []
        const waiters: { n: number; resolve: () => void }[] = []
        let buffer = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          buffer += chunk
          let end
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const parsed = parseSseBlock(buffer.slice(0, end))
            buffer = buffer.slice(end + 2)
            comments.push(...parsed.comments)
            if (parsed.event) events.push(parsed.event)
          }
          for (const w of [...waiters]) {
            if (events.length >= w.n) {
              waiters.splice(waiters.indexOf(w), 1)
              w.resolve()
            }
          }
        })
        const ended = new Promise<void>((done) => {
          response.on('end', done)
          response.on('close', done)
          response.on('error', () => done())
        })
        resolve({
          response,
          events,
          comments,
          ended,
          waitForEvents: (n, timeoutMs = 20_000) =>
            events.length >= n
              ? Promise.resolve()
              : new Promise<void>((done, fail) => {
                  const timer = setTimeout(
                    () => fail(new Error(`got ${events.length} of ${n} events in time`)),
                    timeoutMs,
                  )
                  waiters.push({
                    n,
                    resolve: () => {
                      clearTimeout(timer)
                      done()
                    },
                  })
                }),
          close: () => request.destroy(),
        })
      },
    )
    request.on('error', reject)
  })
}
