/**
 * Global setup of `node --test` (npm test passes `--test-global-setup=test/global-setup.ts`): one
 * moto S3 server for the whole run, its endpoint exported as `TEST_S3_ENDPOINT` to every test
 * file's process; stopped in `globalTeardown`, which runs even when tests fail.
 */
import { startMoto, type MotoServer } from './harness/moto-server.ts'

let moto: MotoServer | undefined

export async function globalSetup(): Promise<void> {
  moto = await startMoto()
  process.env.TEST_S3_ENDPOINT = moto.endpoint
  process.env.TEST_S3_PID = String(moto.pid)
}

export async function globalTeardown(): Promise<void> {
  await moto?.stop()
}
