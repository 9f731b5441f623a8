/**
 * The HTTP/2 pool against a loopback HTTP/2 server (each "dial" is a TCP connection): many requests share a
 * connection, the pool grows one connection at a time while every one is busy, a request goes on the rested
 * connection, a dead one is dropped.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect as connectH2, createServer, type ClientHttp2Stream } from 'node:http2'
import { connect } from 'node:net'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { isPRouterError } from '../../../src/errors.js'
import { createH2Pool, type H2PoolInit } from '../../../src/proxy/h2-pool.js'

const KEY = 'w1'

async function startServer(t: TestContext): Promise<{ port: number; sessions: () => number }> {
  let sessions = 0
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0)
    setTimeout(() => {
      res.end(req.url)
    }, ms)
  })
  server.on('session', () => sessions++)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  return { port: (server.address() as { port: number }).port, sessions: () => sessions }
}

function pool(t: TestContext, port: number, init: Partial<H2PoolInit> = {}) {
  let dials = 0
  const p = createH2Pool(
    {
      maxStreams: 8,
      maxStreamsPerPeer: 4,
      minStreamsPerPeer: 1,
      requestsPerStream: 8,
      idleTimeout: 60_000,
      ...init,
    },
    async () => {
      dials++
      const stream = connect(port, '127.0.0.1')
      stream.setNoDelay(true)
      await once(stream, 'connect')
      const session = connectH2('http://w1', { createConnection: () => stream })
      return { session, stream }
    },
  )
  t.after(() => {
    p.close()
  })
  return { pool: p, dials: () => dials }
}

async function body(stream: ClientHttp2Stream): Promise<string> {
  stream.end()
  let text = ''
  stream.setEncoding('utf8')
  for await (const chunk of stream) text += chunk as string
  return text
}

const get = (path: string) => ({ ':method': 'GET', ':path': path })

test('100 requests at once share the connections: the pool grows one at a time while every one is busy', async (t) => {
  const server = await startServer(t)
  const { pool: p, dials } = pool(t, server.port)
  const answers = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => body((await p.request(KEY, get(`/r${i}?ms=50`))).stream)),
  )
  assert.deepEqual(
    answers,
    Array.from({ length: 100 }, (_, i) => `/r${i}?ms=50`),
  )
  assert.ok(dials() >= 1 && dials() <= 2, `${dials()} dials for 100 requests (one at a time)`)
  assert.ok((p.openStreams().get(KEY) ?? 0) <= 2)
})

test('a request goes on the connection that has rested longest, and is told whether it was used before', async (t) => {
  const server = await startServer(t)
  const { pool: p, dials } = pool(t, server.port, { requestsPerStream: 1 })
  // two at once: the second finds the first connection busy and a second one is dialled
  // the second request finds the first connection busy: a second one is dialled, and meanwhile the request
  // goes on the first (it never waits for a dial while a connection is open)
  const first = await p.request(KEY, get('/a?ms=100'))
  const second = await p.request(KEY, get('/b'))
  assert.deepEqual([first.reused, second.reused], [false, true])
  assert.equal(second.stream.session, first.stream.session)
  await Promise.all([body(first.stream), body(second.stream)])
  await sleep(20)
  assert.equal(dials(), 2)
  const order: unknown[] = []
  for (let i = 0; i < 4; i++) {
    const r = await p.request(KEY, get(`/c${i}`))
    order.push(r.stream.session)
    await body(r.stream)
  }
  assert.notEqual(order[0], first.stream.session, 'the new, rested connection first')
  assert.deepEqual([order[2], order[3]], [order[0], order[1]], 'then each in turn')
  assert.notEqual(order[0], order[1])
  assert.equal(dials(), 2)
})

test('a connection that dies is dropped; the next request dials a new one', async (t) => {
  const server = await startServer(t)
  const { pool: p, dials } = pool(t, server.port)
  const r = await p.request(KEY, get('/a'))
  await body(r.stream)
  r.stream.session?.destroy()
  await sleep(20)
  assert.equal(p.openStreams().get(KEY) ?? 0, 0)
  assert.equal(await body((await p.request(KEY, get('/b'))).stream), '/b')
  assert.equal(dials(), 2)
})

test('forget: idle connections close; a busy one finishes its request but takes no new one', async (t) => {
  const server = await startServer(t)
  const { pool: p, dials } = pool(t, server.port)
  await body((await p.request(KEY, get('/warm'))).stream)
  const busy = await p.request(KEY, get('/slow?ms=150'))
  await sleep(20) // its HEADERS are on the wire
  p.forget(KEY)
  assert.equal(p.openStreams().get(KEY) ?? 0, 0)
  const next = await p.request(KEY, get('/next'))
  assert.equal(dials(), 2, 'a new connection for the next request')
  assert.deepEqual(await Promise.all([body(busy.stream), body(next.stream)]), ['/slow?ms=150', '/next'])
})

test('no connection and none may be dialled: ERR_TOO_MANY_STREAMS', async (t) => {
  const server = await startServer(t)
  const { pool: p } = pool(t, server.port, { maxStreams: 1 })
  const a = await p.request('w1', get('/a?ms=100'))
  await assert.rejects(p.request('w2', get('/b')), (err) => isPRouterError(err, 'ERR_TOO_MANY_STREAMS'))
  await body(a.stream)
})

test('minStreamsPerPeer: once a worker is called, more connections are dialled in the background, one at a time', async (t) => {
  const server = await startServer(t)
  const { pool: p, dials } = pool(t, server.port, { minStreamsPerPeer: 3 })
  for (let i = 0; i < 6; i++) {
    await body((await p.request(KEY, get(`/r${i}`))).stream)
    await sleep(10)
  }
  assert.equal(dials(), 3)
  assert.equal(p.openStreams().get(KEY), 3)
})
