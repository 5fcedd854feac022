/**
 * The V8 flags every CryptoViz process runs with, declared once, and how they are applied.
 *
 * Why: CryptoViz allocates much short-lived garbage (decoded checkpoint rows, Parquet columns,
 * buffered quotes). With Node's defaults the young generation grows to 2 × 64 MB semi-spaces and
 * the old generation grows by large steps, so a process holding 80 MB of live data peaks at
 * 600+ MB of RSS. Small semi-spaces, a heap that grows by 50% steps (after a full GC the next one
 * comes at 1.5 × the live data: 100% left `start` ~60 MB above that at its top ingest rate, see
 * docs/benchmarks.md "start's peak RSS"), and (with a memory bound) an old-space cap keep the
 * resident set near the live data.
 *
 * Native memory: glibc gives each thread that allocates its own malloc arena (up to 8 per core),
 * and freed memory stays in them; Node's and DuckDB's worker threads each hold one. The relaunch
 * sets `MALLOC_ARENA_MAX=2` (unless the environment already sets it), which keeps freed native
 * memory reusable across threads. Other C libraries ignore the variable.
 *
 * Module memory: the relaunch also points Node's compile cache at its default folder (unless the
 * environment sets or disables it), so the TypeScript stripper is loaded only while the cache is
 * cold (`COMPILE_CACHE_ENV`).
 *
 * How they take effect (measured on Node 24, see docs/benchmarks.md "Bounded memory"):
 * `--max-semi-space-size` and `--max-old-space-size` work on the command line and in
 * NODE_OPTIONS but not through `v8.setFlagsFromString` after start (the heap is already
 * configured); `--heap-growing-percent` is refused in NODE_OPTIONS. So a process started without
 * them replaces itself once, before doing anything, with `process.execve` (same PID: signals such
 * as SIGTERM reach the real process and its exit code is the exit code; the environment marker
 * stops a second relaunch). Where `execve` is unavailable (Windows) the process runs as started.
 *
 * Invariant: only `src/cli/main.ts` calls this, first thing, with its argv and environment.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../config/config.ts'

/** Set in the relaunched process's environment so it never relaunches again. */
export const RELAUNCHED_ENV = 'CRYPTOVIZ_NODE_FLAGS'

/** Young-generation semi-space size in MiB (Node 24's default grows to 64 on large machines). */
const SEMI_SPACE_MB = 4

/**
 * The `process` role's semi-space, MiB: a processor decodes ~1 KB of short-lived garbage per quote
 * (JSON text, parsed objects, the client's records), and with 4 MiB it scavenged every ~3,500
 * quotes. 8 MiB halves the scavenges for ~+10 MB of peak RSS; 16 gained a little more but cost
 * ~+60 MB (docs/benchmarks.md "Kafka ingest", follow-up of 2026-11-30).
 */
const PROCESS_SEMI_SPACE_MB = 8

/** Old-generation growth after a full GC, in percent of the live data. */
const HEAP_GROWING_PERCENT = 50

/**
 * The same for the batch commands whose bound is tightest (300 MB for `generate` and `optimize`
 * at 100,000 files): their live heap is the table's file list (~52 MB at 100,000 files), and 50%
 * headroom on top of it was what took `generate` to 294–310 MB on a quiet machine; 25% gave 281,
 * and `optimize` 272 instead of 292 (docs/benchmarks.md "Bounded memory", night follow-up). They
 * run to completion, so a few more full collections cost them seconds, never a live rate.
 */
const BATCH_HEAP_GROWING_PERCENT = 25
const BATCH_COMMANDS: ReadonlySet<string> = new Set(['generate', 'optimize'])

/** Environment the relaunched process gets, unless the caller's environment already sets it. */
export const NATIVE_MEMORY_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }

/**
 * Node's compile cache (Node's own default folder), which on Node 24 also keeps the type-stripped
 * source of every `.ts` module: a process started with a warm cache never loads the TypeScript
 * stripper, ~30 MB of resident memory that a process keeps for its whole life once loaded
 * (measured: Node with the lake's and `generate`'s modules 128 MB at rest, 99 MB from the cache).
 * The cache is keyed by each source's content, so an edited file is stripped again; the first
 * run after an install or upgrade fills it.
 */
export const COMPILE_CACHE_ENV: Readonly<Record<string, string>> = {
  NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache'),
}

/**
 * The relaunched process's environment: ours, then the caller's (which wins); no compile cache
 * when the caller turned it off with `NODE_DISABLE_COMPILE_CACHE`.
 */
export function relaunchEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const cache = env['NODE_DISABLE_COMPILE_CACHE'] === undefined ? COMPILE_CACHE_ENV : {}
  return { ...NATIVE_MEMORY_ENV, ...cache, ...env }
}

/**
 * The V8 flags for a process bounded to `memoryLimitMb` (0: unbounded) running `command`: the old
 * space gets 60% of the bound, the rest is left to the young generation, code, Node itself and
 * native buffers; the `process` role gets a larger young generation (`PROCESS_SEMI_SPACE_MB`),
 * `generate` and `optimize` a smaller heap growth step (`BATCH_HEAP_GROWING_PERCENT`).
 */
export function nodeFlags(memoryLimitMb: number, command?: string): string[] {
  const semiSpace = command === 'process' ? PROCESS_SEMI_SPACE_MB : SEMI_SPACE_MB
  const growing =
    command !== undefined && BATCH_COMMANDS.has(command) ? BATCH_HEAP_GROWING_PERCENT : HEAP_GROWING_PERCENT
  const flags = [`--max-semi-space-size=${semiSpace}`, `--heap-growing-percent=${growing}`]
  if (memoryLimitMb > 0) flags.push(`--max-old-space-size=${Math.max(64, Math.round(memoryLimitMb * 0.6))}`)
  return flags
}

/** The flag's value in `argv` (`--name value` or `--name=value`). */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === `--${name}`) return argv[i + 1]
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3)
  }
  return undefined
}

/** The memory bound the command line, environment or config file asks for; 0 when unreadable. */
export function memoryLimitOf(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const flags: Record<string, string | undefined> = {
    'memory-limit-mb': flagValue(argv, 'memory-limit-mb'),
    config: flagValue(argv, 'config'),
  }
  try {
    return loadConfig({ flags, env }).memoryLimitMb
  } catch {
    return 0 // an invalid configuration is reported by the command itself, with its context
  }
}

/**
 * Replaces the current process with one running `nodeFlags(...)` unless it already does.
 * Returns only when no relaunch happens (already relaunched, flags given by hand, or no execve).
 */
export function relaunchWithNodeFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  execArgv: readonly string[],
): void {
  if (env[RELAUNCHED_ENV] !== undefined) return
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve
  if (typeof execve !== 'function' || process.platform === 'win32') return
  const wanted = nodeFlags(memoryLimitOf(argv.slice(2), env), argv[2])
  // Flags the caller already chose (e.g. an explicit --max-old-space-size) win over ours.
  const given = new Set(execArgv.map((f) => f.split('=')[0]))
  const missing = wanted.filter((f) => !given.has(f.split('=')[0]))
  if (missing.length === 0) return
  execve.call(process, process.execPath, [process.execPath, ...execArgv, ...missing, ...argv.slice(1)], {
    ...relaunchEnvironment(env),
    [RELAUNCHED_ENV]: missing.join(' '),
  })
}
