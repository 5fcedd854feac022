/**
 * Our record batches (record-batch.ts) read back by @platformatic/kafka's own batch reader, for
 * every codec: the same records, keys, values (null, empty, small, 64+ and 8 KiB+ values that
 * move, unicode), timestamps and offsets; the header fields Kafka checks; the CRC32C over
 * attributes..end (recomputed when the producer fields are stamped again); and a quote record
 * written in place holds `encodeQuote`'s bytes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  allowedCompressionsAlgorithms,
  crc32c,
  readRecordsBatch,
  Reader,
  type CompressionAlgorithmValue,
} from '@platformatic/kafka'
import { encodeQuote, QuoteValue, type AssetFieldsSlot } from '../../src/bus/quote-message.ts'
import { BATCH_ATTRIBUTES } from '../../src/bus/record-batch-layout.ts'
import {
  nextSequence,
  RecordBatchWriter,
  stampProducer,
  varIntSize,
  writeVarInt,
} from '../../src/bus/record-batch.ts'
import { mulberry32 } from '../../src/sources/mulberry32.ts'
import { simulatedTicks } from '../harness/kafka.ts'

const random = mulberry32(12_01)

function valueOf(i: number): Buffer | null {
  switch (i % 7) {
    case 0:
      return null
    case 1:
      return Buffer.alloc(0)
    case 2:
      return Buffer.from(`v${i}`)
    case 3:
      return Buffer.from('é'.repeat(40 + (i % 50)))
    case 4:
      return Buffer.alloc(8_192 + (i % 300), i % 251)
    case 5:
      return Buffer.alloc(70_000, 7)
    default:
      return Buffer.from(JSON.stringify({ i, r: random() }))
  }
}

const read = (bytes: Buffer) => readRecordsBatch(Reader.from(bytes))

for (const codec of allowedCompressionsAlgorithms as CompressionAlgorithmValue[]) {
  test(`a ${codec} batch is read back by the client's reader: records, keys, values, timestamps, header and CRC`, () => {
    const writer = new RecordBatchWriter(128)
    const sent: Array<{ key: Buffer | null; value: Buffer | null; ts: number }> = []
    const base = 1_764_000_000_000
    for (let i = 0; i < 300; i++) {
      const key = i % 5 === 0 ? null : Buffer.from(`key-${i}`)
      const value = valueOf(i)
      const ts = base + Math.floor(random() * 2_000) - 500
      writer.append(key, value, ts)
      sent.push({ key, value, ts })
    }
    const sealed = writer.seal(codec)
    stampProducer(sealed.bytes, { producerId: 4242n, producerEpoch: 3, baseSequence: 2_147_483_600 })
    const batch = read(sealed.bytes)
    assert.equal(batch.magic, 2)
    assert.equal(batch.firstOffset, 0n)
    assert.equal(batch.length, sealed.bytes.length - 12)
    assert.equal(batch.partitionLeaderEpoch, -1)
    assert.equal(
      batch.attributes & 0b111,
      codec === 'none' ? 0 : { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec],
    )
    assert.equal(batch.lastOffsetDelta, 299)
    assert.equal(batch.producerId, 4242n)
    assert.equal(batch.producerEpoch, 3)
    assert.equal(batch.firstSequence, 2_147_483_600)
    assert.equal(batch.firstTimestamp, BigInt(sent[0]!.ts))
    assert.equal(batch.maxTimestamp, BigInt(Math.max(...sent.map((s) => s.ts))))
    assert.equal(batch.crc, crc32c(sealed.bytes.subarray(BATCH_ATTRIBUTES)))
    assert.equal(batch.records.length, 300)
    batch.records.forEach((r, i) => {
      const s = sent[i]!
      assert.equal(r.offsetDelta, i)
      assert.equal(batch.firstTimestamp + r.timestampDelta, BigInt(s.ts), `timestamp ${i}`)
      assert.deepEqual(
        r.key?.length ? r.key : r.key === null ? null : Buffer.alloc(0),
        s.key ?? null,
        `key ${i}`,
      )
      assert.deepEqual(r.value, s.value ?? null, `value ${i}`)
      assert.equal(r.headers.length, 0)
    })
    assert.equal(sealed.records, 300)
    // Stamped again (a new producer id): the records stay, the CRC follows.
    const records = Buffer.from(sealed.bytes.subarray(61))
    stampProducer(sealed.bytes, { producerId: 7n, producerEpoch: 0, baseSequence: 0 })
    const again = read(sealed.bytes)
    assert.equal(again.producerId, 7n)
    assert.equal(again.crc, crc32c(sealed.bytes.subarray(BATCH_ATTRIBUTES)))
    assert.deepEqual(Buffer.from(sealed.bytes.subarray(61)), records)
    // The writer starts a new batch from scratch after `reset`.
    writer.reset()
    writer.append(Buffer.from('k'), Buffer.from('v'), base)
    const next = writer.seal(codec)
    stampProducer(next.bytes, { producerId: 1n, producerEpoch: 0, baseSequence: 0 })
    assert.deepEqual(
      read(next.bytes).records.map((r) => r.value?.toString()),
      ['v'],
    )
  })
}

test('quote records written in place carry encodeQuote’s bytes and the asset’s key', () => {
  const writer = new RecordBatchWriter()
  const value = new QuoteValue()
  const slots = new Map<string, AssetFieldsSlot>()
  const quotes = [...simulatedTicks(40, 10)].flat()
  // A quote `writeQuote` declines (not finite) goes through `encodeQuote`.
  quotes.push({ ...quotes[0]!, market_cap_usd: Number.NaN, name: 'Ünïcödé "name"' })
  for (const q of quotes) {
    const slot = slots.get(q.crypto) ?? {}
    slots.set(q.crypto, slot)
    writer.appendWith(Buffer.from(`${q.source}:${q.crypto}`), 1_764_000_000_000, value.set(q, slot))
  }
  const sealed = writer.seal('lz4')
  stampProducer(sealed.bytes, { producerId: 1n, producerEpoch: 0, baseSequence: 0 })
  const batch = read(sealed.bytes)
  assert.equal(batch.records.length, quotes.length)
  batch.records.forEach((r, i) => {
    const q = quotes[i]!
    assert.deepEqual(r.value, encodeQuote(q))
    assert.equal(r.key?.toString(), `${q.source}:${q.crypto}`)
  })
})

test('varints are zigzag like Kafka’s, and sequences wrap past 2^31 - 1 to 0', () => {
  for (const v of [0, -1, 1, 63, -64, 64, 8191, 8192, -8193, 2 ** 30, -(2 ** 31), 2 ** 31 - 1]) {
    const b = Buffer.alloc(5)
    const end = writeVarInt(b, 0, v)
    assert.equal(end, varIntSize(v), String(v))
    // Decoded by the definition (7-bit groups, low first; zigzag), exact for every 32-bit value.
    let z = 0
    for (let i = 0, scale = 1; i < end; i++, scale *= 128) z += (b[i]! & 0x7f) * scale
    assert.equal(z % 2 === 0 ? z / 2 : -(z + 1) / 2, v, String(v))
    // The client's reader agrees within its range (it decodes through 32-bit signed shifts).
    if (Math.abs(v) < 2 ** 29) assert.equal(Reader.from(b).readVarInt(), v)
  }
  assert.equal(nextSequence(0, 10), 10)
  assert.equal(nextSequence(2_147_483_640, 7), 2_147_483_647)
  assert.equal(nextSequence(2_147_483_640, 8), 0)
  assert.equal(nextSequence(2_147_483_647, 1), 0)
  assert.equal(nextSequence(2_147_483_647, 5), 4)
})
