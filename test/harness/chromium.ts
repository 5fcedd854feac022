/**
 * A real browser for the dashboard tests: Debian's chromium driven by playwright-core (which
 * brings no browser of its own). `ensureChromium` installs the Debian package when it is missing
 * and we are root; `scripts/prepare-integration.ts` calls it before the test run, so tests only
 * find it there.
 *
 * The launch flags keep chromium from reaching for the network on its own (component updates,
 * sync, QUIC probes): this machine is offline and those attempts cost seconds per launch.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const INSTALL_HINT = "install Debian's chromium: apt-get install chromium"

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const

/** Runs a command with its output shown (apt's progress), resolving to its exit code. */
function runVisible(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    child.on('error', () => resolve(null))
    child.on('exit', (code) => resolve(code))
  })
}

export interface EnsureChromiumResult {
  path: string
  installed: boolean // true when this call installed it
  seconds: number
}

/** Makes sure `/usr/bin/chromium` exists, installing Debian's package as root if needed. */
export async function ensureChromium(): Promise<EnsureChromiumResult> {
  const started = performance.now()
  const seconds = (): number => Math.round((performance.now() - started) / 100) / 10
  if (existsSync(CHROMIUM)) return { path: CHROMIUM, installed: false, seconds: seconds() }
  if (process.getuid?.() !== 0) throw new Error(INSTALL_HINT)
  process.stdout.write(`${CHROMIUM} is missing: installing Debian's chromium with apt-get\n`)
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    process.stdout.write(`$ apt-get ${args.join(' ')}\n`)
    const code = await runVisible('apt-get', args)
    if (code !== 0) throw new Error(INSTALL_HINT, { cause: new Error(`apt-get ${args[0]} exited ${code}`) })
  }
  if (!existsSync(CHROMIUM))
    throw new Error(INSTALL_HINT, { cause: new Error(`no ${CHROMIUM} after apt-get`) })
  return { path: CHROMIUM, installed: true, seconds: seconds() }
}

/** A headless chromium; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  await ensureChromium()
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] })
}
