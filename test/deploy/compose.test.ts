/**
 * Docker is not on this machine, so the compose file cannot run here; instead every command,
 * flag and variable in it is checked against what the product accepts, and `node` (never npm or
 * npx, which do not forward SIGTERM) must be what each container runs.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { ROLE_COMMANDS, roleHelp, type RoleCommand } from '../../src/cli/roles.ts'
import { loadConfig } from '../../src/config/config.ts'
import { REPO_ROOT } from '../harness/python.ts'

interface Service {
  build?: unknown
  image?: string
  command?: string[]
  entrypoint?: unknown
  environment?: Record<string, string>
}

const compose = parse(readFileSync(join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>
}
const AWS_CHAIN = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3'])
const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8')

test('the image runs node on the entry point directly (exec form), never npm or npx', () => {
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)
  assert.ok(entrypoint, 'an exec-form ENTRYPOINT')
  const argv = JSON.parse(entrypoint[1]!) as string[]
  // node, then the entry point (which restarts itself with the V8 flags of src/cli/node-flags.ts).
  assert.deepEqual(argv, ['node', 'src/cli/main.ts'])
  assert.ok(existsSync(join(REPO_ROOT, argv.at(-1)!)))
  assert.doesNotMatch(
    dockerfile.replace(/^(RUN|#).*$/gm, ''),
    /\bnp[mx]\b/,
    'npm only to install, at build time',
  )
})

test('the compose file has Redpanda, MinIO, one collector, two processors and one API server', () => {
  const roles = Object.values(compose.services).map((s) =>
    s.build ? s.command?.[0] : s.image?.split('/').pop()?.split(':')[0],
  )
  assert.deepEqual(roles.sort(), ['collect', 'mc', 'minio', 'process', 'process', 'redpanda', 'serve'])
})

test('every CryptoViz command, flag and variable in the compose file is one the product accepts', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.build) continue
    assert.equal(service.entrypoint, undefined, `${name} keeps the image's node entry point`)
    const [command, ...args] = service.command ?? []
    assert.ok(command !== undefined && command in ROLE_COMMANDS, `${name}: ${command} is a role command`)
    const help = roleHelp(command as RoleCommand)
    const flags: Record<string, string> = {}
    for (let i = 0; i < args.length; i += 2) {
      const flag = args[i]!
      assert.match(flag, /^--[a-z-]+$/, `${name}: ${flag} is a flag`)
      assert.ok(help.includes(`${flag} `), `${name}: ${command} accepts ${flag}`)
      flags[flag.slice(2)] = args[i + 1]!
    }
    const env = service.environment ?? {}
    for (const key of Object.keys(env)) {
      // AWS_* are the standard AWS chain, read by the S3 client rather than by a CryptoViz flag.
      if (AWS_CHAIN.has(key)) continue
      assert.ok(help.includes(` ${key}`), `${name}: ${command} reads ${key}`)
    }
    // The values are valid too: the configuration loads as the container would load it.
    const config = loadConfig({ flags, env })
    if (command !== 'serve') assert.ok(config.bus.broker, `${name}: ${command} has a broker`)
    for (const v of [...args, ...Object.values(env)]) assert.doesNotMatch(String(v), /\bnp[mx]\b/)
  }
})

test('no password is written in the compose file: secrets come from the environment', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/PASSWORD|SECRET|_KEY$/.test(key)) {
        assert.match(String(value), /^\$\{[A-Z_]+:\?[^}]+\}$/, `${name}: ${key} comes from the environment`)
      }
    }
  }
})

test('the processors and the API server share one s3:// warehouse on MinIO', () => {
  const warehouses = Object.values(compose.services)
    .filter((s) => s.build && s.command?.[0] !== 'collect')
    .map((s) => s.environment?.['CRYPTOVIZ_WAREHOUSE'])
  assert.deepEqual(warehouses, [
    's3://cryptoviz/warehouse',
    's3://cryptoviz/warehouse',
    's3://cryptoviz/warehouse',
  ])
})

test('the README never suggests npx for a long-running command', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  assert.doesNotMatch(readme, /npx cryptoviz (start|collect|process|serve)\b/)
})
