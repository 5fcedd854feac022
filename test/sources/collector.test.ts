import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CryptoVizError } from '../../src/errors.ts'
import type { Quote } from '../../src/model/quote.ts'
import { Collector } from '../../src/sources/collector.ts'
import { CoinGeckoSource } from '../../src/sources/coingecko.ts'
import { deadLetter } from '../../src/sources/dead-letters.ts'
import type { DeadLetter } from '../../src/model/dead-letter.ts'
import type { PollResult, QuoteSource } from '../../src/sources/source.ts'
import { systemDeps } from '../../src/sources/source-deps.ts'
import { FakeClock } from './helpers/fake-clock.ts'
import { startProviderServer } from './helpers/provider-server.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

function quote(source: string, ts: number): Quote {
  return makeQuote({ ts, source })
}

/** A source whose polls are scripted by a function of the poll number; records poll times. */
class ScriptedSource implements QuoteSource {
  readonly name: string
  readonly intervalMs: number
  readonly pollTimes: number[] = []
  private readonly clock: FakeClock
  private readonly script: (n: number, now: number) => PollResult

  constructor(
    name: string,
    intervalMs: number,
    clock: FakeClock,
    script: (n: number, now: number) => PollResult,
  ) {
    this.name = name
    this.intervalMs = intervalMs
    this.clock = clock
    this.script = script
  }

  async poll(): Promise<PollResult> {
    this.pollTimes.push(this.clock.now())
    return this.script(this.pollTimes.length, this.clock.now())
  }
}

/** Runs the collector on the fake clock until `until` ms have passed. */
async function runUntil(collector: Collector, clock: FakeClock, until: number): Promise<void> {
  const ctrl = new AbortController()
  clock.stopAt(clock.now() + until, ctrl)
  await collector.run(ctrl.signal)
}

test('polls each source on its own interval and delivers its quotes and dead letters', async () => {
  const clock = new FakeClock(0)
  const fast = new ScriptedSource('fast', 1000, clock, (_, now) => ({
    quotes: [quote('fast', now)],
    deadLetters: [],
  }))
  const slow = new ScriptedSource('slow', 3000, clock, (_, now) => ({
    quotes: [],
    deadLetters: [deadLetter('slow', 'price_missing', 'price is null', { id: 'x' }, now)],
  }))
  const got: [string, number][] = []
  const dls: [string, string][] = []
  const collector = new Collector(
    [fast, slow],
    {
      onQuotes: (qs, source) => void got.push(...qs.map((q): [string, number] => [source, q.ts])),
      onDeadLetters: (d, source) => void dls.push(...d.map((x): [string, string] => [source, x.reason])),
    },
    {},
    clock.deps(),
  )
  await runUntil(collector, clock, 6000)
  assert.deepEqual(fast.pollTimes.slice(0, 6), [0, 1000, 2000, 3000, 4000, 5000])
  assert.deepEqual(slow.pollTimes.slice(0, 2), [0, 3000])
  assert.deepEqual(got.slice(0, 3), [
    ['fast', 0],
    ['fast', 1000],
    ['fast', 2000],
  ])
  assert.deepEqual(dls[0], ['slow', 'price_missing'])
  const [hFast, hSlow] = collector.health()
  assert.equal(hFast?.state, 'stopped')
  assert.equal(hFast?.quotes, got.length)
  assert.equal(hSlow?.deadLetters, dls.length)
  assert.equal(hSlow?.lastSuccessAt, slow.pollTimes.at(-1))
})

test('one source failing never stops or delays the others', async () => {
  const clock = new FakeClock(0)
  const broken = new ScriptedSource('broken', 1000, clock, () => {
    throw new CryptoVizError('SOURCE_HTTP', 'HTTP 503', { kind: 'external', canRetry: true })
  })
  const fine = new ScriptedSource('fine', 1000, clock, (_, now) => ({
    quotes: [quote('fine', now)],
    deadLetters: [],
  }))
  const errors: string[] = []
  const collector = new Collector(
    [broken, fine],
    {
      onQuotes: () => {},
      onDeadLetters: () => {},
      onError: (source, _e, phase) => void errors.push(`${source}:${phase}`),
    },
    { maxBackoffMs: 8000 },
    clock.deps(),
  )
  await runUntil(collector, clock, 20_000)
  assert.deepEqual(fine.pollTimes.slice(0, 5), [0, 1000, 2000, 3000, 4000])
  const health = collector.health()
  const b = health.find((h) => h.source === 'broken')
  const f = health.find((h) => h.source === 'fine')
  assert.ok(b && f)
  assert.equal(b.failures, broken.pollTimes.length)
  assert.equal(b.consecutiveFailures, broken.pollTimes.length)
  assert.equal(b.lastSuccessAt, null)
  assert.deepEqual(
    { code: b.lastError?.code, message: b.lastError?.message, phase: b.lastError?.phase },
    { code: 'SOURCE_HTTP', message: 'HTTP 503', phase: 'poll' },
  )
  assert.equal(f.failures, 0)
  assert.equal(f.lastError, null)
  assert.ok(errors.every((e) => e === 'broken:poll'))
})

test('backs off exponentially with jitter after failures, capped, and resets after a success', async () => {
  const clock = new FakeClock(0)
  clock.random = 0.5
  const flaky = new ScriptedSource('flaky', 1000, clock, (n, now) => {
    if (n <= 5) throw new Error(`failure ${n}`)
    return { quotes: [quote('flaky', now)], deadLetters: [] }
  })
  const collector = new Collector(
    [flaky],
    { onQuotes: () => {}, onDeadLetters: () => {} },
    { maxBackoffMs: 6000 },
    clock.deps(),
  )
  const backoffs: number[] = []
  const ctrl = new AbortController()
  clock.onSleep = () => {
    backoffs.push(collector.health()[0]?.currentBackoffMs ?? -1)
    if (clock.sleeps.length >= 7) ctrl.abort()
  }
  await collector.run(ctrl.signal)
  // Equal jitter of min(6000, 1000·2^(n−1)), never below the interval.
  assert.deepEqual(clock.sleeps, [1000, 1500, 3000, 4500, 4500, 1000, 1000])
  assert.deepEqual(backoffs, [0, 500, 2000, 3500, 3500, 0, 0])
})

test('waits at least what the failed poll asked for with retryAfterMs', async () => {
  const clock = new FakeClock(0)
  const limited = new ScriptedSource('limited', 1000, clock, () => {
    throw new CryptoVizError('SOURCE_BUDGET_EXHAUSTED', 'out of credits', {
      details: { retryAfterMs: 3_600_000 },
    })
  })
  const collector = new Collector(
    [limited],
    { onQuotes: () => {}, onDeadLetters: () => {} },
    {},
    clock.deps(),
  )
  const ctrl = new AbortController()
  clock.onSleep = () => ctrl.abort()
  await collector.run(ctrl.signal)
  assert.deepEqual(clock.sleeps, [3_600_000])
  assert.equal(collector.health()[0]?.currentBackoffMs, 3_599_000)
})

test('delivers the dead letters a failed poll carries', async () => {
  const clock = new FakeClock(0)
  const dl = deadLetter('cg', 'body_not_json', 'HTTP 200 body is not JSON', '<html>', 0)
  const failing = new ScriptedSource('cg', 1000, clock, () => {
    throw new CryptoVizError('SOURCE_BAD_RESPONSE', 'not JSON', { details: { deadLetters: [dl] } })
  })
  const got: DeadLetter[] = []
  const collector = new Collector(
    [failing],
    { onQuotes: () => {}, onDeadLetters: (d) => void got.push(...d) },
    {},
    clock.deps(),
  )
  const ctrl = new AbortController()
  clock.onSleep = () => ctrl.abort()
  await collector.run(ctrl.signal)
  assert.deepEqual(got, [dl])
  assert.equal(collector.health()[0]?.deadLetters, 1)
})

test('a callback that throws is reported on the source and polling goes on', async () => {
  const clock = new FakeClock(0)
  const src = new ScriptedSource('s', 1000, clock, (_, now) => ({
    quotes: [quote('s', now)],
    deadLetters: [],
  }))
  const collector = new Collector(
    [src],
    {
      onQuotes: () => {
        throw new Error('bus full')
      },
      onDeadLetters: () => {},
    },
    {},
    clock.deps(),
  )
  await runUntil(collector, clock, 2500)
  const h = collector.health()[0]
  assert.deepEqual(src.pollTimes, [0, 1000, 2000])
  assert.deepEqual([h?.lastError?.phase, h?.lastError?.message], ['deliver', 'bus full'])
  assert.equal(h?.failures, 0)
  assert.equal(h?.quotes, 0)
})

test('stops cleanly when the signal aborts during a poll', async () => {
  let aborted = false
  const hanging: QuoteSource = {
    name: 'hanging',
    intervalMs: 1000,
    poll: (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true
          reject(signal.reason)
        }),
      ),
  }
  const collector = new Collector([hanging], { onQuotes: () => {}, onDeadLetters: () => {} }, {}, systemDeps)
  const ctrl = new AbortController()
  const running = collector.run(ctrl.signal)
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(collector.health()[0]?.state, 'polling')
  ctrl.abort()
  await running
  assert.equal(aborted, true)
  const h = collector.health()[0]
  assert.equal(h?.state, 'stopped')
  assert.equal(h?.failures, 0)
  assert.equal(h?.nextPollAt, null)
})

test('health shows the provider circuit, requests and calls of a live source', async (t) => {
  const server = await startProviderServer(t, () => ({ status: 500, body: 'down' }))
  const clock = new FakeClock()
  const cg = new CoinGeckoSource(
    {
      baseUrl: server.baseUrl,
      intervalMs: 60_000,
      retry: { maxAttempts: 1 },
      circuitBreaker: { failureThreshold: 2, openMs: 600_000 },
      rateLimit: { requestsPerMinute: 6000, burst: 100 },
    },
    clock.deps(),
  )
  const collector = new Collector([cg], { onQuotes: () => {}, onDeadLetters: () => {} }, {}, clock.deps())
  const ctrl = new AbortController()
  clock.onSleep = () => {
    if (collector.health()[0]?.calls === 3) ctrl.abort()
  }
  await collector.run(ctrl.signal)
  const h = collector.health()[0]
  assert.equal(h?.calls, 3)
  assert.equal(h?.requests, 2)
  assert.equal(h?.circuit, 'open')
  assert.equal(h?.lastError?.code, 'SOURCE_CIRCUIT_OPEN')
  assert.equal(h?.creditsUsed, null)
})
