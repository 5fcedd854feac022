/**
 * `cryptoviz start | collect | process | serve`: run the pipeline's roles, and each command's
 * `--help` (its own flags and their CRYPTOVIZ_* variables; printing help never starts anything).
 */
import type { Logger } from 'pino'
import type { Config } from '../config/config.ts'
import { SETTINGS, type Setting } from '../config/settings.ts'
import { CryptoVizError } from '../errors.ts'
import type { Roles } from '../runtime/embedded.ts'

export type RoleCommand = 'start' | 'collect' | 'process' | 'serve'

const SOURCE_KEYS = /^(source|simulator\.|sources\.|collector\.)/
const PROCESS_KEYS = /^(warehouse|storage\.s3|processor\.|lake\.|bus\.group)/
const SERVE_KEYS = /^(warehouse|storage\.|host|port|api\.)/
const COMMON_KEYS = /^(logLevel|memoryLimitMb|bus\.(broker|topicPrefix|partitions|replication))/

export const ROLE_COMMANDS: Record<RoleCommand, { roles: Roles; summary: string; keys: RegExp[] }> = {
  start: {
    roles: { collect: true, process: true, serve: true, live: true },
    summary:
      'Run every role in one process: sources, processor, lake, HTTP API and live stream. In-process bus by default; Kafka / Redpanda with --broker.',
    keys: [SOURCE_KEYS, PROCESS_KEYS, SERVE_KEYS, COMMON_KEYS],
  },
  collect: {
    roles: { collect: true, process: false, serve: false, live: false },
    summary: 'Sources → the quotes topic. Needs --broker.',
    keys: [SOURCE_KEYS, COMMON_KEYS],
  },
  process: {
    roles: { collect: false, process: true, serve: true, live: false },
    summary:
      'A consumer-group member: the topics → the lake, exactly once. Needs --broker and --warehouse; serves /health, /stats and /metrics on --port.',
    keys: [PROCESS_KEYS, SERVE_KEYS, COMMON_KEYS],
  },
  serve: {
    roles: { collect: false, process: false, serve: true, live: true },
    summary:
      'HTTP API, dashboard and live stream over --warehouse. With --broker the live stream comes from the topic; without, the lake is served read-only.',
    keys: [SERVE_KEYS, COMMON_KEYS],
  },
}

export function roleHelp(command: RoleCommand): string {
  const spec = ROLE_COMMANDS[command]
  const settings = (SETTINGS as readonly Setting[]).filter((s) => spec.keys.some((k) => k.test(s.key)))
  const width = Math.max(...settings.map((s) => s.flag.length)) + 2
  const lines = settings.map(
    (s) =>
      `  --${s.flag.padEnd(width)} ${s.env}${s.default === undefined ? '' : ` (default ${String(s.default)})`}\n      ${s.description}`,
  )
  return [
    `Usage: cryptoviz ${command} [options]`,
    '',
    spec.summary,
    '',
    'Options (each also read from its environment variable):',
    ...lines,
    `  --config FILE  CRYPTOVIZ_CONFIG\n      JSON config file (keys as in \`cryptoviz config\`).`,
    '  -h, --help     This help; starts nothing.',
  ].join('\n')
}

/** Starts the roles of `command` and wires SIGINT/SIGTERM to a graceful stop. */
export async function runRoles(
  command: RoleCommand,
  config: Readonly<Config>,
  logger: Logger,
): Promise<void> {
  if ((command === 'collect' || command === 'process') && config.bus.broker === undefined) {
    throw new CryptoVizError(
      'CONFIG_INVALID',
      `${command} needs a broker: --broker HOST:PORT or CRYPTOVIZ_BROKER`,
      {
        kind: 'user',
      },
    )
  }
  const { startRoles } = await import('../runtime/embedded.ts')
  const running = await startRoles(config, logger, ROLE_COMMANDS[command].roles)
  let signals = 0
  const shutdown = (signal: string, code = 0): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(130)
    }
    logger.info({ signal }, 'shutting down: committing buffered quotes')
    running.stop().then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  void running.fatal.then((e) => {
    logger.fatal({ err: e }, `${e.code}: ${e.message}`)
    process.stderr.write(`cryptoviz: ${e.code}: ${e.message}\n`)
    shutdown('fatal', 3)
  })
}
