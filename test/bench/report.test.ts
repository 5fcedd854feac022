import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatMarkdown, formatTable, percentile, ratio, summarize } from '../../bench/report.ts'
import { targetsTable } from '../../bench/targets.ts'

test('percentile interpolates linearly between the closest ranks', () => {
  assert.equal(percentile([10, 20, 30, 40], 50), 25)
  assert.equal(percentile([5], 95), 5)
  assert.equal(
    percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 95),
    20,
  )
  assert.ok(Number.isNaN(percentile([], 50)))
})

test('summarize reports median and p95 whatever the input order', () => {
  const s = summarize([9, 1, 5, 3, 7])
  assert.deepEqual(s, { n: 5, median: 5, p95: 8.6, min: 1, max: 9 })
})

test('ratio is null when a side was not measured or the baseline is zero', () => {
  assert.equal(ratio(1, 4), 0.25)
  assert.equal(ratio(null, 4), null)
  assert.equal(ratio(1, 0), null)
  assert.equal(ratio(1, Number.NaN), null)
})

test('formatTable right-aligns numeric columns and prints missing values as a dash', () => {
  const text = formatTable({
    title: 'T',
    columns: ['name', 'value'],
    rows: [
      ['a', 1.23456],
      ['bb', null],
      ['c', 123_456],
    ],
    notes: ['a note'],
  })
  assert.equal(
    text,
    [
      'T',
      'name    value',
      '----  -------',
      'a        1.23',
      'bb          —',
      'c     123,456',
      '  · a note',
    ].join('\n'),
  )
})

test('formatMarkdown escapes pipes and marks numeric columns right-aligned', () => {
  const md = formatMarkdown({ title: 'a|b', columns: ['k', 'v'], rows: [['x|y', 2]], notes: [] })
  assert.equal(md, ['**a\\|b**', '', '| k | v |', '|---|---:|', '| x\\|y | 2 |'].join('\n'))
})

test('a target is "not shown" when memory is low only because the rate was not reached', () => {
  const rows = targetsTable({
    embedded_peak_rss_mb: 300,
    embedded_received_quotes_per_s: 40_000,
    embedded_requested_quotes_per_s: 100_000,
  }).rows
  const memory = rows.find((r) => String(r[0]).startsWith('embedded RSS'))
  assert.deepEqual(memory, [
    'embedded RSS ≤ 400 MB at 100k quotes/s',
    'peak 300 MB at 40,000 quotes/s achieved',
    'not shown',
  ])
  const ingest = rows.find((r) => String(r[0]).startsWith('ingest'))
  assert.equal(ingest?.[2], 'not measured')
})
