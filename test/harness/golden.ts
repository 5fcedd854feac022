/**
 * The golden Delta tables written by Spark and delta-rs (`../shared/fixtures/delta-golden/`
 * beside the repository). They are not part of the repository, so tests that use them skip with
 * a message naming the folder when it is absent.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from './python.ts'

export const GOLDEN_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'delta-golden')

/** The golden folder, or undefined when it is not present on this machine. */
export const goldenDir = (): string | undefined =>
  existsSync(join(GOLDEN_DIR, 'README.md')) ? GOLDEN_DIR : undefined

export const GOLDEN_MISSING = `golden Delta fixtures not found at ${GOLDEN_DIR} (../shared/fixtures/delta-golden/ beside the repository)`
