import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import type { Quote } from '../../src/model/quote.ts'
import { LiveFeed } from '../../src/stream/live-feed.ts'
import { openFixture, type FixtureOptions } from './fixture.ts'
import { openSse, type SseClient } from './sse-client.ts'
import { makeQuote } from '../harness/quote-fixture.ts'

const quote = (crypto: string, i: number, source = 'simulated'): Quote =>
  makeQuote({
    ts: 1_700_000_000_000_000 + i * 1_000_000,
    source,
    crypto,
    symbol: crypto.slice(0, 3).toUpperCase(),
    name: crypto,
    price_usd: 100 + i,
  })

async function listening(t: TestContext, options: FixtureOptions = {}) {
  const fixture = await openFixture(t, options)
  await fixture.app.listen({ host: '127.0.0.1', port: 0 })
  const address = fixture.app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { ...fixture, url: `http://127.0.0.1:${port}`, port }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A client that sends its request and then never reads: its receive window fills up. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
      socket.pause()
      resolve(socket)
    })
    socket.on('error', () => {})
    socket.once('error', reject)
  })
}

test('500 concurrent clients receive every event in order while a stalled client is dropped', async (t) => {
  const CLIENTS = 500
  const EVENTS = 200
  const MAX_BUFFERED = 64 * 1024
  const started = performance.now()
  const { url, port, feed, app } = await listening(t, {
    stream: { maxBufferedBytes: MAX_BUFFERED, heartbeatMs: 60_000 },
  })
  const stalled = await stalledClient(port)
  t.after(() => stalled.destroy())
  const clients: SseClient[] = []
  for (let i = 0; i < CLIENTS; i += 50) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: 50 }, () => openSse(`${url}/api/v1/stream?crypto=bitcoin`)),
      )),
    )
  }
  t.after(() => clients.forEach((c) => c.close()))
  await until(() => feed.subscriberCount === CLIENTS + 1)
  const connectedMs = performance.now() - started

  // Bitcoin events reach everyone; "filler" events only reach the stalled (unfiltered) client,
  // enough of them to fill its socket buffers and then its user-space limit.
  const expected: string[] = []
  feed.subscribe((e) => {
    if (e.quote.crypto === 'bitcoin') expected.push(String(e.id))
  })
  let filler = 0
  for (let i = 0; i < EVENTS; i++) {
    feed.push([quote('bitcoin', i)])
    const burst: Quote[] = []
    for (let j = 0; j < 150; j++) burst.push(quote('filler', filler++))
    feed.push(burst)
    await tick()
  }
  const pushedMs = performance.now() - started
  await Promise.all(clients.map((c) => c.waitForEvents(EVENTS)))
  const deliveredMs = performance.now() - started

  for (const c of clients) {
    assert.deepEqual(
      c.events.map((e) => e.id),
      expected,
    )
  }
  // The stalled client never held the others up: delivery ends right after the last push.
  assert.ok(
    deliveredMs - pushedMs < 2_000,
    `delivered ${Math.round(deliveredMs - pushedMs)} ms after the last push`,
  )
  const sample = JSON.parse(clients[0]!.events[7]!.data) as { crypto: string; price_usd: number }
  assert.equal(sample.crypto, 'bitcoin')
  assert.equal(sample.price_usd, 107)
  // The stalled client is gone, the others are all still connected.
  assert.equal(feed.subscriberCount, CLIENTS + 1, 'the test listener and the 500 clients')
  const metrics = (await app.inject('/metrics')).body
  assert.match(metrics, /^cryptoviz_sse_dropped_total 1$/m)
  assert.match(metrics, new RegExp(`^cryptoviz_sse_clients ${CLIENTS}$`, 'm'))
  t.diagnostic(
    `${CLIENTS} clients × ${EVENTS} events (+${filler} filler to the stalled one): connected ${Math.round(connectedMs)} ms, ` +
      `pushed ${Math.round(pushedMs)} ms, all delivered ${Math.round(deliveredMs)} ms`,
  )
})

test('a reconnecting client resumes after Last-Event-ID, or is told to reload when the ring moved on', async (t) => {
  const feed = new LiveFeed({ capacity: 10 })
  const { url } = await listening(t, { feed })
  feed.push([1, 2, 3, 4, 5].map((i) => quote('bitcoin', i)))

  const resumed = await openSse(`${url}/api/v1/stream`, { 'last-event-id': '2' })
  t.after(() => resumed.close())
  await resumed.waitForEvents(3)
  assert.deepEqual(
    resumed.events.map((e) => e.id),
    ['3', '4', '5'],
  )
  feed.push([quote('bitcoin', 6)])
  await resumed.waitForEvents(4)
  assert.equal(resumed.events[3]!.id, '6')

  const byQuery = await openSse(`${url}/api/v1/stream?lastEventId=4`)
  t.after(() => byQuery.close())
  await byQuery.waitForEvents(2)
  assert.deepEqual(
    byQuery.events.map((e) => e.id),
    ['5', '6'],
  )

  feed.push(Array.from({ length: 20 }, (_, i) => quote('bitcoin', 10 + i)))
  const tooOld = await openSse(`${url}/api/v1/stream`, { 'last-event-id': '3' })
  t.after(() => tooOld.close())
  await tooOld.waitForEvents(1)
  assert.equal(tooOld.events[0]!.event, 'reset')
  const fromAnotherProcess = await openSse(`${url}/api/v1/stream`, { 'last-event-id': '999999' })
  t.after(() => fromAnotherProcess.close())
  await fromAnotherProcess.waitForEvents(1)
  assert.equal(fromAnotherProcess.events[0]!.event, 'reset')
})

test('a resume works with the ids a running server hands out (its start time in microseconds)', async (t) => {
  const firstId = Date.now() * 1000
  const feed = new LiveFeed({ firstId })
  const { url } = await listening(t, { feed })
  feed.push([1, 2, 3].map((i) => quote('bitcoin', i)))
  const [a, b, c] = [firstId, firstId + 1, firstId + 2].map(String)
  assert.equal(a!.length, 16, 'ids have 16 digits')
  const byHeader = await openSse(`${url}/api/v1/stream`, { 'last-event-id': a! })
  const byQuery = await openSse(`${url}/api/v1/stream?lastEventId=${b}`)
  t.after(() => (byHeader.close(), byQuery.close()))
  await byHeader.waitForEvents(2)
  await byQuery.waitForEvents(1)
  assert.deepEqual(
    byHeader.events.map((e) => e.id),
    [b, c],
  )
  assert.deepEqual(
    byQuery.events.map((e) => e.id),
    [c],
  )
  const unsafe = await fetch(`${url}/api/v1/stream?lastEventId=9007199254740993`)
  assert.equal(unsafe.status, 400)
  await unsafe.body?.cancel()
})

test('each client gets only the assets and sources it asked for', async (t) => {
  const { url, feed } = await listening(t)
  const eth = await openSse(`${url}/api/v1/stream?crypto=ethereum,tether`)
  const gecko = await openSse(`${url}/api/v1/stream?sources=coingecko`)
  t.after(() => (eth.close(), gecko.close()))
  await until(() => feed.subscriberCount === 2)
  feed.push([
    quote('bitcoin', 1),
    quote('ethereum', 2),
    quote('tether', 3, 'coingecko'),
    quote('bitcoin', 4, 'coingecko'),
  ])
  await eth.waitForEvents(2)
  await gecko.waitForEvents(2)
  const cryptos = (c: SseClient) => c.events.map((e) => (JSON.parse(e.data) as Quote).crypto)
  assert.deepEqual(cryptos(eth), ['ethereum', 'tether'])
  assert.deepEqual(cryptos(gecko), ['tether', 'bitcoin'])
  assert.equal(eth.response.headers['content-type'], 'text/event-stream; charset=utf-8')
})

test('streams beyond the cap get 503 TOO_MANY_STREAMS with retry-after', async (t) => {
  const { url, feed } = await listening(t, { api: { maxStreams: 2 } })
  const a = await openSse(`${url}/api/v1/stream`)
  const b = await openSse(`${url}/api/v1/stream`)
  t.after(() => (a.close(), b.close()))
  const refused = await fetch(`${url}/api/v1/stream`)
  assert.equal(refused.status, 503)
  assert.equal(refused.headers.get('retry-after'), '5')
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'TOO_MANY_STREAMS')
  a.close()
  await until(() => feed.subscriberCount === 1)
  const c = await openSse(`${url}/api/v1/stream`)
  t.after(() => c.close())
  assert.equal(c.response.statusCode, 200, 'a freed slot is usable again')
})

test('idle streams get heartbeat comments', async (t) => {
  const { url } = await listening(t, { stream: { heartbeatMs: 30 } })
  const client = await openSse(`${url}/api/v1/stream`)
  t.after(() => client.close())
  await until(() => client.comments.filter((c) => c === 'heartbeat').length >= 2, 5_000)
  assert.equal(client.events.length, 0)
})

test('closing the app ends every open stream instead of waiting for clients to leave', async (t) => {
  const { url, app, feed } = await listening(t)
  const clients = await Promise.all([1, 2, 3].map(() => openSse(`${url}/api/v1/stream`)))
  await until(() => feed.subscriberCount === 3)
  const started = performance.now()
  await app.close()
  await Promise.all(clients.map((c) => c.ended))
  assert.ok(performance.now() - started < 2_000)
  assert.equal(feed.subscriberCount, 0)
})

test('a request arriving while the server shuts down gets 503 SHUTTING_DOWN in the usual error body', async (t) => {
  const { port, app } = await listening(t)
  const socket = connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  await new Promise((r) => socket.once('connect', r))
  // Half a request: the connection is busy, so closing the server does not reap it.
  socket.write('GET /api/v1/latest HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  let answer = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk))
  await new Promise((r) => setTimeout(r, 50))
  const closed = app.close()
  await new Promise((r) => setTimeout(r, 50))
  socket.write('\r\n')
  await closed
  await until(() => answer.includes('}'))
  assert.match(answer, /^HTTP\/1\.1 503/)
  assert.match(answer, /connection: close/i)
  assert.match(answer, /retry-after: 1/i)
  assert.match(answer, /\{"error":\{"code":"SHUTTING_DOWN","message":"the server is shutting down"\}\}$/)
})
