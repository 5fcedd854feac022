import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pino } from 'pino'
import { fileStateStore } from '../../src/runtime/collector-state.ts'
import { DailyCreditBudget } from '../../src/sources/credit-budget.ts'

const DAY = 86_400_000
const silent = pino({ level: 'silent' })

test('the CoinMarketCap credit budget survives a collector restart, and resets the next UTC day', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'cryptoviz-state-')), 'collector.json')
  let now = Date.UTC(2025, 0, 10, 12)
  const first = new DailyCreditBudget('coinmarketcap', 10, () => now, fileStateStore(path, silent))
  first.record(6)
  assert.equal(first.used(), 6)
  // A crash and restart: a new process reads the file.
  const restarted = new DailyCreditBudget('coinmarketcap', 10, () => now, fileStateStore(path, silent))
  assert.equal(restarted.used(), 6, 'the spend of the day is remembered')
  assert.ok(restarted.refusal(5), 'so a crash loop cannot overspend')
  assert.equal(restarted.refusal(4), undefined)
  restarted.markExhausted()
  const again = new DailyCreditBudget('coinmarketcap', 10, () => now, fileStateStore(path, silent))
  assert.ok(again.refusal(0), 'the provider-reported exhaustion is remembered too')
  now += DAY
  const tomorrow = new DailyCreditBudget('coinmarketcap', 10, () => now, fileStateStore(path, silent))
  assert.equal(tomorrow.used(), 0)
  assert.equal(tomorrow.refusal(1), undefined)
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(path, 'utf8'))), ['coinmarketcap.credit_budget'])
})

test('an unreadable state file starts empty instead of failing the collector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-state-'))
  const path = join(dir, 'collector.json')
  writeFileSync(path, '{half')
  const budget = new DailyCreditBudget('coinmarketcap', 10, () => Date.now(), fileStateStore(path, silent))
  assert.equal(budget.used(), 0)
})
