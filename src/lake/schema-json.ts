/**
 * Reading and writing `metaData.schemaString` (Spark's struct JSON). Parsing validates the shape
 * with zod because the string comes from a log any engine may have written; nested types are
 * accepted as they are so foreign tables still load.
 */
import { z } from 'zod'
import { CryptoVizError } from '../errors.ts'
import type { DataType, StructField, StructType } from './schema.ts'

const dataType: z.ZodType<DataType> = z.lazy(() =>
  z.union([
    z.string(),
    z.object({ type: z.literal('struct'), fields: z.array(structField) }).loose(),
    z
      .object({ type: z.literal('array'), elementType: dataType, containsNull: z.boolean().default(true) })
      .loose(),
    z
      .object({
        type: z.literal('map'),
        keyType: dataType,
        valueType: dataType,
        valueContainsNull: z.boolean().default(true),
      })
      .loose(),
  ]),
) as z.ZodType<DataType>

const structField: z.ZodType<StructField> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: dataType,
    nullable: z.boolean().default(true),
    metadata: z.record(z.string(), z.unknown()).default({}),
  }),
) as z.ZodType<StructField>

const structType = z.object({ type: z.literal('struct'), fields: z.array(structField) }).loose()

export function parseSchemaString(schemaString: string): StructType {
  let json: unknown
  try {
    json = JSON.parse(schemaString)
  } catch (e) {
    throw new CryptoVizError(
      'DELTA_LOG_CORRUPT',
      `metaData.schemaString is not JSON: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
  const r = structType.safeParse(json)
  if (!r.success) {
    throw new CryptoVizError('DELTA_LOG_CORRUPT', `metaData.schemaString is not a struct: ${r.error.message}`)
  }
  return r.data as StructType
}

/** One-line Spark struct JSON with keys in Spark's order (name, type, nullable, metadata). */
export function schemaToString(schema: StructType): string {
  return JSON.stringify(normalise(schema))
}

function normalise(t: DataType): unknown {
  if (typeof t === 'string') return t
  switch (t.type) {
    case 'struct':
      return {
        type: 'struct',
        fields: t.fields.map((f) => ({
          name: f.name,
          type: normalise(f.type),
          nullable: f.nullable,
          metadata: f.metadata,
        })),
      }
    case 'array':
      return { type: 'array', elementType: normalise(t.elementType), containsNull: t.containsNull }
    case 'map':
      return {
        type: 'map',
        keyType: normalise(t.keyType),
        valueType: normalise(t.valueType),
        valueContainsNull: t.valueContainsNull,
      }
  }
}

/** True when two types are the same (field metadata and order included for structs). */
export const sameType = (a: DataType, b: DataType): boolean =>
  JSON.stringify(normalise(a)) === JSON.stringify(normalise(b))

/** A printable name for a type, for error messages. */
export const typeName = (t: DataType): string => (typeof t === 'string' ? t : t.type)
