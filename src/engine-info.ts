/**
 * This engine's name and version, as written into what it produces: `commitInfo.engineInfo` of
 * every commit and `created_by` of every Parquet file (data files, checkpoints, downloads).
 * test/architecture/engine-info.test.ts checks the version against package.json.
 *
 * A neutral module (like `errors.ts`): it imports nothing, and every layer may import it.
 */

/** The release, as in package.json. */
export const VERSION = '0.1.0'

/** `CryptoViz/<version>`: commitInfo.engineInfo and Parquet created_by. */
export const ENGINE_INFO = `CryptoViz/${VERSION}`
