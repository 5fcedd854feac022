import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { readWebFiles, VENDOR_MODULES, WEB_DIR, webRoutes } from '../../src/server/routes/web.ts'
import { openFixture } from '../server/fixture.ts'

const CSP = /^default-src 'self'(;|$)/

test('the app serves the dashboard at / as HTML with a strict content-security-policy', async (t) => {
  const { app } = await openFixture(t)
  const r = await app.inject('/')
  assert.equal(r.statusCode, 200)
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
  assert.match(String(r.headers['content-security-policy']), CSP)
  assert.equal(r.headers['cache-control'], 'no-cache')
  assert.equal(r.headers['x-content-type-options'], 'nosniff')
  assert.match(r.body, /^<!doctype html>/i)
  // The policy forbids inline code and styles: the page must not rely on any.
  assert.doesNotMatch(r.body, /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline script')
  assert.doesNotMatch(r.body, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler')
})

test('every file the page references loads with its content type, from this server only', async (t) => {
  const { app } = await openFixture(t)
  const html = (await app.inject('/')).body
  // What the page loads: src and href of every element but <a> (a link is not a request; the
  // footer credits the chart library with one).
  const referenced = [...html.matchAll(/<(?!a\s)[a-z]+\s[^>]*?\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
  const assets = referenced.filter((u) => u.startsWith('/assets/'))
  assert.deepEqual(
    referenced.filter((u) => !u.startsWith('/')),
    [],
    'no external URL (the machine may be offline)',
  )
  // ES modules import their siblings and the vendored chart library; follow them too.
  const queue = [...assets]
  const seen = new Map<string, string>()
  while (queue.length > 0) {
    const url = queue.shift()!
    if (seen.has(url)) continue
    const r = await app.inject(url)
    assert.equal(r.statusCode, 200, url)
    assert.match(String(r.headers['content-security-policy']), CSP, url)
    seen.set(url, String(r.headers['content-type']))
    if (url.startsWith('/assets/') && url.endsWith('.js')) {
      for (const m of r.body.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)) {
        const target = m[1]!
        if (target.startsWith('/vendor/')) {
          assert.ok(target.slice('/vendor/'.length) in VENDOR_MODULES, `${url} imports a known vendor module`)
          queue.push(target)
          continue
        }
        assert.match(target, /^\.\/[a-z-]+\.js$/, `${url} imports a sibling module`)
        queue.push(`/assets/${target.slice(2)}`)
      }
    }
  }
  const types = Object.fromEntries(seen)
  assert.equal(types['/assets/app.js'], 'text/javascript; charset=utf-8')
  assert.equal(types['/assets/dashboard.css'], 'text/css; charset=utf-8')
  assert.equal(types['/assets/favicon.svg'], 'image/svg+xml')
  assert.equal(types['/vendor/lightweight-charts.mjs'], 'text/javascript; charset=utf-8')
  // Everything in src/web/ is reachable from the page: no dead files.
  assert.deepEqual(
    [...seen.keys()]
      .filter((u) => u.startsWith('/assets/'))
      .map((u) => u.slice('/assets/'.length))
      .sort(),
    readdirSync(WEB_DIR)
      .filter((f) => f !== 'index.html')
      .sort(),
  )
})

test('every page URL of the client-side router answers the page, so a reload restores it', async (t) => {
  const { app } = await openFixture(t)
  const index = readFileSync(join(WEB_DIR, 'index.html'), 'utf8')
  for (const url of [
    '/',
    '/asset/bitcoin',
    '/asset/usd-coin?interval=1h',
    '/lakehouse',
    '/history?asOf=3',
    '/sql',
    '/pipeline',
  ]) {
    const r = await app.inject(url)
    assert.equal(r.statusCode, 200, url)
    assert.equal(r.body, index, url)
    assert.match(String(r.headers['content-security-policy']), CSP, url)
  }
  for (const url of [
    '/asset',
    '/asset/bitcoin/extra',
    '/nope',
    '/vendor/nope.mjs',
    '/vendor/..%2fpackage.json',
  ]) {
    assert.equal((await app.inject(url)).statusCode, 404, url)
  }
})

test('the chart library is served from the pinned npm package, not a copy in the repository', async (t) => {
  const { app } = await openFixture(t)
  const r = await app.inject('/vendor/lightweight-charts.mjs')
  assert.equal(r.statusCode, 200)
  const pinned = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>
    }
  ).dependencies['lightweight-charts']
  assert.match(r.body.slice(0, 300), new RegExp(`Lightweight Charts™ v${pinned!.replaceAll('.', '\\.')}`))
  assert.match(r.body, /export\s*\{/, 'an ES module')
})

test('unknown asset names and path traversal attempts are 404s', async (t) => {
  const { app } = await openFixture(t)
  for (const url of [
    '/assets/nope.js',
    '/assets/..%2f..%2fpackage.json',
    '/assets/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/..%2f..%2fetc%2fpasswd',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/assets/',
    '/app.js',
  ]) {
    const r = await app.inject(url)
    assert.equal(r.statusCode, 404, url)
    assert.equal((r.json() as { error: { code: string } }).error.code, 'NOT_FOUND', url)
    assert.doesNotMatch(r.body, /root:|"name": "cryptoviz"/, url)
  }
})

test('a browser holding the current file gets a 304 through the ETag, a changed one the new body', async (t) => {
  const { app } = await openFixture(t)
  const first = await app.inject('/assets/app.js')
  const etag = String(first.headers['etag'])
  assert.match(etag, /^"[\w-]+"$/)
  const again = await app.inject({ url: '/assets/app.js', headers: { 'if-none-match': etag } })
  assert.equal(again.statusCode, 304)
  assert.equal(again.body, '')
  const stale = await app.inject({ url: '/assets/app.js', headers: { 'if-none-match': '"old"' } })
  assert.equal(stale.statusCode, 200)
  assert.equal(stale.body, first.body)
  assert.notEqual((await app.inject('/assets/dashboard.css')).headers['etag'], etag)
})

test('only flat files with a known type are served, read once at startup', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-web-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>')
  writeFileSync(join(dir, 'app.js'), 'export {}')
  writeFileSync(join(dir, 'notes.txt'), 'private')
  writeFileSync(join(dir, '.env'), 'SECRET=1')
  mkdirSync(join(dir, 'sub'))
  writeFileSync(join(dir, 'sub', 'inner.js'), 'export {}')
  assert.deepEqual([...readWebFiles(dir).keys()].sort(), ['app.js', 'index.html'])

  const app = Fastify()
  t.after(() => app.close())
  webRoutes(app, dir)
  writeFileSync(join(dir, 'app.js'), 'export const changed = true')
  writeFileSync(join(dir, 'late.js'), 'export {}')
  assert.equal((await app.inject('/assets/app.js')).body, 'export {}', 'the body read at startup')
  for (const url of ['/assets/notes.txt', '/assets/.env', '/assets/sub%2finner.js', '/assets/late.js']) {
    assert.equal((await app.inject(url)).statusCode, 404, url)
  }
})

test('a dashboard folder without index.html is refused at startup', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptoviz-web-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'app.js'), 'export {}')
  assert.throws(() => readWebFiles(dir), { code: 'CONFIG_INVALID', message: /no index\.html/ })
})

test('the page text is what the files hold (no build step)', async (t) => {
  const { app } = await openFixture(t)
  assert.equal((await app.inject('/')).body, readFileSync(join(WEB_DIR, 'index.html'), 'utf8'))
})
