import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCryptoVizError } from '../../src/errors.ts'
import type { Quote } from '../../src/model/quote.ts'
import { AutoSource, type AutoState } from '../../src/sources/auto-source.ts'
import { Collector } from '../../src/sources/collector.ts'
import { createSources, parseSourceModes } from '../../src/sources/create-sources.ts'
import type { PollResult, QuoteSource } from '../../src/sources/source.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { cgBitcoin } from './helpers/fixtures.ts'
import { refusedBaseUrl, startProviderServer } from './helpers/provider-server.ts'

const EMPTY: PollResult = { quotes: [], deadLetters: [] }

/** A live source that answers or fails as the test says. */
class SwitchSource implements QuoteSource {
  readonly intervalMs = 1000
  readonly name: string
  up: boolean
  constructor(name: string, up: boolean) {
    this.name = name
    this.up = up
  }
  async poll(): Promise<PollResult> {
    if (!this.up) throw new Error(`${this.name} unreachable`)
    return EMPTY
  }
}

const fakeSimulated: QuoteSource = {
  name: 'simulated',
  intervalMs: 1000,
  poll: async () => ({ quotes: [{ crypto: 'bitcoin', source: 'simulated' } as Quote], deadLetters: [] }),
}

test('falls back to the simulated source when no live provider answers, and says so loudly', async () => {
  const clock = new FakeClock()
  const selection = createSources(
    'auto',
    {
      coingecko: { baseUrl: await refusedBaseUrl(), retry: { maxAttempts: 1 } },
      simulated: { assets: 3, intervalMs: 1000, seed: 7 },
    },
    clock.deps(),
  )
  assert.ok(selection.auto)
  assert.deepEqual(
    selection.sources.map((s) => s.name),
    ['coingecko', 'simulated'],
  )
  const changes: AutoState[] = []
  selection.auto.onChange((s) => changes.push(s))
  const bySource = new Map<string, Quote[]>()
  const collector = new Collector(
    selection.sources,
    {
      onQuotes: (qs, source) => void bySource.set(source, [...(bySource.get(source) ?? []), ...qs]),
      onDeadLetters: () => {},
    },
    {},
    clock.deps(),
  )
  const ctrl = new AbortController()
  clock.stopAt(clock.now() + 2500, ctrl)
  await collector.run(ctrl.signal)

  const state = selection.auto.state()
  assert.equal(state.mode, 'fallback')
  assert.deepEqual(state.live, [])
  assert.match(state.down['coingecko'] ?? '', /coingecko: request failed/)
  assert.deepEqual(state.notConfigured, { coinmarketcap: 'no API key (CRYPTOVIZ_CMC_API_KEY)' })
  assert.match(
    state.message,
    /^FALLBACK: no live provider answers \(coingecko: .*coinmarketcap: no API key.*\); serving simulated quotes$/,
  )
  assert.deepEqual(
    changes.map((c) => c.mode),
    ['fallback'],
  )
  // Three polls (t = 0, 1 s, 2 s) of three simulated assets, all labelled simulated.
  const simulated = bySource.get('simulated') ?? []
  assert.equal(simulated.length, 9)
  assert.ok(simulated.every((q) => q.source === 'simulated'))
  assert.equal(bySource.get('coingecko'), undefined)
})

test('stays live and emits no simulated quote while a provider answers', async (t) => {
  const server = await startProviderServer(t, () => ({ body: [cgBitcoin()] }))
  const clock = new FakeClock()
  const selection = createSources(
    'auto',
    { coingecko: { baseUrl: server.baseUrl, intervalMs: 1000 }, simulated: { assets: 3, intervalMs: 1000 } },
    clock.deps(),
  )
  const sources = new Set<string>()
  const collector = new Collector(
    selection.sources,
    { onQuotes: (_, source) => void sources.add(source), onDeadLetters: () => {} },
    {},
    clock.deps(),
  )
  const ctrl = new AbortController()
  clock.stopAt(clock.now() + 2500, ctrl)
  await collector.run(ctrl.signal)
  assert.equal(selection.auto?.state().mode, 'live')
  assert.deepEqual(selection.auto?.state().live, ['coingecko'])
  assert.deepEqual([...sources], ['coingecko'])
})

test('a provider that answered before is down only after repeated failures, and live again when it answers', async () => {
  const clock = new FakeClock()
  const cg = new SwitchSource('coingecko', true)
  const auto = new AutoSource([cg], fakeSimulated, { fallbackAfterFailures: 3 }, clock)
  const [tracked, gate] = auto.sources as [QuoteSource, QuoteSource]
  const modes: string[] = []
  auto.onChange((s) => modes.push(s.mode))
  const signal = new AbortController().signal
  assert.equal(auto.state().mode, 'probing')
  await tracked.poll(signal)
  assert.equal(auto.state().mode, 'live')
  cg.up = false
  for (let i = 0; i < 2; i++) await assert.rejects(tracked.poll(signal))
  assert.equal(auto.state().mode, 'live')
  assert.deepEqual(await gate.poll(signal), EMPTY)
  await assert.rejects(tracked.poll(signal))
  assert.equal(auto.state().mode, 'fallback')
  assert.deepEqual(auto.state().down, { coingecko: 'coingecko unreachable' })
  assert.equal((await gate.poll(signal)).quotes.length, 1)
  cg.up = true
  await tracked.poll(signal)
  assert.equal(auto.state().mode, 'live')
  assert.deepEqual(modes, ['live', 'fallback', 'live'])
  assert.equal(auto.state().switches, 3)
})

test('stays live while any one of several providers answers', async () => {
  const clock = new FakeClock()
  const cg = new SwitchSource('coingecko', false)
  const cmc = new SwitchSource('coinmarketcap', true)
  const auto = new AutoSource([cg, cmc], fakeSimulated, {}, clock)
  const [tCg, tCmc] = auto.sources as [QuoteSource, QuoteSource]
  const signal = new AbortController().signal
  await assert.rejects(tCg.poll(signal))
  assert.equal(auto.state().mode, 'probing')
  await tCmc.poll(signal)
  assert.equal(auto.state().mode, 'live')
  assert.deepEqual(auto.state().live, ['coinmarketcap'])
  assert.match(auto.state().message, /^live data from coinmarketcap \(coingecko: coingecko unreachable\)$/)
})

test('the fallback gate waits for every live provider to be heard before serving simulated quotes', async () => {
  const clock = new FakeClock()
  let release: (() => void) | undefined
  const slow: QuoteSource = {
    name: 'coingecko',
    intervalMs: 1000,
    poll: () =>
      new Promise((_, reject) => {
        release = () => reject(new Error('timed out'))
      }),
  }
  const auto = new AutoSource([slow], fakeSimulated, {}, clock)
  const [tracked, gate] = auto.sources as [QuoteSource, QuoteSource]
  const signal = new AbortController().signal
  const live = tracked.poll(signal).catch(() => 'failed')
  let released = false
  let servedBeforeVerdict = false
  const gated = gate.poll(signal).finally(() => {
    servedBeforeVerdict = !released
  })
  await new Promise((r) => setImmediate(r))
  released = true
  release?.()
  assert.equal(await live, 'failed')
  const served = await gated
  assert.equal(servedBeforeVerdict, false)
  assert.equal(served.quotes.length, 1)
})

test('a gate waiting for the verdict stops when its signal aborts', async () => {
  const never: QuoteSource = { name: 'coingecko', intervalMs: 1000, poll: () => new Promise(() => {}) }
  const auto = new AutoSource([never], fakeSimulated, {}, new FakeClock())
  const ctrl = new AbortController()
  const gated = (auto.sources[1] as QuoteSource).poll(ctrl.signal)
  ctrl.abort(new Error('shutting down'))
  await assert.rejects(gated, /shutting down/)
})

test('auto includes CoinMarketCap only when its key is set', () => {
  const withKey = createSources('auto', { coinmarketcap: { apiKey: 'k' } })
  assert.deepEqual(
    withKey.sources.map((s) => s.name),
    ['coingecko', 'coinmarketcap', 'simulated'],
  )
  assert.deepEqual(withKey.auto?.state().notConfigured, {})
  assert.ok(withKey.coingecko)
})

test('explicit modes build exactly the named sources, in order, without a selector', () => {
  const sel = createSources('simulated, coingecko,simulated', {}, { simulated: () => fakeSimulated })
  assert.deepEqual(
    sel.sources.map((s) => s.name),
    ['simulated', 'coingecko'],
  )
  assert.equal(sel.auto, null)
  assert.equal(sel.sources[0], fakeSimulated)
})

test('rejects unknown modes, auto combined with others, and coinmarketcap without a key', () => {
  const configInvalid = (re: RegExp) => (e: unknown) =>
    isCryptoVizError(e, 'CONFIG_INVALID') && re.test(e.message)
  assert.throws(() => parseSourceModes('coingecko,binance'), configInvalid(/unknown source "binance"/))
  assert.throws(() => parseSourceModes('auto,simulated'), configInvalid(/cannot be combined/))
  assert.throws(() => parseSourceModes(' , '), configInvalid(/empty/))
  assert.throws(() => createSources('coinmarketcap'), configInvalid(/needs an API key/))
  assert.equal(parseSourceModes('auto'), 'auto')
})
