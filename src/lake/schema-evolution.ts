/**
 * Schema evolution for appends with `mergeSchema`: the only change allowed is adding nullable
 * top-level columns at the end of the schema. Changing a column's type, adding a NOT NULL
 * column or relaxing a NOT NULL column is refused (DELTA_SCHEMA_MISMATCH), because files written
 * before would no longer match the schema. Old files simply lack the new columns; readers return
 * null for them.
 */
import { CryptoVizError } from '../errors.ts'
import type { Row } from './data-files.ts'
import type { DataType, StructField, StructType } from './schema.ts'
import { sameType, typeName } from './schema-json.ts'

const mismatch = (message: string, column: string): CryptoVizError =>
  new CryptoVizError('DELTA_SCHEMA_MISMATCH', message, { kind: 'user', details: { column } })

/**
 * The table schema extended by the incoming one; returns `table` itself when nothing is new.
 */
export function mergeSchemas(table: StructType, incoming: StructType): StructType {
  const byName = new Map(incoming.fields.map((f) => [f.name, f]))
  for (const f of table.fields) {
    const inc = byName.get(f.name)
    if (!inc) {
      if (!f.nullable) throw mismatch(`column "${f.name}" is NOT NULL and cannot be dropped`, f.name)
      continue
    }
    if (!sameType(f.type, inc.type)) {
      throw mismatch(
        `column "${f.name}" is ${typeName(f.type)}; cannot change it to ${typeName(inc.type)}`,
        f.name,
      )
    }
    if (!f.nullable && inc.nullable) {
      throw mismatch(`column "${f.name}" is NOT NULL; the incoming schema makes it nullable`, f.name)
    }
  }
  const known = new Set(table.fields.map((f) => f.name))
  const added: StructField[] = []
  for (const f of incoming.fields) {
    if (known.has(f.name)) continue
    if (!f.nullable)
      throw mismatch(`new column "${f.name}" must be nullable (older files have no value)`, f.name)
    added.push(f)
  }
  return added.length === 0 ? table : { type: 'struct', fields: [...table.fields, ...added] }
}

/**
 * The schema of a batch of rows: the table's fields plus a nullable field for every column the
 * rows carry that the table lacks. A new column's type comes from its non-null values: strings
 * → string, booleans → boolean, numbers → long if all are integers, else double (all nulls →
 * string). Pass an explicit schema to `append` when that guess is not what you want.
 */
export function inferIncomingSchema(rows: readonly Row[], table: StructType): StructType {
  const known = new Set(table.fields.map((f) => f.name))
  const seen = new Map<string, { kinds: Set<string>; fractional: boolean }>()
  for (const row of rows) {
    for (const key in row) {
      if (known.has(key)) continue
      const v = row[key]
      let s = seen.get(key)
      if (!s) {
        s = { kinds: new Set(), fractional: false }
        seen.set(key, s)
      }
      if (v === null || v === undefined) continue
      s.kinds.add(typeof v)
      if (typeof v === 'number' && !Number.isInteger(v)) s.fractional = true
    }
  }
  const added: StructField[] = []
  for (const [name, s] of seen) {
    if (s.kinds.size > 1)
      throw mismatch(`new column "${name}" mixes ${[...s.kinds].join(' and ')} values`, name)
    const kind = [...s.kinds][0]
    const type: DataType =
      kind === 'number' ? (s.fractional ? 'double' : 'long') : kind === 'boolean' ? 'boolean' : 'string'
    added.push({ name, type, nullable: true, metadata: {} })
  }
  return { type: 'struct', fields: [...table.fields, ...added] }
}
