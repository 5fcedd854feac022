import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ENGINE_INFO, VERSION } from '../../src/engine-info.ts'

test('the engine version written into commits and Parquet files is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  assert.equal(VERSION, pkg.version)
  assert.equal(ENGINE_INFO, `CryptoViz/${pkg.version}`)
})
