/**
 * `GET /api/v1/gaps` over the fixture warehouse: hourly simulated quotes for 3 days (no gap at an
 * hourly cadence) and a second source for bitcoin on the last day only (silent for two days).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DAY_US, END_US, HOUR_US, openFixture, START_US } from './fixture.ts'

const iso = (us: number): string => new Date(us / 1000).toISOString()

interface GapsBody {
  version: number
  cryptos: string[]
  count: number
  gaps: {
    source: string
    crypto: string
    from: string
    to: string
    duration_ms: number
    missed_polls: number
  }[]
}

test('gaps finds the silence of a source that started late, and none in a regular series', async (t) => {
  const { app } = await openFixture(t)
  const r = await app.inject(
    `/api/v1/gaps?crypto=bitcoin&start=${iso(START_US)}&end=${iso(END_US)}&intervalMs=3600000&factor=1.5`,
  )
  assert.equal(r.statusCode, 200, r.body)
  const body = r.json() as GapsBody
  assert.deepEqual(body.cryptos, ['bitcoin'])
  assert.equal(body.count, 1)
  const [gap] = body.gaps
  assert.equal(gap!.source, 'coingecko')
  assert.equal(gap!.from, iso(START_US))
  assert.equal(gap!.to, iso(END_US - DAY_US))
  assert.equal(gap!.duration_ms, (2 * DAY_US) / 1000)
  assert.equal(gap!.missed_polls, 47)
})

test('gaps at a finer cadence than the data reports every hour; a source filter and asOf narrow it', async (t) => {
  const { app } = await openFixture(t)
  const window = `start=${iso(END_US - 6 * HOUR_US)}&end=${iso(END_US)}`
  const fine = (
    await app.inject(`/api/v1/gaps?crypto=ethereum&${window}&intervalMs=60000`)
  ).json() as GapsBody
  // Six hourly quotes in a six-hour window: a silence between each pair and after the last.
  assert.equal(fine.count, 6)
  assert.ok(fine.gaps.every((g) => g.source === 'simulated' && g.duration_ms === 3_600_000))
  const none = (
    await app.inject(`/api/v1/gaps?crypto=bitcoin&sources=coingecko&${window}&intervalMs=3600000`)
  ).json() as GapsBody
  assert.equal(none.count, 0)
  // As of version 3, coingecko had written nothing: one gap over the whole window.
  const old = (
    await app.inject(`/api/v1/gaps?crypto=bitcoin&sources=coingecko&${window}&intervalMs=3600000&asOf=3`)
  ).json() as GapsBody
  assert.equal(old.version, 3)
  assert.equal(old.count, 1)
  assert.equal(old.gaps[0]!.from, iso(END_US - 6 * HOUR_US))
})

test('gaps without crypto covers the overview assets; bad parameters are 400 naming them', async (t) => {
  const { app } = await openFixture(t)
  const all = (await app.inject(`/api/v1/gaps?intervalMs=3600000&factor=2`)).json() as GapsBody
  assert.deepEqual([...all.cryptos].sort(), ['bitcoin', 'ethereum', 'tether'].sort())
  for (const bad of [
    'factor=0.5',
    'intervalMs=0',
    'crypto=Not%20A%20Slug',
    'start=2024-01-03&end=2024-01-02',
    'nope=1',
  ]) {
    const r = await app.inject(`/api/v1/gaps?${bad}`)
    assert.equal(r.statusCode, 400, bad)
    assert.equal((r.json() as { error: { code: string } }).error.code, 'INVALID_ARGUMENT', bad)
  }
})
