/**
 * The checkpoint writer CryptoViz used before its own encoder (checkpoint-encoder.ts): the same
 * schema and rows handed to hyparquet-writer's general Parquet writer, row group by row group.
 * Kept as the reference the shredding encoder is proven against (checkpoint-encoder.test.ts):
 * both files must decode to the same actions, with our decoder and with hyparquet's row reader.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import type { ColumnSource } from 'hyparquet-writer'
import { ENGINE_INFO } from '../../src/engine-info.ts'
import { CHECKPOINT_SCHEMA, ROW_GROUP_ROWS, type CheckpointState } from '../../src/lake/checkpoint.ts'

const COLUMN_NAMES = ['txn', 'add', 'remove', 'metaData', 'protocol'] as const
type Row = Partial<Record<(typeof COLUMN_NAMES)[number], Record<string, unknown>>>

const long = (n: number | null | undefined): bigint | null =>
  n === null || n === undefined ? null : BigInt(Math.trunc(n))

const entries = (
  m: Record<string, string | null> | null | undefined,
): Array<{ key: string; value: string | null }> | null =>
  m === null || m === undefined
    ? null
    : Object.entries(m).map(([key, value]) => ({ key, value: value ?? null }))

function* rows(state: CheckpointState): Generator<Row> {
  const { protocol: p, metadata: m } = state
  yield {
    protocol: {
      minReaderVersion: p.minReaderVersion,
      minWriterVersion: p.minWriterVersion,
      readerFeatures: p.readerFeatures ?? null,
      writerFeatures: p.writerFeatures ?? null,
    },
  }
  yield {
    metaData: {
      id: m.id,
      name: m.name ?? null,
      description: m.description ?? null,
      format: { provider: m.format.provider, options: entries(m.format.options ?? {}) },
      schemaString: m.schemaString,
      partitionColumns: m.partitionColumns,
      configuration: entries(m.configuration ?? {}),
      createdTime: long(m.createdTime),
    },
  }
  for (const t of state.txns) {
    yield { txn: { appId: t.appId, version: long(t.version), lastUpdated: long(t.lastUpdated) } }
  }
  for (const a of state.adds) {
    yield {
      add: {
        path: a.path,
        partitionValues: entries(a.partitionValues),
        size: long(a.size),
        modificationTime: long(a.modificationTime),
        dataChange: false,
        stats: a.stats ?? null,
        tags: entries(a.tags),
      },
    }
  }
  for (const r of state.removes) {
    yield {
      remove: {
        path: r.path,
        deletionTimestamp: long(r.deletionTimestamp),
        dataChange: false,
        extendedFileMetadata: r.extendedFileMetadata ?? null,
        partitionValues: entries(r.partitionValues),
        size: long(r.size),
        tags: entries(r.tags),
      },
    }
  }
}

/** The state as a checkpoint written by hyparquet-writer (Snappy, no statistics). */
export function referenceCheckpoint(state: CheckpointState, rowGroupRows = ROW_GROUP_ROWS): Uint8Array {
  const out = new ByteWriter()
  const writer = new ParquetWriter({
    writer: out,
    schema: [...CHECKPOINT_SCHEMA],
    codec: 'SNAPPY',
    statistics: false,
    createdBy: ENGINE_INFO,
  })
  let group: Row[] = []
  const flush = (): void => {
    const columnData: ColumnSource[] = COLUMN_NAMES.map((name) => ({
      name,
      data: group.map((r) => r[name] ?? null),
    }))
    void writer.write({ columnData, rowGroupSize: group.length })
    group = []
  }
  for (const row of rows(state)) {
    group.push(row)
    if (group.length >= rowGroupRows) flush()
  }
  if (group.length > 0) flush()
  writer.finish()
  return out.getBytes().slice()
}
