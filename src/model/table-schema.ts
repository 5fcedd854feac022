/**
 * The model's description of a Delta table: the same JSON shape as the lake's `StructType`
 * (`metaData.schemaString`), so a table definition can be handed to the lake as is, while the
 * model imports nothing outside itself (the layer rule; test/model checks the shapes agree).
 */

/** The stored column types the model's tables use (a subset of the lake's primitive types). */
export type ColumnType = 'timestamp' | 'string' | 'double' | 'integer'

/** One column of a table. */
export interface TableField {
  /** Column name. */
  name: string
  /** Stored type. */
  type: ColumnType
  /** Whether the column admits nulls. */
  nullable: boolean
  /** Delta column metadata; the model's tables carry none. */
  metadata: Record<string, unknown>
}

/** A table's schema: a struct of its columns, partition columns included. */
export interface TableSchema {
  type: 'struct'
  fields: TableField[]
}

/** A column of a table schema. */
export const column = (name: string, type: ColumnType, nullable = true): TableField => ({
  name,
  type,
  nullable,
  metadata: {},
})
