/**
 * Runs the real `cryptoviz` CLI as a child process (the same Node binary as the tests), captures
 * its structured logs, and waits for log events. Processes are killed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

export const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export class CryptovizProcess {
  readonly child: ChildProcess
  readonly logs: LogLine[] = []
  stderr = ''
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  /**
   * `nodeArgs`: options for `node` itself, before the entry point (e.g. V8 flags). `entry`: another
   * tree's `src/cli/main.ts` (benchmarks comparing builds); this tree's by default.
   */
  constructor(
    args: string[],
    env: Record<string, string> = {},
    nodeArgs: readonly string[] = [],
    entry: string = MAIN,
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
      // No first-start history unless a test asks for it (CRYPTOVIZ_SEED_DAYS): counts stay exact.
      env: { ...process.env, CRYPTOVIZ_SEED_DAYS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let buffered = ''
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        let parsed: LogLine
        try {
          parsed = JSON.parse(line) as LogLine
        } catch {
          continue
        }
        this.logs.push(parsed)
        for (const w of [...this.waiters]) {
          if (w.match(parsed)) {
            this.waiters.splice(this.waiters.indexOf(w), 1)
            w.resolve(parsed)
          }
        }
      }
    })
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
  }

  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`timed out waiting for a log line; stderr: ${this.stderr.slice(-2000)}`)),
        timeoutMs,
      )
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(t)
          resolve(l)
        },
      })
      void this.exited.then(({ code }) => {
        clearTimeout(t)
        reject(
          new Error(`cryptoviz exited (${code}) before the log line; stderr: ${this.stderr.slice(-2000)}`),
        )
      })
    })
  }
}

/** Starts `cryptoviz start` on a free port with a fresh warehouse; killed when the test ends. */
export async function startCryptoviz(
  t: TestContext,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ proc: CryptovizProcess; url: string; warehouse: string }> {
  const warehouse = mkdtempSync(join(tmpdir(), 'cryptoviz-e2e-'))
  const proc = new CryptovizProcess(['start', '--warehouse', warehouse, '--port', '0', ...args], {
    CRYPTOVIZ_LOG_LEVEL: 'info',
    // Tests never reach the internet: the live providers are opted into per test, with local URLs.
    CRYPTOVIZ_SOURCE: 'simulated',
    ...env,
  })
  t.after(() => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
  })
  const running = await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 20_000)
  return { proc, url: running['url'] as string, warehouse }
}

/** Runs a CLI command to completion and returns its output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Reads server-sent events from a URL until `count` events arrived or the timeout passed. */
export async function readSse(
  url: string,
  count: number,
  options: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<{ id: string | undefined; event: string | undefined; data: string }[]> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 15_000)
  const events: { id: string | undefined; event: string | undefined; data: string }[] = []
  try {
    const res = await fetch(url, { signal: controller.signal, headers: options.headers ?? {} })
    const decoder = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true })
      let sep
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep)
        buf = buf.slice(sep + 2)
        const fields = new Map<string, string>()
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const i = line.indexOf(':')
          if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trimStart())
        }
        if (fields.has('data')) {
          events.push({ id: fields.get('id'), event: fields.get('event'), data: fields.get('data')! })
          if (events.length >= count) return events
        }
      }
    }
  } catch (e) {
    if (!controller.signal.aborted) throw e
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return events
}
