/**
 * A Python virtual environment with delta-rs (`deltalake`), pyarrow and pandas, so tests can ask
 * another Delta engine what it reads. The venv lives at `.cache/venv` (git-ignored) and is reused
 * while its recorded requirements match `PYTHON_REQUIREMENTS`; `scripts/prepare-integration.ts`
 * creates it before the test run so tests themselves start fast.
 *
 * Invariants: versions are pinned exactly (the interop tests assert agreement with one known
 * delta-rs); a half-built venv is never reused (the marker file is written last); concurrent
 * callers serialise on a lock folder so two test files never build the venv at once.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const VENV_DIR = join(REPO_ROOT, '.cache', 'venv')

/** Exactly the versions the interop suites were verified with. */
export const PYTHON_REQUIREMENTS = [
  'deltalake==1.6.6',
  'pyarrow==26.0.1',
  'pandas==3.1.1',
  // DuckDB's own Delta reader (delta-kernel-rs); the wheel ships the extension signed by DuckDB,
  // so it loads with unsigned extensions disallowed and needs no download at run time.
  'duckdb==1.5.5',
  'duckdb-extension-delta==1.5.5',
  // Polars' scan_delta, a peer in the table-maintenance benchmark (bench/maintenance.ts).
  'polars==2.1.0',
] as const

/** A pinned venv under .cache/: its folder and exact requirements. */
export interface VenvSpec {
  dir: string
  requirements: readonly string[]
}

const DELTA_RS_VENV: VenvSpec = { dir: VENV_DIR, requirements: PYTHON_REQUIREMENTS }
const markerOf = (v: VenvSpec): string => join(v.dir, 'cryptoviz-requirements.txt')
const lockOf = (v: VenvSpec): string => `${v.dir}.lock`
/** A lock older than this was left by a killed process. */
const STALE_LOCK_MS = 10 * 60_000 // ten minutes
const INSTALL_HINT =
  'install Python 3.11+ with venv support, e.g. `apt-get install python3 python3-venv`, then rerun'

export const venvPython = (v: VenvSpec = DELTA_RS_VENV): string => join(v.dir, 'bin', 'python')

async function isReady(v: VenvSpec): Promise<boolean> {
  try {
    const recorded = await readFile(markerOf(v), 'utf8')
    return recorded.trim() === v.requirements.join('\n') && existsSync(venvPython(v))
  } catch {
    return false
  }
}

async function withLock<T>(LOCK: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(LOCK), { recursive: true })
  for (;;) {
    try {
      await mkdir(LOCK)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const s = await stat(LOCK).catch(() => undefined)
      if (s !== undefined && Date.now() - s.mtimeMs > STALE_LOCK_MS) await rmdir(LOCK).catch(() => undefined)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  try {
    return await fn()
  } finally {
    await rmdir(LOCK).catch(() => undefined)
  }
}

async function checkSystemPython(): Promise<void> {
  let version: string
  try {
    const { stdout } = await run('python3', [
      '-c',
      'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])',
    ])
    version = stdout.trim()
  } catch (e) {
    throw new Error(
      `python3 with the venv and ensurepip modules is required for the delta-rs interop tests: ${INSTALL_HINT} (${(e as Error).message.split('\n')[0]})`,
      { cause: e },
    )
  }
  const [major = 0, minor = 0] = version.split('.').map(Number)
  if (major < 3 || (major === 3 && minor < 11)) {
    throw new Error(`python3 is ${version}; pandas 3 needs Python 3.11 or newer: ${INSTALL_HINT}`)
  }
}

export interface EnsureResult {
  python: string
  created: boolean
  seconds: number
}

/** Creates the delta-rs venv with the pinned packages unless a matching one exists. */
export function ensurePythonEnv(): Promise<EnsureResult> {
  return ensureVenv(DELTA_RS_VENV)
}

/** Creates the venv `v` with its pinned packages unless a matching one exists. */
export async function ensureVenv(v: VenvSpec): Promise<EnsureResult> {
  const started = performance.now()
  const seconds = () => Math.round((performance.now() - started) / 100) / 10
  if (await isReady(v)) return { python: venvPython(v), created: false, seconds: seconds() }
  return withLock(lockOf(v), async () => {
    if (await isReady(v)) return { python: venvPython(v), created: false, seconds: seconds() }
    await checkSystemPython()
    await rm(v.dir, { recursive: true, force: true })
    try {
      await run('python3', ['-m', 'venv', v.dir])
      await run(
        venvPython(v),
        ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...v.requirements],
        {
          maxBuffer: 16 * 1024 * 1024,
        },
      )
    } catch (e) {
      const err = e as Error & { stderr?: string }
      throw new Error(
        `could not build ${v.dir} with ${v.requirements.join(' ')}: ${err.stderr || err.message}`,
        {
          cause: e,
        },
      )
    }
    await writeFile(markerOf(v), `${v.requirements.join('\n')}\n`)
    return { python: venvPython(v), created: true, seconds: seconds() }
  })
}

/**
 * Prepended to every script: `ARGS` holds the caller's arguments (passed as JSON on stdin) and
 * `emit(obj)` prints the one JSON result and ends the process. Integers beyond ±2^53 are emitted as strings so
 * JavaScript's JSON.parse cannot round them.
 */
const PRELUDE = `
import json, sys, math, os
ARGS = json.loads(sys.stdin.read() or 'null')
_SAFE = 2**53 - 1
def _plain(o):
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, int):
        return o if -_SAFE <= o <= _SAFE else str(o)
    if isinstance(o, float):
        return o if math.isfinite(o) else str(o)
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    return str(o)
def emit(obj):
    sys.stdout.write(json.dumps(_plain(obj)))
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: deltalake's runtime threads can abort the interpreter at normal shutdown.
    os._exit(0)
`

/** Runs `code` in the venv's Python and returns the value it `emit`s. */
export async function runPython<T = unknown>(code: string, args: unknown = null): Promise<T> {
  const { python } = await ensurePythonEnv()
  return new Promise<T>((resolvePromise, reject) => {
    const child = spawn(python, ['-c', `${PRELUDE}\n${code}`], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (status) => {
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      if (status !== 0) {
        reject(new Error(`python exited with ${status}:\n${stderr.slice(-4000)}`))
        return
      }
      try {
        resolvePromise(JSON.parse(stdout) as T)
      } catch (e) {
        reject(
          new Error(`python printed no JSON result: ${stdout.slice(0, 500)}\n${stderr.slice(-2000)}`, {
            cause: e,
          }),
        )
      }
    })
    child.stdin.end(JSON.stringify(args))
  })
}
