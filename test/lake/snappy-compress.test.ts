/**
 * The reused-buffer Snappy compressor (snappy-compress.ts) writes exactly what hyparquet-writer's
 * `snappyCompress` writes, and its output decompresses to the input, for empty, tiny,
 * incompressible, repetitive and text-like inputs, one compressor reused across all of them.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { snappyUncompress } from 'hyparquet/src/snappy.js'
import { snappyCompress } from 'hyparquet-writer/src/snappy.js'
import { SnappyCompressor } from '../../src/lake/snappy-compress.ts'

const text = (n: number): Uint8Array => {
  const parts: string[] = []
  for (let i = 0, length = 0; length < n; i++) {
    parts.push(`{"numRecords":${i},"minValues":{"price":${i * 1.5}}}`)
    length += parts.at(-1)!.length
  }
  return new TextEncoder().encode(parts.join('').slice(0, n))
}

test('the reused-buffer compressor writes the bytes hyparquet-writer writes, and they decompress to the input', () => {
  const compressor = new SnappyCompressor()
  const inputs = [
    new Uint8Array(0),
    new Uint8Array([7]),
    randomBytes(14),
    randomBytes(15),
    randomBytes(100),
    new Uint8Array(70_000).fill(3),
    randomBytes(300_000),
    text(61),
    text(5_000),
    text(1_500_000),
    Buffer.concat([randomBytes(70_000), text(200_000), randomBytes(10)]),
  ]
  // Twice: a smaller input after a larger one must not see the larger one's leftovers.
  for (const input of [...inputs, ...inputs.slice().reverse()]) {
    const ours = compressor.compress(input).slice()
    assert.ok(Buffer.from(ours).equals(snappyCompress(input)), `${input.length} bytes`)
    const back = new Uint8Array(input.length)
    snappyUncompress(ours, back)
    assert.ok(Buffer.from(back).equals(input), `${input.length} bytes round trip`)
  }
})
