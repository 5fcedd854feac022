/**
 * Kafka record batches (magic 2, the only format Kafka 3+/Redpanda take for idempotent produce)
 * written straight into one buffer per partition: a record is appended in place (no record
 * object, no per-record writer or buffer list), and `seal` compresses the records once and puts
 * the 61-byte batch header in front. Pure: no I/O, no client state.
 *
 * Invariants:
 * - Bytes are those of Kafka's `DefaultRecordBatch`: baseOffset 0, partitionLeaderEpoch -1,
 *   attributes = codec bits, lastOffsetDelta = records - 1, first/max timestamps (ms), producer
 *   id/epoch and base sequence, records count, then the records (each: zigzag varint length,
 *   attributes 0, timestamp delta, offset delta, key, value, 0 headers), compressed as a whole by
 *   the same codec code the client uses (`compressionsAlgorithms`: its lz4 framing, xerial-less
 *   snappy, gzip, zstd). CRC32C (the client's, native when `@node-rs/crc32` is there) covers
 *   attributes to the end.
 * - A sealed batch's records never change; only the producer id, epoch and base sequence may be
 *   stamped again (`stampProducer`, which recomputes the CRC), for a batch that must be sent as
 *   new records under a new producer id.
 */
import { compressionsAlgorithms, crc32c, type CompressionAlgorithmValue } from '@platformatic/kafka'
import {
  BATCH_ATTRIBUTES,
  BATCH_BASE_OFFSET,
  BATCH_BASE_SEQUENCE,
  BATCH_CRC,
  BATCH_FIRST_TIMESTAMP,
  BATCH_HEADER_SIZE,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LENGTH,
  BATCH_LOG_OVERHEAD,
  BATCH_MAGIC,
  BATCH_MAX_TIMESTAMP,
  BATCH_PARTITION_LEADER_EPOCH,
  BATCH_PRODUCER_EPOCH,
  BATCH_PRODUCER_ID,
  BATCH_RECORD_COUNT,
  CURRENT_MAGIC,
} from './record-batch-layout.ts'

/** A record's bytes around its key and value, at most: length (5), attributes (1), timestamp delta (10), offset delta (5), key length (5), value length (5), headers count (1). */
export const RECORD_OVERHEAD_MAX = 32
/** First capacity of a batch's buffer; it doubles as records come. */
const INITIAL_CAPACITY = 64 * 1024

/** Bytes of `v` as a zigzag varint (`v` a 32-bit integer). */
export function varIntSize(v: number): number {
  let z = ((v << 1) ^ (v >> 31)) >>> 0
  let n = 1
  while (z >= 0x80) {
    z >>>= 7
    n++
  }
  return n
}

/** Writes `v` (a 32-bit integer) as a zigzag varint at `at`; the position past it. */
export function writeVarInt(b: Buffer, at: number, v: number): number {
  let z = ((v << 1) ^ (v >> 31)) >>> 0
  while (z >= 0x80) {
    b[at++] = (z & 0x7f) | 0x80
    z >>>= 7
  }
  b[at++] = z
  return at
}

/** Bytes of `v` (a safe integer) as a zigzag varlong. */
function varLongSize(v: number): number {
  if (v >= -0x4000_0000 && v < 0x4000_0000) return varIntSize(v)
  let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n))
  let n = 1
  while (z >= 0x80n) {
    z >>= 7n
    n++
  }
  return n
}

/** Writes a timestamp delta (any safe integer, in practice small) as a zigzag varlong. */
function writeVarLong(b: Buffer, at: number, v: number): number {
  if (v >= -0x4000_0000 && v < 0x4000_0000) return writeVarInt(b, at, v)
  let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n))
  while (z >= 0x80n) {
    b[at++] = Number(z & 0x7fn) | 0x80
    z >>= 7n
  }
  b[at++] = Number(z)
  return at
}

/** Writes a record's value in place (a reused object: no closure per record). */
export interface ValueWriter {
  /** Most bytes `write` may write. */
  readonly max: number
  /** Writes the value at `at` of `b` (room for `max` bytes); the position past it, or -1 when it cannot (then `bytes()` is taken). */
  write(b: Buffer, at: number): number
  /** The value's bytes, when `write` declined. */
  bytes(): Uint8Array
}

const EMPTY = new Uint8Array(0)

/** The producer fields a batch is sent under. */
export interface ProducerStamp {
  producerId: bigint
  producerEpoch: number
  baseSequence: number
}

/** A batch ready to send: its bytes and what it holds. */
export interface SealedRecordBatch {
  /** The whole batch, header included; sent as is (and as is again on a retry). */
  bytes: Buffer
  records: number
  /** Sum of the records' value bytes (before compression). */
  valueBytes: number
}

/**
 * The records of one batch being written. `append*` add a record; `seal` makes the batch. A
 * writer is used for one batch, then `reset` (its buffer is kept for the next).
 */
export class RecordBatchWriter {
  private buf: Buffer
  private at = BATCH_HEADER_SIZE
  private count = 0
  private firstTimestamp = 0
  private maxTimestamp = 0
  private values = 0

  constructor(capacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX))
  }

  /** Records appended since the last `reset`. */
  get records(): number {
    return this.count
  }

  /** Bytes of the records so far (uncompressed), header excluded. */
  get recordBytes(): number {
    return this.at - BATCH_HEADER_SIZE
  }

  /** Makes room for `more` bytes past the records written. */
  private reserve(more: number): void {
    const need = this.at + more
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }

  private noteTimestamp(timestamp: number): number {
    if (this.count === 0) {
      this.firstTimestamp = timestamp
      this.maxTimestamp = timestamp
    } else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
    return timestamp - this.firstTimestamp
  }

  /** Appends a record of `key` and `value` (both bytes, or null), stamped `timestamp` (ms). */
  append(key: Uint8Array | null, value: Uint8Array | null, timestamp: number): void {
    const bytes = value ?? EMPTY
    this.appendWith(key, timestamp, {
      max: bytes.length,
      write: (b, at) => {
        b.set(bytes, at)
        return at + bytes.length
      },
      bytes: () => bytes,
    })
    // A null value: the empty value's length varint (0, the byte before the headers count)
    // becomes -1 (zigzag 1, one byte too, so the record keeps its size).
    if (value === null) this.buf[this.at - 2] = 1
  }

  /**
   * Appends a record of `key` whose value `value` writes in place. The value is written where it
   * will stay when its length and the record's take 2 bytes each (64 to 8191 bytes), else moved
   * once.
   */
  appendWith(key: Uint8Array | null, timestamp: number, value: ValueWriter): void {
    const keyLength = key === null ? -1 : key.length
    this.reserve(RECORD_OVERHEAD_MAX + Math.max(0, keyLength) + value.max)
    const delta = this.noteTimestamp(timestamp)
    const offsetDelta = this.count
    // attributes + timestamp delta + offset delta + key length + key
    const prefix =
      1 + varLongSize(delta) + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(0, keyLength)
    const start = this.at
    let valueAt = start + 2 + prefix + 2
    let end = value.write(this.buf, valueAt)
    if (end < 0) {
      const bytes = value.bytes()
      this.reserve(RECORD_OVERHEAD_MAX + Math.max(0, keyLength) + bytes.length)
      this.buf.set(bytes, valueAt)
      end = valueAt + bytes.length
    }
    const valueLength = end - valueAt
    const valueLengthSize = varIntSize(valueLength)
    const body = prefix + valueLengthSize + valueLength + 1
    const wanted = start + varIntSize(body) + prefix + valueLengthSize
    if (wanted !== valueAt) {
      if (wanted > valueAt) this.reserve(wanted - valueAt + (end - start) + 1)
      this.buf.copyWithin(wanted, valueAt, end)
      valueAt = wanted
      end = wanted + valueLength
    }
    let at = writeVarInt(this.buf, start, body)
    this.buf[at++] = 0
    at = writeVarLong(this.buf, at, delta)
    at = writeVarInt(this.buf, at, offsetDelta)
    at = writeVarInt(this.buf, at, keyLength)
    if (key !== null) {
      this.buf.set(key, at)
      at += key.length
    }
    writeVarInt(this.buf, at, valueLength)
    this.buf[end] = 0 // no headers
    this.at = end + 1
    this.count++
    this.values += valueLength
  }

  /**
   * The batch of the records appended, compressed with `codec`, its header written but for the
   * producer fields and the CRC: `stampProducer` it before sending. `reset` the writer before
   * reuse; the bytes returned never share its buffer.
   */
  seal(codec: CompressionAlgorithmValue): SealedRecordBatch {
    if (this.count === 0) throw new Error('a record batch needs at least one record')
    const algorithm = codec === 'none' ? undefined : compressionsAlgorithms[codec]
    let bytes: Buffer
    if (algorithm === undefined) {
      bytes = this.buf.subarray(0, this.at)
      // The buffer now belongs to the batch: the next records go to a new one.
      this.buf = Buffer.allocUnsafe(this.buf.length)
    } else {
      const compressed = algorithm.compressSync(this.buf.subarray(BATCH_HEADER_SIZE, this.at)) as Buffer
      bytes = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length)
      bytes.set(compressed, BATCH_HEADER_SIZE)
    }
    bytes.writeBigInt64BE(0n, BATCH_BASE_OFFSET)
    bytes.writeInt32BE(bytes.length - BATCH_LOG_OVERHEAD, BATCH_LENGTH)
    bytes.writeInt32BE(-1, BATCH_PARTITION_LEADER_EPOCH)
    bytes[BATCH_MAGIC] = CURRENT_MAGIC
    bytes.writeInt16BE(algorithm?.bitmask ?? 0, BATCH_ATTRIBUTES)
    bytes.writeInt32BE(this.count - 1, BATCH_LAST_OFFSET_DELTA)
    bytes.writeBigInt64BE(BigInt(this.firstTimestamp), BATCH_FIRST_TIMESTAMP)
    bytes.writeBigInt64BE(BigInt(this.maxTimestamp), BATCH_MAX_TIMESTAMP)
    bytes.writeInt32BE(this.count, BATCH_RECORD_COUNT)
    return { bytes, records: this.count, valueBytes: this.values }
  }

  /** Starts a new batch (the buffer is kept). */
  reset(): void {
    this.at = BATCH_HEADER_SIZE
    this.count = 0
    this.values = 0
  }
}

/** Writes the producer fields of a sealed batch and its CRC again. */
export function stampProducer(bytes: Buffer, stamp: ProducerStamp): void {
  bytes.writeBigInt64BE(stamp.producerId, BATCH_PRODUCER_ID)
  bytes.writeInt16BE(stamp.producerEpoch, BATCH_PRODUCER_EPOCH)
  bytes.writeInt32BE(stamp.baseSequence, BATCH_BASE_SEQUENCE)
  bytes.writeUInt32BE(crc32c(bytes.subarray(BATCH_ATTRIBUTES)), BATCH_CRC)
}

/** The sequence after `sequence` and `records` more, as Kafka counts them (wrapping past 2^31 - 1 to 0). */
export function nextSequence(sequence: number, records: number): number {
  return sequence > 0x7fff_ffff - records ? records - (0x7fff_ffff - sequence) - 1 : sequence + records
}
