/**
 * Node's `--test-global-setup` for the whole run: one real Kafka broker shared by every test file
 * (they use their own topics and groups). Its address reaches the test files' processes through
 * `TEST_KAFKA_BOOTSTRAP`; `globalTeardown` runs even when tests fail. The broker's pid is printed,
 * and recorded in `TEST_SERVER_PIDS_FILE` when set, so .ci/run can kill it whatever happens.
 */
import { startKafka, type KafkaServer } from './harness/kafka-server.ts'

let kafka: KafkaServer | undefined

export async function globalSetup(): Promise<void> {
  if (process.env['TEST_KAFKA_BOOTSTRAP']) return // an outside broker was given
  kafka = await startKafka()
  process.env['TEST_KAFKA_BOOTSTRAP'] = kafka.bootstrap
  process.stderr.write(`test kafka broker ${kafka.bootstrap} pid ${kafka.pid}\n`)
}

export async function globalTeardown(): Promise<void> {
  await kafka?.stop()
}
