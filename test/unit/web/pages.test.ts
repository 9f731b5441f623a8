import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { promisify } from 'node:util'
import { CONTENT_SECURITY_POLICY, createWebPages } from '../../../src/web/pages.js'

const ASSETS = {
  '/status': 'text/html; charset=utf-8',
  '/status/': 'text/html; charset=utf-8',
  '/status/app.js': 'text/javascript; charset=utf-8',
  '/status/plot.js': 'text/javascript; charset=utf-8',
  '/status/style.css': 'text/css; charset=utf-8',
  '/status/icon.svg': 'image/svg+xml',
}
/** An XML namespace name: an identifier in the SVG files, never fetched. */
const SVG_NAMESPACE = 'http://www.w3.org/2000/svg'

interface Served {
  served: boolean
  status: number
  headers: Headers
  body: string
}

/** A loopback server whose only routes are the hook's; what it leaves answers 404 `not mine`. */
async function startPages(t: TestContext): Promise<(path: string) => Promise<Served>> {
  const web = createWebPages()
  const server = createServer((req, res) => {
    if (web((req.url ?? '/').split('?')[0] ?? '/', res)) return // the path, as the API passes it
    res.writeHead(404).end('not mine')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as AddressInfo
  return async (path) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`)
    const body = await res.text()
    return { served: body !== 'not mine', status: res.status, headers: res.headers, body }
  }
}

test('serves each of the page files with its content type', async (t) => {
  const serve = await startPages(t)
  for (const [path, type] of Object.entries(ASSETS)) {
    const r = await serve(path)
    assert.equal(r.served, true, path)
    assert.equal(r.status, 200, path)
    assert.equal(r.headers.get('content-type'), type, path)
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(r.body)), path)
    assert.ok(r.body.length > 100, path)
  }
})

test('every file is sent with no-store, nosniff, no referrer and the strict CSP', async (t) => {
  const serve = await startPages(t)
  for (const path of Object.keys(ASSETS)) {
    const h = (await serve(path)).headers
    assert.equal(h.get('cache-control'), 'no-store', path)
    assert.equal(h.get('x-content-type-options'), 'nosniff', path)
    assert.equal(h.get('referrer-policy'), 'no-referrer', path)
    assert.equal(h.get('content-security-policy'), CONTENT_SECURITY_POLICY, path)
  }
  const csp = CONTENT_SECURITY_POLICY.split('; ')
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
    assert.ok(csp.includes(d), d)
  }
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-|\*|https?:|data:/)
})

test('anything else is left to the API', async (t) => {
  const serve = await startPages(t)
  for (const path of [
    '/',
    '/status.html',
    '/status/app.js/',
    '/status/missing.js',
    '/STATUS',
    '/v1/status',
    '/healthz',
    '/statusx',
  ]) {
    const r = await serve(path)
    assert.equal(r.served, false, path)
    assert.equal(r.status, 404, path)
  }
})

test('no file loads anything from elsewhere: no http(s) URL, no inline script or style', async (t) => {
  const serve = await startPages(t)
  for (const path of Object.keys(ASSETS)) {
    const body = (await serve(path)).body.replaceAll(SVG_NAMESPACE, '')
    assert.doesNotMatch(body, /https?:\/\//i, path)
    assert.doesNotMatch(body, /["'(=]\s*\/\/[a-z0-9]/i, `${path}: protocol-relative URL`)
    assert.doesNotMatch(body, /@import|url\(/i, path)
  }
  const html = (await serve('/status')).body
  const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
  assert.equal(scripts.length, 1)
  assert.match(scripts[0]?.[0] ?? '', /src="\/status\/app\.js"/)
  assert.equal(scripts[0]?.[1], '', 'no inline script')
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler')
})

test('the page marks what the tests read', async (t) => {
  const html = (await (await startPages(t))('/status')).body
  for (const id of [
    'worker-key',
    'b32',
    'router-state',
    'hops-in',
    'hops-out',
    'traffic-plot',
    'token-form',
  ]) {
    assert.match(html, new RegExp(`data-testid="${id}"`), id)
  }
})

test('both scripts are valid JavaScript modules', async (t) => {
  const serve = await startPages(t)
  const dir = await mkdtemp(join(tmpdir(), 'prouter-web-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  for (const name of ['app.js', 'plot.js']) {
    const file = join(dir, `${name}.mjs`)
    await writeFile(file, (await serve(`/status/${name}`)).body)
    await promisify(execFile)(process.execPath, ['--check', file]) // rejects with the syntax error
  }
})
