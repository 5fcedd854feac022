import assert from 'node:assert/strict'
import test from 'node:test'
import type { Action } from '../../src/lake/actions.ts'
import { decodeCommit, encodeCommit } from '../../src/lake/commit-file.ts'
import { GrowableBytes } from '../../src/lake/growable-bytes.ts'

test('a commit encoded line by line is byte for byte the joined text, unicode included', () => {
  const actions: Action[] = [
    { commitInfo: { timestamp: 1, operation: 'WRITE', note: 'é ✓ 𝄞 \u0000 "quoted"' } },
    ...Array.from({ length: 3000 }, (_, i): Action => ({
      add: {
        path: `crypto=${i % 2 ? 'b%C3%A9' : 'x'}/part-${i}.parquet`,
        partitionValues: { crypto: i % 2 ? 'bé' : 'x' },
        size: i,
        modificationTime: 1_700_000_000_000 + i,
        dataChange: true,
        stats: `{"numRecords":${i},"minValues":{"name":"𝄞${i}"}}`,
      },
    })),
    { remove: { path: 'gone.parquet', dataChange: true, deletionTimestamp: 9 } },
  ]
  const bytes = encodeCommit(actions)
  const joined = new TextEncoder().encode(`${actions.map((a) => JSON.stringify(a)).join('\n')}\n`)
  assert.deepEqual(bytes, joined)
  assert.equal(bytes.byteOffset, 0)
  assert.equal(bytes.byteLength, bytes.buffer.byteLength)
  assert.equal((bytes.buffer as ArrayBuffer).resizable, false)
  assert.deepEqual(decodeCommit(bytes, 0).length, actions.length)
  assert.deepEqual(encodeCommit([]), new TextEncoder().encode('\n'))
})

test('growable bytes keep every appended byte in order across growth', () => {
  const sink = new GrowableBytes()
  const expected: number[] = []
  for (let i = 0; i < 500; i++) {
    const chunk = Uint8Array.from({ length: (i * 37) % 3001 }, (_, j) => (i + j) % 256)
    sink.append(chunk)
    expected.push(...chunk)
    sink.appendText('ü')
    expected.push(0xc3, 0xbc)
  }
  assert.equal(sink.byteLength, expected.length)
  assert.deepEqual(sink.finish(), Uint8Array.from(expected))
})
