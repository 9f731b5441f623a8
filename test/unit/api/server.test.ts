import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { test, type TestContext } from 'node:test'
import { createApiServer } from '../../../src/api/server.js'
import type { Outbound } from '../../../src/proxy/outbound.js'
import { workerHost } from '../../../src/proxy/worker-name.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { ALICE } from '../../helpers/identity-vectors.js'

const TOKEN = 'api-token-5d1e8b3f0a7c'
const KEY = `0x${ALICE}`
const NAME = workerHost(KEY) // <52 base32>.prouter
const BEARER = { authorization: `Bearer ${TOKEN}` }
const PROXY_AUTH = { 'proxy-authorization': `Bearer ${TOKEN}` }

interface Forwarded {
  method: string | undefined
  workerKey: string
  target: string
  drop: string[] | undefined
}

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** An Outbound that records what it is asked: forward answers 200 `forwarded`, tunnel a 200 and closes. */
function stubOutbound() {
  const forwarded: Forwarded[] = []
  const tunnels: { workerKey: string; head: string }[] = []
  const outbound: Outbound = {
    forward: (req, res, workerKey, target, drop) => {
      forwarded.push({ method: req.method, workerKey, target, drop })
      res.end('forwarded')
      return Promise.resolve()
    },
    tunnel: (client: Duplex, head: Buffer, workerKey: string) => {
      tunnels.push({ workerKey, head: head.toString() })
      client.end('HTTP/1.1 200 Connection Established\r\n\r\ntunnel open')
      return Promise.resolve()
    },
    ping: () => Promise.resolve(1),
    openStreams: () => new Map(),
    forget: () => undefined,
    close: () => undefined,
  }
  return { outbound, forwarded, tunnels }
}

async function startApi(t: TestContext, health = { ok: true, state: 'up' }) {
  const stub = stubOutbound()
  const logger = captureLogger()
  const api = createApiServer(
    { host: '127.0.0.1', port: 0, token: TOKEN, maxHeaderBytes: 4096, requestTimeout: 10_000 },
    {
      logger,
      outbound: stub.outbound,
      status: () => Promise.resolve({ workerKey: KEY, state: 'up' }),
      peers: () => Promise.resolve({ peers: [] }),
      health: () => health,
      history: () => ({ step: 10_000, times: [1] }),
      reports: (query) => Promise.resolve({ query }),
      metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: 'prouter_up 1\n' }),
      web: (path, res) => {
        if (path !== '/status') return false
        res.writeHead(200, { 'content-type': 'text/html' })
        res.end('<html>status</html>')
        return true
      },
    },
  )
  const url = await api.listen()
  t.after(() => api.close())
  return { ...stub, logs: logger.records, port: Number(new URL(url).port) }
}

/** One request (5 s bound); `path` goes on the request line as it is (absolute-form too). */
async function call(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method: options.method ?? 'GET',
    headers: options.headers,
    agent: false,
    signal: AbortSignal.timeout(5000),
  })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { status: res.statusCode ?? 0, headers: res.headers, body }
}

/** A raw CONNECT; resolves with everything the server wrote before it closed. */
async function connect(
  port: number,
  authority: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  const lines = Object.entries({ host: authority, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`)
  socket.end(`CONNECT ${authority} HTTP/1.1\r\n${lines.join('')}\r\nearly bytes`)
  socket.setTimeout(5000, () => socket.destroy(new Error('CONNECT answer timed out')))
  let text = ''
  for await (const chunk of socket) text += String(chunk)
  return text
}

const errorOf = (reply: Reply): unknown => JSON.parse(reply.body)

test('GET /healthz needs no token: 200 when healthy', async (t) => {
  const { port } = await startApi(t)
  const reply = await call(port, '/healthz')
  assert.equal(reply.status, 200)
  assert.deepEqual(JSON.parse(reply.body), { ok: true, state: 'up' })
})

test('GET /healthz: 503 when the session is down', async (t) => {
  const { port } = await startApi(t, { ok: false, state: 'restarting' })
  const reply = await call(port, '/healthz')
  assert.equal(reply.status, 503)
  assert.deepEqual(JSON.parse(reply.body), { ok: false, state: 'restarting' })
})

test('/v1/status without a token: 401 ERR_API_UNAUTHORIZED with WWW-Authenticate', async (t) => {
  const { port } = await startApi(t)
  for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
    const reply = await call(port, '/v1/status', { headers })
    assert.equal(reply.status, 401)
    assert.equal(reply.headers['www-authenticate'], 'Bearer')
    assert.equal((errorOf(reply) as { code: string }).code, 'ERR_API_UNAUTHORIZED')
  }
})

test('/v1/status and /v1/peers with the token (either header): their JSON', async (t) => {
  const { port } = await startApi(t)
  const status = await call(port, '/v1/status', { headers: BEARER })
  assert.equal(status.status, 200)
  assert.equal(status.headers['content-type'], 'application/json')
  assert.deepEqual(JSON.parse(status.body), { workerKey: KEY, state: 'up' })
  const peers = await call(port, '/v1/peers', { headers: { 'x-prouter-token': TOKEN } })
  assert.deepEqual(JSON.parse(peers.body), { peers: [] })
})

test('metering routes need the token: history, own reports (?from=&to= checked), /metrics', async (t) => {
  const { port } = await startApi(t)
  for (const path of ['/v1/metering/history', '/v1/reports', '/metrics']) {
    assert.equal((await call(port, path)).status, 401, path)
  }
  assert.deepEqual(JSON.parse((await call(port, '/v1/metering/history', { headers: BEARER })).body), {
    step: 10_000,
    times: [1],
  })
  const reports = await call(port, '/v1/reports?from=5&to=9', { headers: BEARER })
  assert.deepEqual(JSON.parse(reports.body), { query: { from: 5, to: 9 } })
  const bad = await call(port, '/v1/reports?from=yesterday', { headers: BEARER })
  assert.equal(bad.status, 400)
  assert.equal((errorOf(bad) as { code: string }).code, 'ERR_API_BAD_REQUEST')
  const metrics = await call(port, '/metrics', { headers: BEARER })
  assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4')
  assert.equal(metrics.body, 'prouter_up 1\n')
})

test('the status page is served without the token (it holds no data); other paths are not', async (t) => {
  const { port } = await startApi(t)
  const page = await call(port, '/status')
  assert.equal(page.status, 200)
  assert.equal(page.body, '<html>status</html>')
  assert.equal((await call(port, '/status/../v1/status')).status, 401)
})

test('/v1/workers/0x<HEX>/path?query: forwarded to the lower-case key, Authorization kept local', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, `/v1/workers/0x${ALICE.toUpperCase()}/a/b?x=1`, {
    method: 'POST',
    headers: BEARER,
  })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, 'forwarded')
  assert.deepEqual(forwarded, [
    { method: 'POST', workerKey: KEY, target: '/a/b?x=1', drop: ['authorization'] },
  ])
})

test('/v1/workers/…: with X-PRouter-Token nothing else is dropped; bare key and query-only targets', async (t) => {
  const { port, forwarded } = await startApi(t)
  const headers = { 'x-prouter-token': TOKEN }
  await call(port, `/v1/workers/${ALICE}`, { headers })
  await call(port, `/v1/workers/${NAME.slice(0, 52)}?q=1`, { headers })
  await call(port, `/v1/workers/${NAME.slice(0, 52).toUpperCase()}/x/`, { headers })
  assert.deepEqual(
    forwarded.map((f) => [f.workerKey, f.target, f.drop]),
    [
      [KEY, '/', []],
      [KEY, '/?q=1', []],
      [KEY, '/x/', []],
    ],
  )
})

test('/v1/workers/<malformed>/…: 400 ERR_INVALID_WORKER_KEY, nothing forwarded', async (t) => {
  const { port, forwarded } = await startApi(t)
  for (const name of ['0x1234', `${ALICE}00`, 'alice', `${NAME.slice(0, 51)}b`]) {
    const reply = await call(port, `/v1/workers/${name}/a`, { headers: BEARER })
    assert.equal(reply.status, 400, name)
    assert.equal((errorOf(reply) as { code: string }).code, 'ERR_INVALID_WORKER_KEY')
  }
  assert.equal(forwarded.length, 0)
})

test('/v1/workers/<percent-encoded name>/…: the name is decoded first', async (t) => {
  const { port, forwarded } = await startApi(t)
  await call(port, `/v1/workers/%30x${ALICE.slice(0, 62)}%37%64/a`, { headers: BEARER })
  assert.deepEqual(forwarded[0]?.workerKey, KEY)
})

test('/v1/workers/<broken percent-encoding>/…: 400, not an internal error', async (t) => {
  const { port, logs } = await startApi(t)
  const reply = await call(port, '/v1/workers/%zz/a', { headers: BEARER })
  assert.equal(reply.status, 400)
  assert.deepEqual(
    logs.filter((r) => r.level === 'error'),
    [],
  )
})

test('forward proxy to a URL that does not parse: 400, not an internal error', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, 'http://[zz/p', { headers: PROXY_AUTH })
  assert.equal(reply.status, 400)
  assert.equal(forwarded.length, 0)
})

test('/v1/workers/… without a token: 401, nothing forwarded', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, `/v1/workers/${KEY}/a`, { headers: PROXY_AUTH })
  assert.equal(reply.status, 401)
  assert.equal(forwarded.length, 0)
})

test('unknown routes, and known ones with another method: 404 ERR_NOT_FOUND', async (t) => {
  const { port } = await startApi(t)
  for (const [method, path] of [
    ['GET', '/v1/nothing'],
    ['GET', '/'],
    ['POST', '/v1/status'],
    ['DELETE', '/v1/peers'],
    ['GET', '/v1/workers'],
  ] as const) {
    const reply = await call(port, path, { method, headers: BEARER })
    assert.equal(reply.status, 404, `${method} ${path}`)
    assert.equal((errorOf(reply) as { code: string }).code, 'ERR_NOT_FOUND')
  }
})

test('forward proxy: GET http://<name>.prouter/p with Proxy-Authorization is forwarded to /p', async (t) => {
  const { port, forwarded } = await startApi(t)
  const basic = `Basic ${Buffer.from(`any:${TOKEN}`).toString('base64')}`
  const reply = await call(port, `http://${NAME}/p?q=1`, { headers: { ...PROXY_AUTH, host: NAME } })
  assert.equal(reply.status, 200)
  await call(port, `http://${KEY}.prouter:8080/`, { headers: { 'proxy-authorization': basic } })
  assert.deepEqual(
    forwarded.map((f) => [f.method, f.workerKey, f.target]),
    [
      ['GET', KEY, '/p?q=1'],
      ['GET', KEY, '/'],
    ],
  )
})

test('forward proxy without Proxy-Authorization (even with the API token): 407, nothing forwarded', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, `http://${NAME}/p`, { headers: BEARER })
  assert.equal(reply.status, 407)
  assert.equal(reply.headers['proxy-authenticate'], 'Bearer')
  assert.equal((errorOf(reply) as { code: string }).code, 'ERR_PROXY_AUTH_REQUIRED')
  assert.equal(forwarded.length, 0)
})

test('forward proxy to a host that is no worker: 400 ERR_INVALID_WORKER_KEY', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, 'http://example.com/p', { headers: PROXY_AUTH })
  assert.equal(reply.status, 400)
  assert.equal((errorOf(reply) as { code: string }).code, 'ERR_INVALID_WORKER_KEY')
  assert.equal(forwarded.length, 0)
})

test('CONNECT <name>.prouter:80 with Proxy-Authorization: tunnel to the key, early bytes handed on', async (t) => {
  const { port, tunnels } = await startApi(t)
  const answer = await connect(port, `${NAME}:80`, PROXY_AUTH)
  assert.match(answer, /^HTTP\/1\.1 200 /)
  assert.deepEqual(tunnels, [{ workerKey: KEY, head: 'early bytes' }])
})

test('CONNECT with bad credentials: a raw 407 asking for Proxy-Authorization, no tunnel', async (t) => {
  const { port, tunnels } = await startApi(t)
  const refused: Record<string, string>[] = [{}, { 'proxy-authorization': 'Bearer wrong' }, BEARER]
  for (const headers of refused) {
    const answer = await connect(port, `${NAME}:80`, headers)
    assert.match(answer, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/)
    assert.match(answer, /\r\nproxy-authenticate: Bearer\r\n/)
    assert.match(answer, /\r\n\r\n\{"code":"ERR_PROXY_AUTH_REQUIRED",/)
  }
  assert.equal(tunnels.length, 0)
})

test('CONNECT to a name that is no worker: a raw 400 ERR_INVALID_WORKER_KEY, no tunnel', async (t) => {
  const { port, tunnels } = await startApi(t)
  for (const authority of ['example.com:443', `${ALICE.slice(2)}.prouter:80`]) {
    const answer = await connect(port, authority, PROXY_AUTH)
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/)
    assert.match(answer, /"code":"ERR_INVALID_WORKER_KEY"/)
  }
  assert.equal(tunnels.length, 0)
})

test('headers over maxHeaderBytes: 431 ERR_HEADERS_TOO_LARGE', async (t) => {
  const { port, forwarded } = await startApi(t)
  const reply = await call(port, `/v1/workers/${KEY}/a`, {
    headers: { ...BEARER, 'x-big': 'b'.repeat(5000) },
  })
  assert.equal(reply.status, 431)
  assert.equal(reply.headers.connection, 'close')
  assert.equal((errorOf(reply) as { code: string }).code, 'ERR_HEADERS_TOO_LARGE')
  assert.equal(forwarded.length, 0)
})

test('a request that is not HTTP: 400 ERR_API_BAD_REQUEST', async (t) => {
  const { port } = await startApi(t)
  const socket = net.connect(port, '127.0.0.1')
  socket.end('NOT HTTP AT ALL\r\n\r\n')
  socket.setTimeout(5000, () => socket.destroy(new Error('no answer')))
  let text = ''
  for await (const chunk of socket) text += String(chunk)
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/)
  assert.match(text, /"code":"ERR_API_BAD_REQUEST"/)
})
