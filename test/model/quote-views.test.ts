/**
 * Every view of the quote follows its one declaration (`QUOTE_COLUMNS`): the zod schema, the
 * Delta schema, the Parquet data files, the JSON rows, the API's `columns` list and the CSV and
 * Parquet downloads. Adding or retyping a column in one place only makes this test fail.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetMetadata, parquetSchema } from 'hyparquet'
import type { StructType } from '../../src/lake/index.ts'
import { dataFilePath } from '../../src/lake/index.ts'
import { parseSchemaString, schemaToString } from '../../src/lake/schema-json.ts'
import { QUOTE_COLUMNS, QUOTE_FIELDS, quoteSchema } from '../../src/model/quote.ts'
import { isoFromMicros } from '../../src/micros.ts'
import { QUOTES_PARTITION_COLUMNS, QUOTES_SCHEMA } from '../../src/model/quote-table.ts'
import { quoteDownloadColumns, quoteJsonSchema } from '../../src/server/quote-json.ts'
import { END_US, openFixture } from '../server/fixture.ts'

const DATE_PARTITIONS = ['year', 'month', 'day']

test('the zod schema and the JSON schema have exactly the declared columns, in order', () => {
  assert.deepEqual(Object.keys(quoteSchema.shape), QUOTE_FIELDS)
  assert.deepEqual(Object.keys(quoteJsonSchema.shape), QUOTE_FIELDS)
})

test('a column the table declares NOT NULL is one the model refuses null for', () => {
  for (const f of QUOTE_FIELDS) {
    const acceptsNull = QUOTE_COLUMNS[f].schema.safeParse(null).success
    if (acceptsNull)
      assert.equal(QUOTE_COLUMNS[f].nullable, true, `${f} accepts null but is NOT NULL in the table`)
  }
})

test('the Delta schema is the declared columns then the date partitions, and round-trips through the lake', () => {
  const asLake: StructType = QUOTES_SCHEMA
  assert.deepEqual(
    asLake.fields.map((f) => [f.name, f.type, f.nullable]),
    [
      ...QUOTE_FIELDS.map((f) => [f, QUOTE_COLUMNS[f].type, QUOTE_COLUMNS[f].nullable]),
      ...DATE_PARTITIONS.map((p) => [p, 'string', false]),
    ],
  )
  assert.deepEqual(parseSchemaString(schemaToString(asLake)), asLake)
  for (const p of QUOTES_PARTITION_COLUMNS)
    assert.ok(
      asLake.fields.some((f) => f.name === p),
      p,
    )
})

test('download columns carry every declared column with the type it is stored as', () => {
  const kinds = { timestamp: 'timestamp', string: 'string', double: 'double', integer: 'int32' } as const
  assert.deepEqual(
    quoteDownloadColumns(QUOTE_FIELDS),
    QUOTE_FIELDS.map((name) => ({ name, kind: kinds[QUOTE_COLUMNS[name].type] })),
  )
})

test('data files, JSON rows, the CSV header, the Parquet download and the API column list follow the declaration', async (t) => {
  const fx = await openFixture(t)
  const stored = QUOTE_FIELDS.filter((f) => !QUOTES_PARTITION_COLUMNS.includes(f))

  const [file] = (await fx.warehouse.quotes.snapshot()).files()
  assert.ok(file)
  const bytes = readFileSync(join(fx.dir, 'quotes', dataFilePath(file)))
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  assert.deepEqual(
    parquetSchema(metadata).children.map((c) => c.element.name),
    stored,
  )

  const range = `start=${isoFromMicros(END_US - 86_400_000_000)}&end=${isoFromMicros(END_US)}`
  const json = (await fx.app.inject(`/api/v1/quotes?crypto=bitcoin&${range}&limit=1`)).json() as {
    rows: Record<string, unknown>[]
  }
  assert.deepEqual(Object.keys(json.rows[0] ?? {}), QUOTE_FIELDS)

  const csv = await fx.app.inject(`/api/v1/quotes?crypto=bitcoin&${range}&limit=1&format=csv`)
  assert.equal(csv.body.split('\r\n')[0], QUOTE_FIELDS.join(','))

  const parquet = await fx.app.inject(`/api/v1/quotes?crypto=bitcoin&${range}&limit=1&format=parquet`)
  const download = parquetMetadata(new Uint8Array(parquet.rawPayload).buffer)
  assert.deepEqual(
    parquetSchema(download).children.map((c) => c.element.name),
    QUOTE_FIELDS,
  )

  const openapi = (await fx.app.inject('/api/v1/openapi.json')).json() as {
    paths: Record<string, { get: { parameters: { name: string; description?: string }[] } }>
  }
  const columns = openapi.paths['/api/v1/quotes']?.get.parameters.find((p) => p.name === 'columns')
  assert.equal(columns?.description, `Comma-separated subset of: ${QUOTE_FIELDS.join(', ')}.`)
  const bad = await fx.app.inject(`/api/v1/quotes?crypto=bitcoin&${range}&columns=ts,not_a_column`)
  assert.equal(bad.statusCode, 400)
})
