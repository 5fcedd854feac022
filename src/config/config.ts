/**
 * Builds the one validated, frozen configuration from defaults, an optional JSON config file, the
 * environment and CLI flags (in that order of precedence). Invalid input fails at start with a
 * `CONFIG_INVALID` error naming the bad field and where it came from.
 */
import { readFileSync } from 'node:fs'
import { CryptoVizError } from '../errors.ts'
import type { z } from 'zod'
import { SETTINGS, type Setting } from './settings.ts'

type SettingEntry = { key: string; schema: z.ZodType }

/** The settings below a key prefix, with the prefix removed (`sources.coingecko.plan` under `sources`). */
type Below<E extends SettingEntry, H extends string> = E extends {
  key: `${H}.${infer Rest}`
  schema: infer S
}
  ? { key: Rest; schema: S }
  : never

/** The first part of a dotted key. */
type HeadOf<K extends string> = K extends `${infer Head}.${string}` ? Head : never

/**
 * The configuration as a nested object, derived from SETTINGS: a setting keyed `a.b` is `config.a.b`,
 * typed by its schema's output; an optional schema makes an optional field.
 */
type ConfigTree<E extends SettingEntry> = {
  [
    P in E as P['key'] extends `${string}.${string}`
      ? never
      : undefined extends z.output<P['schema']>
        ? never
        : P['key']
  ]: z.output<P['schema']>
} & {
  [
    P in E as P['key'] extends `${string}.${string}`
      ? never
      : undefined extends z.output<P['schema']>
        ? P['key']
        : never
  ]?: Exclude<z.output<P['schema']>, undefined>
} & {
  [H in HeadOf<E['key']>]: ConfigTree<Below<E, H>>
}

/** The validated configuration (see SETTINGS for each field's meaning, default and origin). */
export type Config = ConfigTree<(typeof SETTINGS)[number]>

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
  boundBuffersByMemory(out)
  // `out` holds each setting's parsed value at its key, which is what `Config` derives from SETTINGS.
  return deepFreeze(out as Config)
}

/**
 * Most bytes (as received) and quotes a processor may buffer per MiB of `memoryLimitMb`. A held
 * quote is ~130 B of column chunks, its message ~330 B while its fetch response lives; at a 400
 * MiB bound these give the default bounds (48 MiB, 200,000 quotes), which drained at 319–361 MB
 * peak RSS (docs/benchmarks.md, Kafka ingest, night round 2).
 */
const BUFFER_BYTES_PER_MB = 131_072
const BUFFER_ROWS_PER_MB = 512

/**
 * With a memory bound, the processor's buffers and micro-batches are capped to fit in it (1/8 of
 * the bound as received bytes, 512 quotes per MiB); values set smaller stay as they are.
 */
function boundBuffersByMemory(out: Record<string, unknown>): void {
  const limit = out['memoryLimitMb']
  const p = out['processor'] as Record<string, number> | undefined
  if (typeof limit !== 'number' || limit <= 0 || p === undefined) return
  p['maxBufferBytes'] = Math.min(p['maxBufferBytes']!, limit * BUFFER_BYTES_PER_MB)
  p['maxBufferRows'] = Math.min(p['maxBufferRows']!, limit * BUFFER_ROWS_PER_MB)
  p['flushMaxBytes'] = Math.min(p['flushMaxBytes']!, p['maxBufferBytes'])
  p['flushMaxRows'] = Math.min(p['flushMaxRows']!, p['maxBufferRows'])
}

function deepFreeze<T>(o: T): Readonly<T> {
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
