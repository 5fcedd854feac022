/**
 * Node's `--test-global-setup` for the whole run (npm test passes
 * `--test-global-setup=test/global-setup.ts`): one real Kafka broker and one moto S3 server shared
 * by every test file (they use their own topics, groups and buckets). Their addresses reach the
 * test files' processes through `TEST_KAFKA_BOOTSTRAP` and `TEST_S3_ENDPOINT`; `globalTeardown`
 * runs even when tests fail. Their pids are printed, and recorded in `TEST_SERVER_PIDS_FILE` when
 * set, so .ci/run can kill them whatever happens to the runner.
 */
import { appendFileSync } from 'node:fs'
import { startKafka, type KafkaServer } from './harness/kafka-server.ts'
import { startMoto, type MotoServer } from './harness/moto-server.ts'

let kafka: KafkaServer | undefined
let moto: MotoServer | undefined

export async function globalSetup(): Promise<void> {
  const outsideBroker = process.env['TEST_KAFKA_BOOTSTRAP']
  const [k, m] = await Promise.all([outsideBroker ? undefined : startKafka(), startMoto()])
  kafka = k
  moto = m
  if (kafka) {
    process.env['TEST_KAFKA_BOOTSTRAP'] = kafka.bootstrap
    process.stderr.write(`test kafka broker ${kafka.bootstrap} pid ${kafka.pid}\n`)
  }
  process.env['TEST_S3_ENDPOINT'] = moto.endpoint
  process.env['TEST_S3_PID'] = String(moto.pid)
  process.stderr.write(`test s3 server (moto) ${moto.endpoint} pid ${moto.pid}\n`)
  const pidsFile = process.env['TEST_SERVER_PIDS_FILE']
  if (pidsFile) appendFileSync(pidsFile, `${moto.pid}\n`)
}

export async function globalTeardown(): Promise<void> {
  await Promise.all([kafka?.stop(), moto?.stop()])
}
