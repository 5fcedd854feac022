/**
 * The layout of a Kafka record batch (message format v2, "magic 2"; Kafka's `DefaultRecordBatch`),
 * declared once for the bus's writer (`record-batch.ts`) and reader (`record-batch-reader.ts`):
 * byte offsets of the header's fields from the batch's first byte, and the attribute bits.
 */

export const BATCH_BASE_OFFSET = 0
export const BATCH_LENGTH = 8
export const BATCH_PARTITION_LEADER_EPOCH = 12
export const BATCH_MAGIC = 16
export const BATCH_CRC = 17
export const BATCH_ATTRIBUTES = 21
export const BATCH_LAST_OFFSET_DELTA = 23
export const BATCH_FIRST_TIMESTAMP = 27
export const BATCH_MAX_TIMESTAMP = 35
export const BATCH_PRODUCER_ID = 43
export const BATCH_PRODUCER_EPOCH = 51
export const BATCH_BASE_SEQUENCE = 53
export const BATCH_RECORD_COUNT = 57
/** Size of a batch's header; its records follow. */
export const BATCH_HEADER_SIZE = 61
/** The bytes before a batch's length counts: base offset and the length itself. */
export const BATCH_LOG_OVERHEAD = BATCH_PARTITION_LEADER_EPOCH
/** The message format written and read here (the only one Kafka 3+ and Redpanda take for idempotent produce). */
export const CURRENT_MAGIC = 2

/** Attribute bits 0–2: the codec (`compressionsAlgorithmsByBitmask`). */
export const CODEC_MASK = 0b111
export const IS_TRANSACTIONAL = 0b1_0000
export const IS_CONTROL = 0b10_0000
