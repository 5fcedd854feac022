/**
 * Query-string parameters of the HTTP routes. The ones the CLI shares live in `src/params/`;
 * they are re-exported here so a route imports every parameter from one place.
 */
import { z } from 'zod'

export {
  asOfParam,
  intParam,
  parseParams,
  slugListParam,
  timeParam,
  type AsOfParam,
} from '../params/params.ts'

export const downloadFormatParam = z
  .enum(['json', 'csv', 'parquet'])
  .default('json')
  .meta({ description: 'json (default), or a csv / parquet file download.' })
