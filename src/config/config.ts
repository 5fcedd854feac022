/**
 * Builds the one validated, frozen configuration from defaults, an optional JSON config file, the
 * environment and CLI flags (in that order of precedence). Invalid input fails at start with a
 * `CONFIG_INVALID` error naming the bad field and where it came from.
 */
import { readFileSync } from 'node:fs'
import { CryptoVizError } from '../errors.ts'
import { SETTINGS, type Setting } from './settings.ts'

export interface Config {
  warehouse: string
  host: string
  port: number
  source: string
  simulator: { assets: number; seed: number; intervalMs: number }
  processor: { flushIntervalMs: number; flushMaxRows: number }
  lake: { compression: 'snappy' | 'zstd' }
  /** Automatic table maintenance (src/stream/maintenance.ts). */
  maintenance: {
    enabled: boolean
    intervalMs: number
    pastDayMinFiles: number
    currentDayMinFiles: number
    maxPartitionsPerRun: number
    pauseMs: number
    targetFileSizeBytes: number
    vacuum: boolean
  }
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  sources: {
    coingecko: { apiKey?: string; plan: 'public' | 'demo' | 'pro'; baseUrl?: string; intervalMs?: number }
    coinmarketcap: { apiKey?: string; baseUrl?: string; intervalMs?: number; dailyCreditBudget?: number }
  }
  api: {
    token?: string
    /** Comma-separated origins or `*`; CORS is off when absent. */
    corsOrigins?: string
    rateLimitPerSecond: number
    rateLimitBurst: number
    maxStreams: number
    sqlTimeoutMs: number
    bodyLimitBytes: number
  }
}

export interface ConfigInputs {
  /** Parsed CLI flags by flag name (`warehouse`, `sim-assets`, …). */
  flags?: Record<string, string | undefined>
  env?: Record<string, string | undefined>
  /** Path of a JSON config file; keys nest as in `Config` (`{"simulator":{"assets":50}}`). */
  configFile?: string
}

function getPath(obj: unknown, key: string): unknown {
  let cur = obj
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts.at(-1) as string] = value
}

function readConfigFile(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new CryptoVizError('CONFIG_INVALID', `cannot read config file ${path}: ${(e as Error).message}`, {
      kind: 'user',
      cause: e,
    })
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new CryptoVizError(
      'CONFIG_INVALID',
      `config file ${path} is not valid JSON: ${(e as Error).message}`,
      {
        kind: 'user',
        cause: e,
      },
    )
  }
}

export function loadConfig(inputs: ConfigInputs = {}): Readonly<Config> {
  const env = inputs.env ?? {}
  const flags = inputs.flags ?? {}
  const configFile = flags['config'] ?? env['CRYPTOVIZ_CONFIG'] ?? inputs.configFile
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile)
  const out: Record<string, unknown> = {}
  for (const setting of SETTINGS as readonly Setting[]) {
    const candidates: [string, unknown][] = [
      [`flag --${setting.flag}`, flags[setting.flag]],
      [`environment variable ${setting.env}`, env[setting.env]],
      [`config file key "${setting.key}"`, getPath(fromFile, setting.key)],
    ]
    const found = candidates.find(([, v]) => v !== undefined && v !== '')
    const [origin, raw] = found ?? ['default', setting.default]
    if (raw === undefined) continue
    const parsed = setting.schema.safeParse(raw)
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join('; ')
      throw new CryptoVizError(
        'CONFIG_INVALID',
        `invalid ${setting.key} (from ${origin}): ${why}; got ${setting.secret ? '<secret>' : JSON.stringify(raw)}`,
        { kind: 'user', details: { field: setting.key, origin } },
      )
    }
    setPath(out, setting.key, parsed.data)
  }
  return deepFreeze(out) as unknown as Readonly<Config>
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

/** The configuration with secrets masked, safe to log or serve. */
export function redactedConfig(config: Readonly<Config>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const setting of SETTINGS as readonly Setting[]) {
    const v = getPath(config, setting.key)
    if (v !== undefined) setPath(out, setting.key, setting.secret ? '<set>' : v)
  }
  return out
}

/** The README configuration table. */
export function settingsMarkdown(): string {
  const rows = (SETTINGS as readonly Setting[]).map(
    (s) =>
      `| \`--${s.flag}\` | \`${s.env}\` | \`${s.key}\` | ${s.default === undefined ? '—' : `\`${String(s.default)}\``} | ${s.description} |`,
  )
  return [
    '| flag | environment | config file key | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}
