/**
 * The Fetch request, sent over @platformatic/kafka's own connections and request writers, with
 * our own response parser: it keeps each partition's records as the raw record-set bytes (a view
 * of the response, copied once only where the response spans socket chunks), for
 * `RecordBatchReader` to walk without an object per record. The client's parser builds every
 * record as an object, and in a processor that was most of the young-generation garbage (and
 * of the GC threads' CPU) (docs/benchmarks.md, Kafka ingest, follow-up 2026-12-01 morning).
 *
 * Invariants:
 * - The request is the client's own (`fetchV<n>.createRequest` for the version both sides
 *   support, `fetchVersionFor`), so it is written exactly as the client writes it.
 * - The response parser follows the Fetch response schema of that version field by field
 *   (v4–v17: `flexible` from v12, topic ids from v13); tagged fields are skipped.
 * - No fetch session (session id 0, epoch -1: a full, sessionless fetch): every request lists every
 *   partition it wants, so two fetches in flight (the fetch-ahead) never race over a session's epoch.
 * - A partition's error comes back as its `errorCode` (OFFSET_OUT_OF_RANGE is the caller's to
 *   handle), never thrown; a response-level error is thrown.
 */
import { channel } from 'node:diagnostics_channel'
import {
  createAPI,
  fetchV10,
  fetchV11,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  fetchV4,
  fetchV5,
  fetchV6,
  fetchV7,
  fetchV8,
  fetchV9,
  type API,
  type Connection,
  type Reader,
  type RequestCreator,
} from '@platformatic/kafka'
import { agreedVersion, type BrokerApi } from './api-versions.ts'
import type { AbortedTransaction } from './record-batch-reader.ts'

const FETCH_API_KEY = 1
/** The client's request writer of each Fetch version it implements. */
const CREATE_REQUEST: Readonly<Record<number, RequestCreator>> = {
  4: fetchV4.createRequest,
  5: fetchV5.createRequest,
  6: fetchV6.createRequest,
  7: fetchV7.createRequest,
  8: fetchV8.createRequest,
  9: fetchV9.createRequest,
  10: fetchV10.createRequest,
  11: fetchV11.createRequest,
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
}
export const RAW_FETCH_MIN_VERSION = 4
export const RAW_FETCH_MAX_VERSION = 17
/** Kafka's isolation levels: READ_COMMITTED (the client's default) reads no open or aborted transaction. */
export const READ_COMMITTED = 1
/** A sessionless fetch (KIP-227): session id 0, epoch -1. */
const NO_SESSION_ID = 0
const NO_SESSION_EPOCH = -1

/** One partition of a Fetch request. */
export interface FetchPartitionRequest {
  partition: number
  fetchOffset: bigint
  partitionMaxBytes: number
  currentLeaderEpoch: number
  lastFetchedEpoch: number
}

/** One topic of a Fetch request: by id from v13, by name before (`fetchTopicBy`). */
export interface FetchTopicRequest {
  topicId: string
  partitions: FetchPartitionRequest[]
}

/** One partition of a Fetch response, its records as bytes. */
export interface RawFetchPartition {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  logStartOffset: bigint
  /** READ_COMMITTED: the aborted transactions among the records; null when none. */
  abortedTransactions: AbortedTransaction[] | null
  /** The record set (whole batches, maybe a partial one last); null when there is none. */
  records: Buffer | null
}

export interface RawFetchTopic {
  /** The topic's id (v13+) or name (before), as the request named it. */
  topic: string
  partitions: RawFetchPartition[]
}

export interface RawFetchResponse {
  topics: RawFetchTopic[]
}

export interface RawFetchRequest {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: number
  topics: FetchTopicRequest[]
}

/** The highest Fetch version both the broker (its ApiVersions answer) and this parser speak. */
export const fetchVersionFor = (brokerApis: readonly BrokerApi[]): number =>
  agreedVersion(brokerApis, {
    apiKey: FETCH_API_KEY,
    name: 'Fetch',
    min: RAW_FETCH_MIN_VERSION,
    max: RAW_FETCH_MAX_VERSION,
  })

/** Whether a Fetch version names topics by id (else by name). */
export const fetchTopicBy = (version: number): 'id' | 'name' => (version >= 13 ? 'id' : 'name')

type RawFetchArgs = [
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: FetchTopicRequest[],
  forgottenTopicsData: never[],
  rackId: string,
]

const apis = new Map<number, API<RawFetchArgs, RawFetchResponse>>()

/**
 * Diagnostics channel on which every raw fetch publishes its `RawFetchRequest` as it is sent (the
 * client's own `consumer:fetches` channel no longer sees these fetches): for tests and tracing.
 */
export const RAW_FETCH_CHANNEL = 'cryptoviz:kafka:fetch'
const fetchChannel = channel(RAW_FETCH_CHANNEL)

/** Sends `request` on `connection` as Fetch `version` and parses the answer (`parseRawFetch`). */
export function rawFetch(
  connection: Connection,
  version: number,
  request: RawFetchRequest,
): Promise<RawFetchResponse> {
  let api = apis.get(version)
  if (api === undefined) {
    const createRequest = CREATE_REQUEST[version]
    if (createRequest === undefined) throw new Error(`Fetch v${version} is not implemented`)
    const flexible = version >= 12
    api = createAPI<RawFetchArgs, RawFetchResponse>(
      FETCH_API_KEY,
      version,
      createRequest,
      (_correlationId, _apiKey, apiVersion, reader) => parseRawFetch(apiVersion, reader),
      flexible,
      flexible,
    )
    apis.set(version, api)
  }
  if (fetchChannel.hasSubscribers) fetchChannel.publish(request)
  return api.async(
    connection,
    request.maxWaitMs,
    request.minBytes,
    request.maxBytes,
    request.isolationLevel,
    NO_SESSION_ID,
    NO_SESSION_EPOCH,
    request.topics,
    [],
    '',
  )
}

/** A Fetch response of `version`, its partitions' records left as bytes. Throws on a response-level error. */
export function parseRawFetch(version: number, r: Reader): RawFetchResponse {
  const flexible = version >= 12
  const count = (): number => (flexible ? r.readUnsignedVarInt() - 1 : r.readInt32())
  if (version >= 1) r.readInt32() // throttle_time_ms
  if (version >= 7) {
    const errorCode = r.readInt16()
    r.readInt32() // session_id
    if (errorCode !== 0) throw new Error(`fetch failed: Kafka error code ${errorCode}`)
  }
  const topics: RawFetchTopic[] = []
  for (let t = count(); t > 0; t--) {
    const topic = version >= 13 ? r.readUUID() : r.readString(flexible)
    const partitions: RawFetchPartition[] = []
    for (let p = count(); p > 0; p--) {
      const partitionIndex = r.readInt32()
      const errorCode = r.readInt16()
      const highWatermark = r.readInt64()
      r.readInt64() // last_stable_offset
      const logStartOffset = version >= 5 ? r.readInt64() : -1n
      let abortedTransactions: AbortedTransaction[] | null = null
      const aborted = count()
      if (aborted > 0) {
        abortedTransactions = []
        for (let a = 0; a < aborted; a++) {
          abortedTransactions.push({ producerId: r.readInt64(), firstOffset: r.readInt64() })
          if (flexible) r.readTaggedFields()
        }
      }
      if (version >= 11) r.readInt32() // preferred_read_replica
      const size = count()
      let records: Buffer | null = null
      if (size > 0) {
        records = r.buffer.slice(r.position, r.position + size)
        r.skip(size)
      }
      if (flexible) r.readTaggedFields()
      partitions.push({
        partitionIndex,
        errorCode,
        highWatermark,
        logStartOffset,
        abortedTransactions,
        records,
      })
    }
    if (flexible) r.readTaggedFields()
    topics.push({ topic, partitions })
  }
  if (flexible) r.readTaggedFields()
  return { topics }
}
