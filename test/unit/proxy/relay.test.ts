import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http'
import type net from 'node:net'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import { forwardableHeaders } from '../../../src/proxy/headers.js'
import { relay, type RelayLimits, type RelaySpec } from '../../../src/proxy/relay.js'
import { fromClientRequest } from '../../../src/proxy/upstream.js'

const MIB = 1024 * 1024
const LIMITS: RelayLimits = { maxBodyBytes: 2 * MIB, idleTimeout: 2000, requestTimeout: 5000 }

type Outcome = Parameters<NonNullable<RelaySpec['onEnd']>>[0]

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function serve(t: TestContext, handler: RequestListener): Promise<number> {
  const server: Server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as net.AddressInfo).port
}

/** An upstream that records each request it gets, then lets `handler` answer. */
async function startUpstream(t: TestContext, handler: RequestListener = (_req, res) => res.end('ok')) {
  const requests: IncomingMessage[] = []
  const port = await serve(t, (req, res) => {
    requests.push(req)
    handler(req, res)
  })
  return { port, requests }
}

interface FrontOptions {
  limits?: Partial<RelayLimits>
  classify?: RelaySpec['classify']
  agent?: Agent
  signal?: AbortSignal
  stall?: RelaySpec['stall']
}

/** A server whose every request is relayed to 127.0.0.1:`upstreamPort`; records each outcome. */
async function startFront(t: TestContext, upstreamPort: number, options: FrontOptions = {}) {
  const outcomes: Outcome[] = []
  const classified: unknown[] = []
  const port = await serve(t, (req, res) => {
    void relay({
      req,
      res,
      limits: { ...LIMITS, ...options.limits },
      responseHeaders: { 'x-relayed': 'yes' },
      open: () =>
        fromClientRequest(
          request({
            host: '127.0.0.1',
            port: upstreamPort,
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            headers: forwardableHeaders(req.headers),
            agent: options.agent ?? false,
          }),
        ),
      classify: (err) => {
        classified.push(err)
        return (options.classify ?? passOrWrap)(err)
      },
      onEnd: (outcome) => outcomes.push(outcome),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.stall === undefined ? {} : { stall: options.stall }),
    })
  })
  return { port, outcomes, classified }
}

function passOrWrap(err: unknown): Promise<PRouterError> {
  if (isPRouterError(err)) return Promise.resolve(err)
  return Promise.resolve(new PRouterError('ERR_PEER_CLOSED', 'upstream failed', { cause: err }))
}

/** One request to the front (5 s bound). A Buffer body is sent with its length, chunks as chunked. */
async function call(
  port: number,
  options: { method?: string; body?: Buffer | Buffer[]; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { body } = options
  const headers = { ...options.headers }
  if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length)
  const req = request({
    host: '127.0.0.1',
    port,
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    path: '/echo?x=1',
    headers,
    agent: false,
    signal: AbortSignal.timeout(5000),
  })
  for (const chunk of body === undefined ? [] : Buffer.isBuffer(body) ? [body] : body) req.write(chunk)
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }
}

const json = (reply: Reply): unknown => JSON.parse(reply.body.toString())
const code = (reply: Reply): unknown => (json(reply) as { code: unknown }).code

test('1 MiB each way is streamed intact; hop-by-hop headers dropped, relay headers added', async (t) => {
  const answer = randomBytes(MIB)
  const upstream = await startUpstream(t, (req, res) => {
    const hash = createHash('sha256')
    req.on('data', (chunk: Buffer) => hash.update(chunk))
    req.on('end', () => {
      res.writeHead(201, { 'x-got': hash.digest('hex'), 'keep-alive': 'timeout=1', 'x-path': req.url })
      res.end(answer)
    })
  })
  const front = await startFront(t, upstream.port)
  const sent = randomBytes(MIB)
  const reply = await call(front.port, { body: sent })
  assert.equal(reply.status, 201)
  assert.equal(reply.headers['x-got'], sha256(sent))
  assert.equal(reply.headers['x-path'], '/echo?x=1')
  assert.equal(reply.headers['x-relayed'], 'yes')
  assert.equal(reply.headers['keep-alive'], undefined)
  assert.equal(sha256(reply.body), sha256(answer))
  assert.deepEqual(front.outcomes, [{ status: 201 }])
})

test('a chunked body in many pieces arrives whole', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    req.pipe(res)
  })
  const front = await startFront(t, upstream.port)
  const pieces = Array.from({ length: 50 }, () => randomBytes(1000))
  const reply = await call(front.port, { body: pieces })
  assert.equal(reply.status, 200)
  assert.deepEqual(reply.body, Buffer.concat(pieces))
  assert.equal(upstream.requests[0]?.headers['transfer-encoding'], 'chunked')
})

test('a Content-Length over maxBodyBytes: 413 and the upstream is never contacted', async (t) => {
  const upstream = await startUpstream(t)
  const front = await startFront(t, upstream.port, { limits: { maxBodyBytes: 1024 } })
  const reply = await call(front.port, { body: Buffer.alloc(1025) })
  assert.equal(reply.status, 413)
  assert.equal(reply.headers.connection, 'close')
  assert.equal(code(reply), 'ERR_BODY_TOO_LARGE')
  assert.equal(upstream.requests.length, 0)
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_BODY_TOO_LARGE')
})

test('a Content-Length of exactly maxBodyBytes passes', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    req.pipe(res)
  })
  const front = await startFront(t, upstream.port, { limits: { maxBodyBytes: 1024 } })
  const reply = await call(front.port, { body: Buffer.alloc(1024, 7) })
  assert.equal(reply.status, 200)
  assert.deepEqual(reply.body, Buffer.alloc(1024, 7))
})

test('a chunked body that grows over maxBodyBytes: 413, the upstream request is dropped', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    req.resume()
    req.on('end', () => res.end('should not be reached'))
  })
  const front = await startFront(t, upstream.port, { limits: { maxBodyBytes: 1024 } })
  const reply = await call(front.port, { body: [Buffer.alloc(1000), Buffer.alloc(25), Buffer.alloc(1)] })
  assert.equal(reply.status, 413)
  assert.equal(code(reply), 'ERR_BODY_TOO_LARGE')
  const seen = upstream.requests[0]
  if (seen !== undefined && !seen.complete) await once(seen, 'close')
  assert.equal(seen?.complete ?? false, false, 'the upstream never saw the whole body')
})

test('an upstream that answers after requestTimeout: 504 ERR_REQUEST_TIMEOUT', async (t) => {
  const upstream = await startUpstream(t, () => undefined)
  const front = await startFront(t, upstream.port, { limits: { requestTimeout: 200, idleTimeout: 5000 } })
  const started = performance.now()
  const reply = await call(front.port)
  assert.equal(reply.status, 504)
  assert.equal(code(reply), 'ERR_REQUEST_TIMEOUT')
  assert.ok(performance.now() - started < 2000)
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_REQUEST_TIMEOUT')
})

test('an upstream that accepts and sends nothing for idleTimeout: 504 ERR_IDLE_TIMEOUT', async (t) => {
  const upstream = await startUpstream(t, () => undefined)
  const front = await startFront(t, upstream.port, { limits: { requestTimeout: 5000, idleTimeout: 200 } })
  const reply = await call(front.port)
  assert.equal(reply.status, 504)
  assert.equal(code(reply), 'ERR_IDLE_TIMEOUT')
  assert.equal(upstream.requests.length, 1)
})

test('a response still streaming at requestTimeout is cut short', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' })
    const timer = setInterval(() => res.write('x'), 20)
    res.on('close', () => {
      clearInterval(timer)
    })
  })
  const front = await startFront(t, upstream.port, { limits: { requestTimeout: 300, idleTimeout: 5000 } })
  await assert.rejects(call(front.port), { code: 'ECONNRESET' })
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_REQUEST_TIMEOUT')
})

test('an upstream that dies mid-response: the client sees a cut-short response, not a hang', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    res.writeHead(200, { 'content-length': '1000' })
    res.write('partial', () => req.socket.destroy())
  })
  const front = await startFront(t, upstream.port)
  await assert.rejects(call(front.port), { code: 'ECONNRESET' })
  // classify() is async: the outcome may be recorded a tick after the client saw the reset (Node 24+)
  for (let i = 0; i < 50 && front.outcomes.length === 0; i++) await sleep(10)
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_PEER_CLOSED')
})

test('a response body over maxBodyBytes is cut short', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => res.end(Buffer.alloc(2048)))
  const front = await startFront(t, upstream.port, { limits: { maxBodyBytes: 1024 } })
  await assert.rejects(call(front.port), { code: 'ECONNRESET' })
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_BODY_TOO_LARGE')
})

test('upstream connection refused: the answer is what classify() makes of it', async (t) => {
  const front = await startFront(t, await freePort(), {
    classify: (err) =>
      Promise.resolve(new PRouterError('ERR_SERVICE_UNREACHABLE', 'service down', { cause: err })),
  })
  const reply = await call(front.port)
  assert.equal(reply.status, 502)
  assert.deepEqual(json(reply), { code: 'ERR_SERVICE_UNREACHABLE', message: 'service down' })
  assert.equal((front.classified[0] as NodeJS.ErrnoException).code, 'ECONNREFUSED')
})

test('a client that goes away: the upstream request is destroyed and the outcome is 499', async (t) => {
  const upstream = await startUpstream(t, () => undefined)
  const front = await startFront(t, upstream.port)
  const req = request({ host: '127.0.0.1', port: front.port, path: '/', agent: false })
  req.on('error', () => undefined)
  req.end()
  while (upstream.requests.length === 0) await sleep(10)
  const seen = upstream.requests[0] as IncomingMessage
  seen.on('error', () => undefined) // 'aborted' is what this test provokes
  const closed = new Promise((resolve) => seen.once('close', resolve))
  req.destroy()
  await Promise.race([closed, rejectAfter(2000)])
  assert.deepEqual(front.outcomes, [{ status: 499 }])
})

test('a bodyless request on a dead kept-alive socket is sent once more on a fresh one', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => {
    agent.destroy()
  })
  const perSocket = new Map<net.Socket, number>()
  const upstream = await startUpstream(t, (req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1
    perSocket.set(req.socket, n)
    if (n === 2)
      req.socket.destroy() // the second request on a socket finds it dead
    else res.end(`answer ${perSocket.size}`)
  })
  const front = await startFront(t, upstream.port, { agent })
  assert.equal((await call(front.port)).body.toString(), 'answer 1')
  const again = await call(front.port)
  assert.equal(again.status, 200)
  assert.equal(again.body.toString(), 'answer 2')
  assert.equal(upstream.requests.length, 3)
  const withBody = await call(front.port, { body: Buffer.from('abc') })
  assert.equal(withBody.status, 502, 'a request with a body is not sent twice')
  assert.equal(code(withBody), 'ERR_PEER_CLOSED')
  assert.equal(upstream.requests.length, 4)
})

/** classify() as outbound's does it for foreign errors: after a wait (there, streams.settle(250)). */
const slowClassify = async (err: unknown): Promise<PRouterError> => {
  await sleep(50)
  return passOrWrap(err)
}

test('an upstream that dies mid-response is recorded as such even when classify() takes time', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    res.writeHead(200, { 'content-length': '1000' })
    res.write('partial', () => req.socket.destroy())
  })
  const front = await startFront(t, upstream.port, { classify: slowClassify })
  await assert.rejects(call(front.port), { code: 'ECONNRESET' })
  await sleep(200)
  assert.equal(front.outcomes[0]?.error?.code, 'ERR_PEER_CLOSED')
})

test('a timed-out request on a kept-alive socket is not sent again while classify() runs', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => {
    agent.destroy()
  })
  const upstream = await startUpstream(t, (req, res) => {
    if (upstream.requests.length !== 2) res.end('answer') // the second request never gets one
  })
  const front = await startFront(t, upstream.port, {
    agent,
    classify: slowClassify,
    limits: { idleTimeout: 200 },
  })
  assert.equal((await call(front.port)).status, 200)
  const timedOut = await call(front.port)
  assert.equal(timedOut.status, 504)
  assert.equal(upstream.requests.length, 2)
})

/** A loopback port nothing listens on (one that was just closed). */
async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_resolve, reject) => {
    setTimeout(() => {
      reject(new Error(`no close in ${ms} ms`))
    }, ms).unref()
  })
}

test('an aborted signal fails the exchange at once with its reason', async (t) => {
  const upstream = await startUpstream(t, () => undefined) // never answers
  const lost = new AbortController()
  const front = await startFront(t, upstream.port, { signal: lost.signal })
  const started = performance.now()
  const pending = call(front.port)
  await sleep(100)
  lost.abort(new PRouterError('ERR_PEER_LOST', 'gone'))
  const reply = await pending
  assert.deepEqual([reply.status, code(reply)], [504, 'ERR_PEER_LOST'])
  assert.ok(performance.now() - started < LIMITS.idleTimeout)
  assert.deepEqual(
    front.outcomes.map((o) => o.error?.code),
    ['ERR_PEER_LOST'],
  )
})

test('stall: reported every `after` ms until the first byte of the answer, then never again', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => {
    setTimeout(() => {
      res.write('x')
      setTimeout(() => res.end('y'), 400)
    }, 350)
  })
  let stalls = 0
  const front = await startFront(t, upstream.port, { stall: { after: 100, onStall: () => stalls++ } })
  const reply = await call(front.port)
  assert.equal(reply.body.toString(), 'xy')
  assert.ok(stalls >= 2 && stalls <= 3, `${stalls} stalls reported before the answer at 350 ms`)
})

test('stall: not reported while the request body moves, only once it has gone quiet', async (t) => {
  let bodyEnded = 0
  const upstream = await startUpstream(t, (req, res) => {
    req.resume()
    req.once('end', () => {
      bodyEnded = performance.now()
      setTimeout(() => res.end('ok'), 350)
    })
  })
  const stalls: number[] = []
  const onStall = (): void => {
    stalls.push(performance.now())
  }
  const front = await startFront(t, upstream.port, { stall: { after: 100, onStall } })
  const req = request({ host: '127.0.0.1', port: front.port, method: 'POST', path: '/upload', agent: false })
  for (let i = 0; i < 10; i++) {
    req.write(Buffer.alloc(1024, i)) // a body that keeps moving for ~600 ms, each gap under `after`
    await sleep(60)
  }
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.resume()
  await once(res, 'end')
  assert.equal(res.statusCode, 200)
  assert.ok(bodyEnded > 0)
  assert.ok(
    stalls.every((at) => at >= bodyEnded),
    `stalls ${stalls.map((at) => Math.round(at - bodyEnded)).join(', ')} ms from the body's end`,
  )
  assert.ok(stalls.length >= 2 && stalls.length <= 3, `${stalls.length} stalls in the 350 ms after the body`)
})
