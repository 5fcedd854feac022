import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, redactedConfig, settingsMarkdown } from '../../src/config/config.ts'
import { isCryptoVizError } from '../../src/errors.ts'
import { readFileSync } from 'node:fs'

test('defaults serve the embedded mode', () => {
  const c = loadConfig()
  assert.equal(c.port, 8501)
  assert.equal(c.warehouse, './warehouse')
  assert.equal(c.processor.flushIntervalMs, 30_000)
  assert.equal(c.source, 'auto')
})

test('flags override environment, which overrides the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cv-config-'))
  const file = join(dir, 'c.json')
  writeFileSync(file, JSON.stringify({ port: 9000, simulator: { assets: 7 }, warehouse: '/from-file' }))
  const c = loadConfig({
    flags: { config: file, port: '9100' },
    env: { CRYPTOVIZ_PORT: '9200', CRYPTOVIZ_WAREHOUSE: '/from-env' },
  })
  assert.equal(c.port, 9100)
  assert.equal(c.warehouse, '/from-env')
  assert.equal(c.simulator.assets, 7)
})

test('an invalid value fails at start naming the field and its origin', () => {
  assert.throws(
    () => loadConfig({ env: { CRYPTOVIZ_PORT: 'eighty' } }),
    (e: unknown) =>
      isCryptoVizError(e, 'CONFIG_INVALID') && /port/.test(e.message) && /CRYPTOVIZ_PORT/.test(e.message),
  )
  assert.throws(
    () => loadConfig({ flags: { source: 'bloomberg' } }),
    (e: unknown) => isCryptoVizError(e, 'CONFIG_INVALID') && /source/.test(e.message),
  )
})

test('a config file that is not JSON is refused with its path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cv-config-'))
  const file = join(dir, 'bad.json')
  writeFileSync(file, '{ nope')
  assert.throws(
    () => loadConfig({ flags: { config: file } }),
    (e: unknown) => isCryptoVizError(e, 'CONFIG_INVALID') && e.message.includes(file),
  )
})

test('secrets never appear in the redacted configuration or in error messages', () => {
  const c = loadConfig({ env: { CRYPTOVIZ_CMC_API_KEY: 'super-secret-key' } })
  assert.equal(c.sources.coinmarketcap.apiKey, 'super-secret-key')
  assert.doesNotMatch(JSON.stringify(redactedConfig(c)), /super-secret-key/)
  assert.throws(
    () => loadConfig({ env: { CRYPTOVIZ_COINGECKO_API_KEY: '', CRYPTOVIZ_COINGECKO_BASE_URL: 'not a url' } }),
    (e: unknown) => isCryptoVizError(e) && !/super-secret/.test(e.message),
  )
})

test('the configuration is frozen', () => {
  const c = loadConfig()
  assert.throws(() => {
    ;(c as { port: number }).port = 1
  })
})

test('the README configuration table matches the settings', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  assert.ok(
    readme.includes(settingsMarkdown()),
    'README.md must contain the output of `cryptoviz config --markdown`',
  )
})

test('a memory bound caps the processor buffers and batches to fit, keeping smaller values', () => {
  const unbounded = loadConfig({})
  assert.equal(unbounded.memoryLimitMb, 0)
  assert.equal(unbounded.processor.maxBufferRows, 200_000)
  const bounded = loadConfig({ env: { CRYPTOVIZ_MEMORY_LIMIT_MB: '200', CRYPTOVIZ_FLUSH_MAX_ROWS: '1000' } })
  assert.equal(bounded.processor.maxBufferBytes, 200 * 131_072)
  assert.equal(bounded.processor.flushMaxBytes, 200 * 131_072)
  assert.equal(bounded.processor.maxBufferRows, 200 * 512)
  assert.equal(bounded.processor.flushMaxRows, 1000)
  const byFlag = loadConfig({ flags: { 'memory-limit-mb': '4000' } })
  assert.equal(byFlag.processor.maxBufferRows, 200_000, 'a large bound leaves the defaults')
})
