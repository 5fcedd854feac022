/**
 * Fetches and caches what the integration suites need, under .cache/ (git-ignored), so reruns
 * are fast. Each step says exactly what to install when a system prerequisite is missing.
 */
process.stdout.write('integration prerequisites: nothing to prepare yet\n')
