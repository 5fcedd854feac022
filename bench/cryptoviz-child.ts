/**
 * The real `cryptoviz start` as a child process for the end-to-end benchmarks (freshness, memory),
 * started the way the e2e tests start it, and probed through Linux's /proc for its memory and CPU.
 *
 * Invariants: the child binds to 127.0.0.1 on a free port and is always stopped (SIGTERM, then
 * SIGKILL after a grace period) by `stop`, which the caller runs in a `finally`.
 */
import { readFileSync } from 'node:fs'
import { CryptovizProcess } from '../test/harness/cryptoviz-process.ts'

export interface RunningChild {
  proc: CryptovizProcess
  pid: number
  url: string
  /** SIGTERM (graceful: flushes buffered quotes), SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>
}

/**
 * `nodeArgs`: options for `node` itself (e.g. V8 flags, which then win over the product's);
 * `env`: added to the child's environment.
 */
export async function startChild(
  args: readonly string[],
  nodeArgs: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<RunningChild> {
  const proc = new CryptovizProcess(
    [
      'start',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--source',
      'simulated',
      // An empty warehouse stays empty at start (no first-start history): figures stay comparable.
      '--seed-days',
      '0',
      // "CryptoViz is running" is an info line; flags win over a CRYPTOVIZ_LOG_LEVEL in the environment.
      '--log-level',
      'info',
      ...args,
    ],
    env,
    nodeArgs,
  )
  const pid = proc.child.pid
  const stop: RunningChild['stop'] = async (graceMs = 30_000) => {
    const started = performance.now()
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM')
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs)
      try {
        const exit = await proc.exited
        return { ...exit, ms: performance.now() - started }
      } finally {
        clearTimeout(timer)
      }
    }
    return { ...(await proc.exited), ms: 0 }
  }
  if (pid === undefined) throw new Error('cryptoviz start did not spawn')
  try {
    const running = await proc.waitForLog((l) => l.msg === 'CryptoViz is running', 60_000)
    return { proc, pid, url: running['url'] as string, stop }
  } catch (e) {
    await stop(1_000)
    throw e
  }
}

export interface ProcStatus {
  /** Resident set size now, MB (10^6 bytes, the unit of the targets). */
  rssMb: number
  /** Peak resident set size since the process started (VmHWM), MB. */
  peakRssMb: number
}

/** Memory of a live process from /proc/<pid>/status; undefined once it has exited. */
export function procStatus(pid: number): ProcStatus | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN)
  return { rssMb: (kb('VmRSS') * 1024) / 1e6, peakRssMb: (kb('VmHWM') * 1024) / 1e6 }
}

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after the command name (which may hold spaces) start at index 2 of `state`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  // USER_HZ is 100 on every Linux Node supports.
  return ticks / 100
}

/** GETs a JSON document from the child. */
export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
  return res.json()
}
