/**
 * Which Delta protocols this lake can read and write. Reading implements reader version 1 (plain
 * Parquet files, URI-encoded paths, stats); writing implements writer version 2 (appendOnly,
 * NOT NULL enforcement, refusal of `delta.invariants`). Anything more is refused with
 * DELTA_UNSUPPORTED_FEATURE naming the feature, because silently ignoring e.g. deletion vectors
 * or column mapping returns wrong rows.
 */
import { CryptoVizError } from '../errors.ts'
import type { Protocol } from './actions.ts'
import type { StructField } from './schema.ts'

export const READER_VERSION = 1
export const WRITER_VERSION = 2

/** Reader features that do not change how data is read (vacuumProtocolCheck only constrains VACUUM). */
const HARMLESS_READER_FEATURES = new Set(['vacuumProtocolCheck'])

const WRITER_VERSION_FEATURES: Record<number, string> = {
  3: 'checkConstraints',
  4: 'changeDataFeed/generatedColumns',
  5: 'columnMapping',
  6: 'identityColumns',
  7: 'table features',
}

const unsupported = (feature: string, what: string): CryptoVizError =>
  new CryptoVizError(
    'DELTA_UNSUPPORTED_FEATURE',
    `table uses ${what} "${feature}", which CryptoViz does not support`,
    {
      kind: 'user',
      details: { feature },
    },
  )

/** Throws unless every reader requirement of the protocol is implemented here. */
export function assertReadable(protocol: Protocol): void {
  const v = protocol.minReaderVersion
  if (v <= READER_VERSION) return
  if (v === 2) throw unsupported('columnMapping', 'reader version 2 feature')
  if (v === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (!HARMLESS_READER_FEATURES.has(feature)) throw unsupported(feature, 'reader feature')
    }
    return
  }
  throw unsupported(`readerVersion ${v}`, 'protocol')
}

/** Throws unless this lake may commit to a table with this protocol and metadata. */
export function assertWritable(protocol: Protocol, schemaFields: StructField[]): void {
  assertReadable(protocol)
  const v = protocol.minWriterVersion
  if (v > WRITER_VERSION) {
    const feature =
      v === 7 ? (protocol.writerFeatures ?? []).join(', ') || 'table features' : WRITER_VERSION_FEATURES[v]
    throw unsupported(feature ?? `writerVersion ${v}`, `writer version ${v} feature`)
  }
  const withInvariants = findInvariants(schemaFields)
  if (withInvariants.length > 0) {
    throw unsupported(`invariants on ${withInvariants.join(', ')}`, 'column')
  }
}

function findInvariants(fields: StructField[], prefix = ''): string[] {
  const out: string[] = []
  for (const f of fields) {
    const name = prefix + f.name
    if (f.metadata && 'delta.invariants' in f.metadata) out.push(name)
    if (typeof f.type === 'object' && f.type.type === 'struct')
      out.push(...findInvariants(f.type.fields, `${name}.`))
  }
  return out
}
