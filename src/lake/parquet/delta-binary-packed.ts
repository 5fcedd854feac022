/**
 * DELTA_BINARY_PACKED for INT64 columns (timestamps): sorted values whose deltas pack into a byte
 * or two instead of eight. Read by Spark ≥ 3.3, Trino, DuckDB, arrow-rs, pyarrow and Polars.
 */
import { ByteWriter } from 'hyparquet-writer'
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js'

/** The values (safe integers held as doubles) DELTA_BINARY_PACKED as INT64. */
export function deltaBinaryPackedInt64(values: Float64Array): Uint8Array {
  const big = new BigInt64Array(values.length)
  for (let i = 0; i < values.length; i++) big[i] = BigInt(values[i]!)
  const out = new ByteWriter(values.length * 2 + 64)
  deltaBinaryPack(out, big, 'INT64')
  return out.getBytes()
}
