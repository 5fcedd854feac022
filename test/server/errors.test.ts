import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ERROR_CODES } from '../../src/errors.ts'
import { STATUS } from '../../src/server/errors.ts'
import { openFixture } from './fixture.ts'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
/** `| \`CODE\` | 400 | kind | …` rows of docs/errors.md. */
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (user|external|internal) \|/gm)].map((m) => [
    m[1]!,
    Number(m[2]),
  ]),
)

test('every error code is documented in docs/errors.md with the status the server answers', () => {
  for (const code of ERROR_CODES) {
    assert.ok(documented.has(code), `${code} is missing from docs/errors.md`)
    assert.equal(documented.get(code), STATUS[code], `${code}: documented status differs`)
  }
})

test('docs/errors.md documents no code that does not exist', () => {
  const known = new Set<string>(ERROR_CODES)
  for (const code of documented.keys()) assert.ok(known.has(code), `${code} is not in ERROR_CODES`)
})

test('every status is an HTTP error status', () => {
  for (const code of ERROR_CODES) {
    assert.ok(STATUS[code] >= 400 && STATUS[code] <= 599, code)
  }
})

test('an unknown route and a malformed URL answer with the same error body as everything else', async (t) => {
  const { app } = await openFixture(t)
  const missing = await app.inject('/api/v1/nope')
  assert.equal(missing.statusCode, 404)
  assert.deepEqual(Object.keys((missing.json() as { error: object }).error).sort(), ['code', 'message'])
  assert.equal((missing.json() as { error: { code: string } }).error.code, 'NOT_FOUND')
  const badUrl = await app.inject('/api/v1/%E0%A4%A/quotes')
  assert.equal(badUrl.statusCode, 400)
  assert.equal((badUrl.json() as { error: { code: string } }).error.code, 'INVALID_ARGUMENT')
})
