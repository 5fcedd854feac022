/**
 * Range reads as downloads (`format=csv|parquet`): a result table with typed columns becomes a
 * CSV text (RFC 4180, times as ISO-8601 with microseconds) or a Parquet file (timestamps as
 * TIMESTAMP(MICROS, UTC), so the download round-trips exactly), sent as an attachment.
 *
 * Results are bounded by the routes' `limit` (and candles/compare by their bucket count), so the
 * file is built in memory; nothing touches the disk.
 */
import type { FastifyReply } from 'fastify'
import { parquetWriteBuffer, type ColumnSource, type SchemaElement } from 'hyparquet-writer'
import { ENGINE_INFO } from '../engine-info.ts'
import { isoFromMicros } from '../micros.ts'

export type ColumnKind = 'timestamp' | 'double' | 'int32' | 'string'

export interface DownloadColumn {
  name: string
  kind: ColumnKind
}

export interface DownloadTable {
  /** File name without extension; callers build it from validated slugs only. */
  filename: string
  columns: readonly DownloadColumn[]
  /** Timestamps as integer microseconds; absent or null values are written as null. */
  rows: readonly Record<string, unknown>[]
}

export type DownloadFormat = 'csv' | 'parquet'

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet'

function csvCell(value: unknown, kind: ColumnKind): string {
  if (value === null || value === undefined) return ''
  const text = kind === 'timestamp' && typeof value === 'number' ? isoFromMicros(value) : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function toCsv(table: DownloadTable): string {
  const lines = [table.columns.map((c) => csvCell(c.name, 'string')).join(',')]
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c.name], c.kind)).join(','))
  return `${lines.join('\r\n')}\r\n`
}

const ELEMENTS: Record<ColumnKind, Omit<SchemaElement, 'name'>> = {
  timestamp: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MICROS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    repetition_type: 'OPTIONAL',
  },
  double: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  int32: { type: 'INT32', repetition_type: 'OPTIONAL' },
  string: {
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'OPTIONAL',
  },
}

function parquetValue(value: unknown, kind: ColumnKind): unknown {
  if (value === null || value === undefined) return null
  switch (kind) {
    case 'timestamp':
      return BigInt(value as number)
    case 'string':
      return String(value)
    default:
      return value
  }
}

export function toParquet(table: DownloadTable): Uint8Array {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: table.columns.length },
    ...table.columns.map((c) => ({ name: c.name, ...ELEMENTS[c.kind] })),
  ]
  const columnData: ColumnSource[] = table.columns.map((c) => ({
    name: c.name,
    data: table.rows.map((r) => parquetValue(r[c.name], c.kind)),
  }))
  const buffer = parquetWriteBuffer({
    columnData,
    schema,
    codec: 'SNAPPY',
    rowGroupSize: Math.max(1, table.rows.length),
    createdBy: ENGINE_INFO,
  })
  return new Uint8Array(buffer)
}

export function sendDownload(
  reply: FastifyReply,
  format: DownloadFormat,
  table: DownloadTable,
): FastifyReply {
  const name = `${table.filename}.${format}`
  void reply.header('content-disposition', `attachment; filename="${name}"`)
  if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(table))
  return reply.type(PARQUET_MEDIA_TYPE).send(Buffer.from(toParquet(table)))
}
