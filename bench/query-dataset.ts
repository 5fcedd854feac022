/**
 * Where bench/query.ts keeps the tables it generates (git-ignored, reused when complete), so the
 * benches that read its full-size table find it without repeating the path.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface DatasetShape {
  assets: number
  days: number
  intervalSeconds: number
}

/** The warehouse folder of a generated query dataset. */
export const queryDatasetDir = (shape: DatasetShape): string =>
  join(
    dirname(dirname(fileURLToPath(import.meta.url))),
    '.cache',
    'bench',
    `query-${shape.assets}a-${shape.days}d-${shape.intervalSeconds}s`,
  )

/** The full-size dataset's shape (`bench/query.ts` without `--quick`). */
export const FULL_SIZE_SHAPE: DatasetShape = { assets: 100, days: 365, intervalSeconds: 60 }

/** The quotes table of the full-size dataset (52.6M rows, 36,500 files). */
export const FULL_SIZE_QUOTES_TABLE = join(queryDatasetDir(FULL_SIZE_SHAPE), 'quotes')
