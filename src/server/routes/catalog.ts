/**
 * What the lake holds: `/api/v1/catalog` (tables, columns, sizes, time span),
 * `/api/v1/catalog/partitions` (the partition tree with per-node counts), `/api/v1/history`
 * (commits, newest first) and `/api/v1/files` (live data files after pruning).
 *
 * `asOf` reads the quotes table as of a version or time. The engine time-travels the quotes
 * table only, so on `dead_letters` the partition tree and history refuse `asOf` (400) rather than
 * silently showing the latest state; `files` time-travels either table.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CryptoVizError } from '../../errors.ts'
import { isoFromMicros } from '../../micros.ts'
import type { PartitionNode, QueryEngine, TableCatalog } from '../../query/index.ts'
import { asOfParam, intParam, slugListParam, timeParam, type AsOfParam } from '../params.ts'
import { isoTimeJson } from '../quote-json.ts'
import { defineRoute } from '../typed-route.ts'

const TABLES = ['quotes', 'dead_letters'] as const

const tableParam = z.enum(TABLES).default('quotes').meta({ description: 'quotes or dead_letters.' })

const isoOrNull = (us: number | null): string | null => (us === null ? null : isoFromMicros(us))
const isoFromMillis = (ms: number): string => new Date(ms).toISOString()

function quotesOnlyAsOf(table: string, asOf: AsOfParam | undefined): void {
  if (asOf !== undefined && table !== 'quotes') {
    throw new CryptoVizError('INVALID_ARGUMENT', 'asOf applies to the quotes table only here', {
      kind: 'user',
    })
  }
}

const columnJson = z.object({
  name: z.string(),
  type: z.string(),
  nullable: z.boolean(),
  partition: z.boolean(),
  since_version: z.number().int(),
})

const tableJson = z.object({
  name: z.enum(TABLES),
  version: z.number().int(),
  timestamp: isoTimeJson.meta({ description: 'Commit time of that version.' }),
  description: z.string().nullable(),
  partition_columns: z.array(z.string()),
  columns: z.array(columnJson),
  files: z.number().int(),
  rows: z.number().int(),
  bytes: z.number().int(),
  min_ts: isoTimeJson.nullable(),
  max_ts: isoTimeJson.nullable(),
})

interface PartitionJson {
  column: string
  value: string | null
  files: number
  rows: number
  bytes: number
  min_ts: string | null
  max_ts: string | null
  children: PartitionJson[]
}

const partitionJson: z.ZodType<PartitionJson> = z
  .object({
    column: z.string(),
    value: z.string().nullable(),
    files: z.number().int(),
    rows: z.number().int(),
    bytes: z.number().int(),
    min_ts: isoTimeJson.nullable(),
    max_ts: isoTimeJson.nullable(),
    get children() {
      return z.array(partitionJson)
    },
  })
  .meta({ id: 'PartitionNode' })

function partitionToJson(p: PartitionNode): PartitionJson {
  return {
    column: p.column,
    value: p.value,
    files: p.files,
    rows: p.rows,
    bytes: p.bytes,
    min_ts: isoOrNull(p.min_ts),
    max_ts: isoOrNull(p.max_ts),
    children: p.children.map(partitionToJson),
  }
}

function tableToJson(t: TableCatalog): z.input<typeof tableJson> {
  return {
    name: t.name,
    version: t.version,
    timestamp: isoFromMillis(t.timestamp_ms),
    description: t.description,
    partition_columns: t.partition_columns,
    columns: t.columns,
    files: t.files,
    rows: t.rows,
    bytes: t.bytes,
    min_ts: isoOrNull(t.min_ts),
    max_ts: isoOrNull(t.max_ts),
  }
}

const historyEntryJson = z.object({
  version: z.number().int(),
  timestamp: isoTimeJson.meta({ description: 'Commit time.' }),
  operation: z.string().nullable(),
  operation_parameters: z.record(z.string(), z.unknown()),
  read_version: z.number().int().nullable(),
  is_blind_append: z.boolean().nullable(),
  engine_info: z.string().nullable(),
  files_added: z.number().int(),
  files_removed: z.number().int(),
  rows_added: z.number().int(),
  rows_removed: z.number().int(),
})

const fileJson = z.object({
  path: z.string().meta({ description: 'Path inside the table folder.' }),
  partition: z.record(z.string(), z.string().nullable()),
  size: z.number().int(),
  rows: z.number().int().nullable(),
  min_ts: isoTimeJson.nullable(),
  max_ts: isoTimeJson.nullable(),
  modification_time: isoTimeJson,
})

export function catalogRoutes(app: FastifyInstance, engine: QueryEngine): void {
  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/catalog',
    query: z.strictObject({ asOf: asOfParam.optional() }),
    response: z.object({ tables: z.array(tableJson) }),
    doc: {
      operationId: 'catalog',
      summary: 'The tables: schema, partition columns, files, rows, bytes and time span',
      tag: 'catalog',
      errors: ['DELTA_VERSION_NOT_FOUND'],
    },
    handler: async ({ query }) => {
      const catalog = await engine.catalog({ ...(query.asOf && { asOf: query.asOf }), depth: 0 })
      return { tables: catalog.tables.map(tableToJson) }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/catalog/partitions',
    query: z.strictObject({
      table: tableParam,
      depth: intParam(1, 5, 3, 'Partition levels to expand (quotes: year, month, day, source, crypto).'),
      asOf: asOfParam.optional(),
    }),
    response: z.object({
      table: z.enum(TABLES),
      version: z.number().int(),
      partition_columns: z.array(z.string()),
      partitions: z.array(partitionJson),
    }),
    doc: {
      operationId: 'partitions',
      summary: 'The partition tree with files, rows, bytes and time span per node',
      tag: 'catalog',
      errors: ['DELTA_VERSION_NOT_FOUND'],
    },
    handler: async ({ query }) => {
      quotesOnlyAsOf(query.table, query.asOf)
      const catalog = await engine.catalog({ ...(query.asOf && { asOf: query.asOf }), depth: query.depth })
      const table = catalog.tables.find((t) => t.name === query.table)
      if (table === undefined) {
        throw new CryptoVizError('NOT_FOUND', `no table ${query.table} in this warehouse`, { kind: 'user' })
      }
      return {
        table: table.name,
        version: table.version,
        partition_columns: table.partition_columns,
        partitions: table.partitions.map(partitionToJson),
      }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/history',
    query: z.strictObject({
      table: tableParam,
      limit: intParam(1, 1_000, 100, 'At most this many commits.'),
      asOf: asOfParam.optional().meta({ description: 'Only commits up to this version or time.' }),
    }),
    response: z.object({
      table: z.enum(TABLES),
      count: z.number().int(),
      entries: z.array(historyEntryJson),
    }),
    doc: {
      operationId: 'history',
      summary: 'Commits of a table, newest first',
      tag: 'catalog',
      errors: ['DELTA_VERSION_NOT_FOUND'],
    },
    handler: async ({ query }) => {
      quotesOnlyAsOf(query.table, query.asOf)
      // Entries are newest first: reading as of version V skips the (latest − V) newer ones.
      let skip = 0
      if (query.asOf) {
        const [asOfSnapshot, latest] = await Promise.all([engine.snapshot(query.asOf), engine.snapshot()])
        skip = latest.version - asOfSnapshot.version
      }
      const entries = (await engine.history({ table: query.table, limit: skip + query.limit })).slice(skip)
      return {
        table: query.table,
        count: entries.length,
        entries: entries.map((e) => ({
          version: e.version,
          timestamp: isoFromMillis(e.timestamp),
          operation: e.operation ?? null,
          operation_parameters: e.operationParameters,
          read_version: e.readVersion ?? null,
          is_blind_append: e.isBlindAppend ?? null,
          engine_info: e.engineInfo ?? null,
          files_added: e.filesAdded,
          files_removed: e.filesRemoved,
          rows_added: e.rowsAdded,
          rows_removed: e.rowsRemoved,
        })),
      }
    },
  })

  defineRoute(app, {
    method: 'GET',
    url: '/api/v1/files',
    query: z.strictObject({
      table: tableParam,
      crypto: slugListParam.optional().meta({ description: 'Only these assets (quotes only).' }),
      sources: slugListParam.optional().meta({ description: 'Only these sources.' }),
      start: timeParam.optional(),
      end: timeParam.optional(),
      asOf: asOfParam.optional(),
      limit: intParam(1, 10_000, 1_000, 'At most this many files.'),
      offset: intParam(0, 1_000_000_000, 0, 'Skip this many files (sorted by path).'),
    }),
    response: z.object({
      table: z.enum(TABLES),
      version: z.number().int(),
      files_total: z.number().int(),
      files_matched: z.number().int(),
      count: z.number().int(),
      files: z.array(fileJson),
    }),
    doc: {
      operationId: 'files',
      summary: 'Live data files, pruned by partition values and time statistics',
      tag: 'catalog',
      errors: ['DELTA_VERSION_NOT_FOUND', 'QUERY_INVALID'],
    },
    handler: async ({ query }) => {
      if (query.crypto && query.table !== 'quotes') {
        throw new CryptoVizError('INVALID_ARGUMENT', 'crypto filters the quotes table only', { kind: 'user' })
      }
      if (query.start !== undefined && query.end !== undefined && query.start > query.end) {
        throw new CryptoVizError('INVALID_ARGUMENT', 'start must not be after end', { kind: 'user' })
      }
      const partitions: Record<string, readonly string[]> = {
        ...(query.crypto && query.crypto.length > 0 && { crypto: query.crypto }),
        ...(query.sources && query.sources.length > 0 && { source: query.sources }),
      }
      const result = await engine.files({
        table: query.table,
        partitions,
        ...(query.start !== undefined && { start: query.start }),
        ...(query.end !== undefined && { end: query.end }),
        ...(query.asOf && { asOf: query.asOf }),
        limit: query.limit,
        offset: query.offset,
      })
      return {
        table: result.table,
        version: result.version,
        files_total: result.files_total,
        files_matched: result.files_matched,
        count: result.files.length,
        files: result.files.map((f) => ({
          path: f.path,
          partition: f.partition,
          size: f.size,
          rows: f.rows,
          min_ts: isoOrNull(f.min_ts),
          max_ts: isoOrNull(f.max_ts),
          modification_time: isoFromMillis(f.modification_time_ms),
        })),
      }
    },
  })
}
