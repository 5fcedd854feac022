/**
 * Fetches and caches what the integration suites need, under .cache/ (git-ignored), so reruns
 * are fast. Each step says exactly what to install when a system prerequisite is missing.
 */
import { ensureChromium } from '../test/harness/chromium.ts'
import { ensureKafkaJars, kafkaLibs } from '../test/harness/kafka-server.ts'
import { ensureMotoEnv, MOTO_VENV } from '../test/harness/moto-server.ts'
import { ensurePythonEnv, PYTHON_REQUIREMENTS, VENV_DIR } from '../test/harness/python.ts'

try {
  const venv = await ensurePythonEnv()
  process.stdout.write(
    `delta-rs venv ${venv.created ? 'created' : 'reused'} at ${VENV_DIR} (${PYTHON_REQUIREMENTS.join(', ')}) in ${venv.seconds}s\n`,
  )
  const moto = await ensureMotoEnv()
  process.stdout.write(
    `moto venv ${moto.created ? 'created' : 'reused'} at ${MOTO_VENV.dir} (${MOTO_VENV.requirements.join(', ')}) in ${moto.seconds}s\n`,
  )
  const browser = await ensureChromium()
  process.stdout.write(
    `chromium ${browser.installed ? 'installed' : 'found'} at ${browser.path} in ${browser.seconds}s\n`,
  )
  const kafkaStarted = performance.now()
  const kafka = ensureKafkaJars()
  process.stdout.write(
    `kafka broker jars ${kafka.fetched ? 'fetched' : 'reused'} at ${kafkaLibs()} in ${((performance.now() - kafkaStarted) / 1000).toFixed(1)}s\n`,
  )
} catch (e) {
  process.stderr.write(`integration prerequisites: ${(e as Error).message}\n`)
  process.exit(1)
}
