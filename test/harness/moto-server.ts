/**
 * A real S3-compatible server for the tests: moto (PyPI) in its own pinned venv under
 * `.cache/moto-5.2.5`, started on 127.0.0.1 and a free port through moto_atomic_server.py (moto's own
 * server, with conditional writes serialised: plain moto checks and writes without a lock, so
 * under load two conditional PUTs of one key could both win, which real S3 never allows). moto keeps
 * its state in memory and implements conditional writes (`If-None-Match: *` → 412), ranges and
 * `StartAfter` like S3 (measured in ../shared/docs/test-servers.md).
 *
 * One server per test run is started by test/global-setup.ts, which exports its endpoint as
 * `TEST_S3_ENDPOINT`; tests create their own bucket (`freshBucket`) so they never share state.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { createS3Client, S3Store } from '../../src/storage/s3-store.ts'
import { ensureVenv, REPO_ROOT, venvPython, type VenvSpec } from './python.ts'

export const MOTO_VENV: VenvSpec = {
  dir: join(REPO_ROOT, '.cache', 'moto-5.2.5'),
  requirements: ['moto[s3]==5.2.5', 'flask==3.1.3', 'flask-cors==6.0.5'],
}

/** moto accepts any credentials; these are dummies, not secrets. */
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

export interface MotoServer {
  endpoint: string
  pid: number
  child: ChildProcess
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

export async function ensureMotoEnv(): ReturnType<typeof ensureVenv> {
  return ensureVenv(MOTO_VENV)
}

const ATOMIC_SERVER = join(REPO_ROOT, 'test', 'harness', 'moto_atomic_server.py')

/** Starts moto on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<MotoServer> {
  await ensureMotoEnv()
  const dir = await mkdtemp(join(tmpdir(), 'cryptoviz-moto-'))
  const logPath = join(dir, 'moto.log')
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const log = await open(logPath, 'w')
    const child = spawn(venvPython(MOTO_VENV), [ATOMIC_SERVER, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', log.fd, log.fd],
    })
    await log.close()
    let exited = false
    child.once('exit', () => (exited = true))
    const deadline = Date.now() + 60_000
    while (!exited && Date.now() < deadline && !(await portOpen(port))) await sleep(50)
    if (!exited && Date.now() < deadline) {
      const endpoint = `http://127.0.0.1:${port}`
      return {
        endpoint,
        pid: child.pid!,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child.once('exit', r))
            child.kill('SIGKILL')
            await gone
          }
          await rm(dir, { recursive: true, force: true })
        },
      }
    }
    child.kill('SIGKILL')
    const tail = (await readFile(logPath, 'utf8').catch(() => '')).slice(-2000)
    if (attempt >= 2) throw new Error(`moto did not start on port ${port}:\n${tail}`)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The moto endpoint of this test run (set by test/global-setup.ts). */
export function testS3Endpoint(): string {
  const endpoint = process.env.TEST_S3_ENDPOINT
  if (endpoint === undefined || endpoint === '') {
    throw new Error(
      'TEST_S3_ENDPOINT is not set: run the tests with --test-global-setup=test/global-setup.ts (npm test does)',
    )
  }
  return endpoint
}

export function motoClient(
  endpoint = testS3Endpoint(),
  o: { maxAttempts?: number; requestTimeoutMs?: number } = {},
): S3Client {
  return createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
    ...o,
  })
}

/** A new, empty bucket on the test server, and an S3Store rooted at `prefix` in it. */
export async function freshBucket(
  o: { endpoint?: string; prefix?: string; client?: S3Client } = {},
): Promise<{ store: S3Store; bucket: string; client: S3Client; endpoint: string }> {
  const endpoint = o.endpoint ?? testS3Endpoint()
  const client = o.client ?? motoClient(endpoint)
  const bucket = `test-${randomUUID()}`
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  return { store: new S3Store({ client, bucket, prefix: o.prefix ?? '' }), bucket, client, endpoint }
}
