/**
 * Reads Kafka record batches (message format v2, "magic 2") straight from the bytes of a fetch
 * response, with no object per record: a processor reads a few hundred thousand records a second,
 * and the client's parser (an object, a BigInt, two Buffer views and a headers array per record)
 * was where most of its garbage came from (docs/benchmarks.md, Kafka ingest, follow-up
 * 2026-12-01 morning).
 *
 * `RecordBatchReader` is a cursor: `nextBatch()` steps from batch to batch, reading only the
 * 61-byte header; `openRecords()` decompresses the batch (the client's codecs) and `nextRecord()`
 * steps from record to record, leaving the record's offset and its key's and value's byte ranges
 * in fields (`records[valueStart, valueEnd)`), so a caller reads the value where it lies.
 *
 * Invariants:
 * - A fetch response may end in the middle of a batch (the broker cuts at `partitionMaxBytes`):
 *   a batch whose bytes are not all there is not a batch (`nextBatch` stops before it), so a
 *   consumer's position never moves past the last whole batch it read.
 * - Offsets are plain numbers: Kafka offsets stay far below 2^53 in practice, and the int64 is
 *   read as two 32-bit halves (no BigInt per batch). An offset at or past 2^53 throws rather than
 *   rounding.
 * - A batch of another message format (magic ≠ 2), a batch shorter than its header, or a record
 *   that runs past its batch throws `RecordBatchError`: the bytes are corrupt, and guessing would
 *   skip or invent records.
 * - Transactions: with the aborted transactions a READ_COMMITTED fetch reports, data batches of an
 *   aborted transaction are flagged `aborted` (as the Java consumer does: a producer is aborted
 *   from the transaction's first offset until its ABORT marker). Control batches are flagged
 *   `isControl`; both carry offsets a consumer moves past without reading their records.
 * - The CRC (CRC-32C of the batch from its attributes on) is not checked on the read path (the
 *   broker checks it on produce, TCP on the way); `crcMatches()` checks it for whoever wants to.
 */
import { compressionsAlgorithmsByBitmask, crc32c } from '@platformatic/kafka'
import {
  BATCH_BASE_OFFSET,
  BATCH_LENGTH,
  BATCH_MAGIC,
  BATCH_CRC,
  BATCH_ATTRIBUTES,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_PRODUCER_ID,
  BATCH_RECORD_COUNT,
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  CURRENT_MAGIC,
  CODEC_MASK,
  IS_TRANSACTIONAL,
  IS_CONTROL,
} from './record-batch-layout.ts'

/** A control record's key: version (int16), then type (int16): 0 = ABORT, 1 = COMMIT. */
const CONTROL_TYPE_ABORT = 0

const TWO_32 = 4_294_967_296

/** A transaction a READ_COMMITTED fetch reports as aborted (fetch response `aborted_transactions`). */
export interface AbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

/** Bytes that are not a well-formed v2 record batch. */
export class RecordBatchError extends Error {
  override name = 'RecordBatchError'
}

export class RecordBatchReader {
  /** The record set: whole batches, maybe a partial one at the end. */
  private readonly set: Buffer
  /** Where the next batch starts in `set`. */
  private next = 0
  /** The current batch's bounds in `set`. */
  private batchStart = 0
  private batchEnd = 0

  /** The current batch's first offset. */
  baseOffset = 0
  /** The current batch's last offset (the offsets of its records are within [baseOffset, lastOffset]). */
  lastOffset = 0
  /** The current batch's attributes (codec bits, transactional, control). */
  attributes = 0
  /** How many records the current batch says it holds. */
  recordCount = 0
  /** The current batch is a data batch of an aborted transaction: its records are not to be read. */
  aborted = false

  /** The bytes the current batch's records are in: `set` itself, or its decompressed records. */
  records: Buffer
  private position = 0
  private recordsLeft = 0
  /** The current record's offset. */
  offset = 0
  /** The current record's key, `records[keyStart, keyEnd)`; keyStart -1 when it has none. */
  keyStart = -1
  keyEnd = -1
  /** The current record's value, `records[valueStart, valueEnd)`; valueStart -1 when it is null. */
  valueStart = -1
  valueEnd = -1

  /** Aborted transactions not reached yet, by first offset; and producers aborted at this point. */
  private readonly pendingAborts: AbortedTransaction[]
  private readonly abortedProducers = new Set<bigint>()

  /** `set`: a partition's record set; `aborted`: its fetch's aborted transactions, if any. */
  constructor(set: Buffer, aborted?: readonly AbortedTransaction[] | null) {
    this.set = set
    this.records = set
    this.pendingAborts =
      aborted && aborted.length > 0
        ? [...aborted].sort((a, b) =>
            a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
          )
        : []
  }

  /** Steps to the next whole batch (its header read, its records not yet); false when there is none. */
  nextBatch(): boolean {
    const set = this.set
    const start = this.next
    if (set.length - start < BATCH_LOG_OVERHEAD) return false
    const length = set.readInt32BE(start + BATCH_LENGTH)
    if (length < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD) {
      throw new RecordBatchError(`record batch at byte ${start}: length ${length} is shorter than its header`)
    }
    const end = start + BATCH_LOG_OVERHEAD + length
    // A partial batch at the end of a response: not a batch (the next fetch starts at it).
    if (end > set.length) return false
    const magic = set[start + BATCH_MAGIC]
    if (magic !== CURRENT_MAGIC) {
      throw new RecordBatchError(
        `record batch at byte ${start}: message format ${magic}, expected ${CURRENT_MAGIC}`,
      )
    }
    this.batchStart = start
    this.batchEnd = end
    this.next = end
    this.baseOffset = readOffset(set, start + BATCH_BASE_OFFSET)
    this.lastOffset = this.baseOffset + set.readInt32BE(start + BATCH_LAST_OFFSET_DELTA)
    this.attributes = set.readInt16BE(start + BATCH_ATTRIBUTES)
    this.recordCount = set.readInt32BE(start + BATCH_RECORD_COUNT)
    this.recordsLeft = 0
    this.aborted = this.pendingAborts.length > 0 || this.abortedProducers.size > 0 ? this.abortedNow() : false
    return true
  }

  /** Whether the current batch is a control batch (transaction markers: no data). */
  get isControl(): boolean {
    return (this.attributes & IS_CONTROL) !== 0
  }

  /** Whether the CRC the current batch carries is the CRC-32C of its bytes from the attributes on. */
  crcMatches(): boolean {
    const stored = this.set.readUInt32BE(this.batchStart + BATCH_CRC)
    return crc32c(this.set.subarray(this.batchStart + BATCH_ATTRIBUTES, this.batchEnd)) === stored
  }

  /** Makes the current batch's records readable by `nextRecord` (decompressing them if need be). */
  openRecords(): void {
    const codec = this.attributes & CODEC_MASK
    const from = this.batchStart + BATCH_HEADER_SIZE
    if (codec === 0) {
      this.records = this.set
      this.position = from
    } else {
      const algorithm = compressionsAlgorithmsByBitmask[codec]
      if (algorithm === undefined) {
        throw new RecordBatchError(`record batch at offset ${this.baseOffset}: unknown codec ${codec}`)
      }
      this.records = algorithm.decompressSync(this.set.subarray(from, this.batchEnd))
      this.position = 0
    }
    this.recordsLeft = this.recordCount
  }

  /** Steps to the current batch's next record; false after its last. */
  nextRecord(): boolean {
    if (this.recordsLeft <= 0) return false
    this.recordsLeft--
    const b = this.records
    const limit = b === this.set ? this.batchEnd : b.length
    let i = this.position
    // length (varint), attributes (int8), timestampDelta (varlong), offsetDelta (varint),
    // key length (varint, -1: null), key, value length (varint, -1: null), value, headers.
    let byte = b[i++]!
    let raw = byte & 0x7f
    for (let shift = 7; byte & 0x80; shift += 7) raw |= ((byte = b[i++]!) & 0x7f) << shift
    const length = (raw >>> 1) ^ -(raw & 1)
    const end = i + length
    if (length < 0 || end > limit) throw this.corrupt('runs past its batch')
    i++ // attributes
    while (b[i++]! & 0x80); // timestampDelta: not used
    byte = b[i++]!
    raw = byte & 0x7f
    for (let shift = 7; byte & 0x80; shift += 7) raw |= ((byte = b[i++]!) & 0x7f) << shift
    this.offset = this.baseOffset + ((raw >>> 1) ^ -(raw & 1))
    byte = b[i++]!
    raw = byte & 0x7f
    for (let shift = 7; byte & 0x80; shift += 7) raw |= ((byte = b[i++]!) & 0x7f) << shift
    const keyLength = (raw >>> 1) ^ -(raw & 1)
    if (keyLength < 0) this.keyStart = this.keyEnd = -1
    else {
      this.keyStart = i
      i += keyLength
      this.keyEnd = i
    }
    byte = b[i++]!
    raw = byte & 0x7f
    for (let shift = 7; byte & 0x80; shift += 7) raw |= ((byte = b[i++]!) & 0x7f) << shift
    const valueLength = (raw >>> 1) ^ -(raw & 1)
    if (valueLength < 0) this.valueStart = this.valueEnd = -1
    else {
      this.valueStart = i
      i += valueLength
      this.valueEnd = i
    }
    if (i > end) throw this.corrupt('has a key or value past its end')
    this.position = end
    return true
  }

  /** The current record's value as a view of its bytes (no copy), or null. */
  value(): Buffer | null {
    return this.valueStart < 0 ? null : this.records.subarray(this.valueStart, this.valueEnd)
  }

  /** The current record's key as a view of its bytes (no copy), or null. */
  key(): Buffer | null {
    return this.keyStart < 0 ? null : this.records.subarray(this.keyStart, this.keyEnd)
  }

  private corrupt(what: string): RecordBatchError {
    return new RecordBatchError(`record at offset ${this.offset} of the batch at ${this.baseOffset} ${what}`)
  }

  /**
   * Whether the batch just stepped to belongs to an aborted transaction (the Java consumer's
   * rule), keeping the aborted producers up to date: a producer is aborted from the first offset
   * of its aborted transaction until the ABORT marker that closes it.
   */
  private abortedNow(): boolean {
    if ((this.attributes & IS_TRANSACTIONAL) === 0) return false
    const producerId = this.set.readBigInt64BE(this.batchStart + BATCH_PRODUCER_ID)
    if (this.isControl) {
      if (this.controlType() === CONTROL_TYPE_ABORT) this.abortedProducers.delete(producerId)
      return false
    }
    const pending = this.pendingAborts
    while (pending.length > 0 && pending[0]!.firstOffset <= BigInt(this.lastOffset)) {
      this.abortedProducers.add(pending.shift()!.producerId)
    }
    return this.abortedProducers.has(producerId)
  }

  /** The type of the current control batch's marker (its first record's key). */
  private controlType(): number {
    this.openRecords()
    const type =
      this.nextRecord() && this.keyEnd - this.keyStart >= 4 ? this.records.readInt16BE(this.keyStart + 2) : -1
    this.recordsLeft = 0
    return type
  }
}

/** The int64 offset at `at`, as a number (throws at or past 2^53, where numbers would round). */
function readOffset(b: Buffer, at: number): number {
  const high = b.readInt32BE(at)
  const v = high * TWO_32 + b.readUInt32BE(at + 4)
  if (!Number.isSafeInteger(v))
    throw new RecordBatchError(`record batch offset ${b.readBigInt64BE(at)} is past 2^53`)
  return v
}

/** The last offset of the last whole batch in `set`, or -1 when it holds none. */
export function lastOffsetIn(set: Buffer): number {
  const r = new RecordBatchReader(set)
  let last = -1
  while (r.nextBatch()) if (r.lastOffset > last) last = r.lastOffset
  return last
}

/** How many records the whole batches of `set` hold, by their headers (a capacity, not a count of what will be read). */
export function recordCountIn(set: Buffer): number {
  const r = new RecordBatchReader(set)
  let count = 0
  while (r.nextBatch()) count += r.recordCount
  return count
}
