/**
 * Delta table schemas: Spark's struct JSON (`metaData.schemaString`). Only the types this lake
 * writes and reads are modelled; nested types are kept as opaque JSON so foreign tables still
 * load (they are refused only if a reader feature demands it).
 */

export type PrimitiveType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | `decimal(${number},${number})`

export interface StructType {
  type: 'struct'
  fields: StructField[]
}

export interface ArrayType {
  type: 'array'
  elementType: DataType
  containsNull: boolean
}

export interface MapType {
  type: 'map'
  keyType: DataType
  valueType: DataType
  valueContainsNull: boolean
}

export type DataType = PrimitiveType | StructType | ArrayType | MapType

export interface StructField {
  name: string
  type: DataType
  nullable: boolean
  metadata: Record<string, unknown>
}

export const field = (name: string, type: DataType, nullable = true): StructField => ({
  name,
  type,
  nullable,
  metadata: {},
})

export const struct = (fields: StructField[]): StructType => ({ type: 'struct', fields })
