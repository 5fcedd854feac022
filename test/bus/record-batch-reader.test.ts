/**
 * `RecordBatchReader` against record batches written by @platformatic/kafka's own producer code
 * (`createRecordsBatch`, every codec), read back record for record as the client's parser
 * (`readRecordsBatches`) reads them: offsets, keys and values (nulls and headers included), across
 * multi-batch record sets, with a cut last batch (fetch responses end mid-batch), control batches,
 * aborted transactions and the CRC.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  createRecordsBatch,
  crc32c,
  readRecordsBatches,
  Reader,
  type CompressionAlgorithmValue,
  type MessageRecord,
} from '@platformatic/kafka'
import {
  BATCH_ATTRIBUTES,
  BATCH_BASE_OFFSET,
  BATCH_CRC,
  IS_CONTROL,
  IS_TRANSACTIONAL,
} from '../../src/bus/record-batch-layout.ts'
import {
  lastOffsetIn,
  RecordBatchError,
  RecordBatchReader,
  recordCountIn,
} from '../../src/bus/record-batch-reader.ts'

const CODECS: CompressionAlgorithmValue[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** A record as both readers see it. */
interface Seen {
  offset: number
  key: string | null
  value: string | null
}

/** `count` messages, some with a null key or value, some with headers, of varied sizes. */
function messages(count: number, seed: number): MessageRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = seed * 1_000 + i
    return {
      topic: 't',
      key: i % 5 === 3 ? undefined : Buffer.from(`key-${n}`),
      value: (i % 7 === 4 ? null : Buffer.from(`{"n":${n},"pad":"${'x'.repeat((n * 37) % 300)}"}`)) as Buffer,
      headers: i % 4 === 1 ? new Map([[Buffer.from('h'), Buffer.from(`v${n}`)]]) : undefined,
    }
  })
}

/** One batch of `msgs` at `baseOffset`, as the producer writes it (the broker sets the base offset). */
function batchAt(
  baseOffset: number,
  msgs: MessageRecord[],
  compression: CompressionAlgorithmValue,
  options: { producerId?: bigint; transactional?: boolean } = {},
): Buffer {
  const b = Buffer.from(
    createRecordsBatch(msgs, {
      compression,
      producerId: options.producerId ?? -1n,
      transactionalId: options.transactional ? 'tx' : undefined,
    }).buffer,
  )
  b.writeBigInt64BE(BigInt(baseOffset), BATCH_BASE_OFFSET)
  return b
}

/** A transaction marker batch (control, transactional) of `producerId` at `offset`: ABORT or COMMIT. */
function markerAt(offset: number, producerId: bigint, type: 'abort' | 'commit'): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2)
  const b = batchAt(offset, [{ topic: 't', key, value: Buffer.alloc(6) }], 'none', {
    producerId,
    transactional: true,
  })
  b.writeInt16BE(b.readInt16BE(BATCH_ATTRIBUTES) | IS_CONTROL, BATCH_ATTRIBUTES)
  b.writeUInt32BE(crc32c(b.subarray(BATCH_ATTRIBUTES)), BATCH_CRC)
  return b
}

const text = (b: Buffer | null | undefined): string | null => (b == null ? null : b.toString('utf8'))

/** What our reader reads of `set`: every record of every data batch, and the batches' last offsets. */
function readOurs(set: Buffer): { records: Seen[]; lastOffsets: number[] } {
  const r = new RecordBatchReader(set)
  const records: Seen[] = []
  const lastOffsets: number[] = []
  while (r.nextBatch()) {
    lastOffsets.push(r.lastOffset)
    r.openRecords()
    while (r.nextRecord()) {
      const value = r.valueStart < 0 ? null : r.records.toString('utf8', r.valueStart, r.valueEnd)
      assert.equal(value, text(r.value()))
      records.push({ offset: r.offset, key: text(r.key()), value })
    }
  }
  return { records, lastOffsets }
}

/** What the client's parser reads of `set`. */
function readClients(set: Buffer): { records: Seen[]; lastOffsets: number[] } {
  const batches = readRecordsBatches(Reader.from(set))
  return {
    records: batches.flatMap((b) =>
      b.records.map((rec) => ({
        offset: Number(b.firstOffset) + rec.offsetDelta,
        key: text(rec.key),
        value: text(rec.value),
      })),
    ),
    lastOffsets: batches.map((b) => Number(b.firstOffset) + b.lastOffsetDelta),
  }
}

for (const codec of CODECS) {
  test(`record sets of ${codec} batches read record for record as the client reads them`, () => {
    const set = Buffer.concat([
      batchAt(0, messages(1, 1), codec),
      batchAt(1, messages(40, 2), codec),
      batchAt(41, messages(300, 3), codec),
      // Offsets far into a long-lived topic, past 2^32.
      batchAt(5_000_000_000, messages(17, 4), codec),
    ])
    const ours = readOurs(set)
    assert.equal(ours.records.length, 1 + 40 + 300 + 17)
    assert.deepEqual(ours, readClients(set))
    assert.equal(lastOffsetIn(set), 5_000_000_016)
    assert.equal(recordCountIn(set), 358)
  })
}

test('a record set cut anywhere in its last batch reads as the whole batches before the cut', () => {
  const first = batchAt(100, messages(25, 5), 'lz4')
  const second = batchAt(125, messages(30, 6), 'none')
  const whole = Buffer.concat([first, second])
  const before = readOurs(first)
  for (let cut = first.length; cut < whole.length; cut++) {
    const partial = whole.subarray(0, cut)
    assert.deepEqual(readOurs(partial), before, `cut at ${cut}`)
    assert.equal(lastOffsetIn(partial), 124)
    assert.equal(recordCountIn(partial), 25)
  }
  assert.deepEqual(readOurs(whole.subarray(0, 11)), { records: [], lastOffsets: [] })
  assert.equal(lastOffsetIn(Buffer.alloc(0)), -1)
})

test('control batches are flagged, and the batches of an aborted transaction too, up to its ABORT marker', () => {
  const pid = 7n
  const other = 9n
  const set = Buffer.concat([
    batchAt(0, messages(3, 7), 'none', { producerId: pid, transactional: true }), // aborted
    batchAt(3, messages(2, 8), 'lz4', { producerId: other, transactional: true }), // committed
    batchAt(5, messages(2, 9), 'none'), // not transactional
    markerAt(7, pid, 'abort'),
    markerAt(8, other, 'commit'),
    batchAt(9, messages(2, 10), 'zstd', { producerId: pid, transactional: true }), // committed
    markerAt(11, pid, 'commit'),
  ])
  const flags = (aborted: ConstructorParameters<typeof RecordBatchReader>[1]) => {
    const r = new RecordBatchReader(set, aborted)
    const out: string[] = []
    while (r.nextBatch())
      out.push(`${r.baseOffset}:${r.isControl ? 'control' : r.aborted ? 'aborted' : 'data'}`)
    return out
  }
  assert.deepEqual(flags([{ producerId: pid, firstOffset: 0n }]), [
    '0:aborted',
    '3:data',
    '5:data',
    '7:control',
    '8:control',
    '9:data',
    '11:control',
  ])
  // Without aborted transactions (READ_UNCOMMITTED, or none) every data batch is read.
  assert.deepEqual(flags(null), [
    '0:data',
    '3:data',
    '5:data',
    '7:control',
    '8:control',
    '9:data',
    '11:control',
  ])
  // Control batches' records are skipped by whoever reads, but are records all the same.
  const r = new RecordBatchReader(set)
  while (r.nextBatch() && !r.isControl);
  assert.equal(r.baseOffset, 7)
  assert.equal(r.attributes & IS_TRANSACTIONAL, IS_TRANSACTIONAL)
})

test('the CRC matches the bytes the producer wrote, and not once a byte changes', () => {
  for (const codec of CODECS) {
    const b = batchAt(0, messages(10, 11), codec)
    const r = new RecordBatchReader(b)
    assert.ok(r.nextBatch())
    assert.ok(r.crcMatches(), codec)
    b[b.length - 3]! ^= 0x40
    const damaged = new RecordBatchReader(b)
    assert.ok(damaged.nextBatch())
    assert.equal(damaged.crcMatches(), false, codec)
  }
})

test('bytes that are not a v2 record batch throw rather than yield records', () => {
  const b = batchAt(0, messages(3, 12), 'none')
  const oldFormat = Buffer.from(b)
  oldFormat[16] = 1
  assert.throws(() => new RecordBatchReader(oldFormat).nextBatch(), RecordBatchError)
  const short = Buffer.from(b)
  short.writeInt32BE(20, 8)
  assert.throws(() => new RecordBatchReader(short).nextBatch(), RecordBatchError)
  // A record whose length runs past its batch.
  const long = Buffer.from(b)
  long[61] = 0xfe // a varint of 8,191
  long[62] = 0x7f
  const r = new RecordBatchReader(long)
  assert.ok(r.nextBatch())
  r.openRecords()
  assert.throws(() => r.nextRecord(), RecordBatchError)
})
