/**
 * The outbound relay against a loopback "peer": an HTTP server standing in for the worker's inbound side (it
 * answers the handshake ping). Its streams are plain TCP; `stop()` makes it go silent the way a dead router
 * does (bytes are taken, nothing answers, nothing closes).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { connect, createServer as createNetServer, type Socket } from 'node:net'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { createPeerMeter, type PeerMeter } from '../../../src/metering/peer-meter.js'
import type { StreamMeter } from '../../../src/metering/stream-meter.js'
import { createOutbound, type Outbound, type OutboundInit } from '../../../src/proxy/outbound.js'
import { H2_UPGRADE, PING_PATH } from '../../../src/proxy/handshake.js'
import type { StreamSource } from '../../../src/proxy/stream-source.js'
import type { Registry } from '../../../src/registry/index.js'
import type { SamSession } from '../../../src/sam/index.js'
import { workerKeyFromSuri } from '../../../src/identity/index.js'

const KEY = `0x${'ab'.repeat(32)}`
const B32 = `${'a'.repeat(52)}.b32.i2p`

const INIT: OutboundInit = {
  maxStreams: 8,
  maxStreamsPerPeer: 4,
  maxPending: 8,
  connectTimeout: 2000,
  probeAfter: 200,
  probeTimeout: 300,
  maxBodyBytes: 1024 * 1024,
  idleTimeout: 30_000,
  requestTimeout: 60_000,
  self: { worker: await workerKeyFromSuri('//Alice'), b32: `${'c'.repeat(51)}q.b32.i2p` },
}

interface Peer {
  port: number
  dials: number
  /** Streams switched to HTTP/2: the pool's, not the probes' (those stay HTTP/1.1). */
  upgrades: number
  /** The HTTP/2 session of each request it got over HTTP/2, in order. */
  sessions: unknown[]
  /** When set, a new stream fails with it (as the SAM bridge answers) instead of connecting. */
  refuse?: PRouterError
  /** Go silent: every stream, open or new, takes bytes and never answers. */
  stop(): void
  /** Close every stream at once (as a router that dies does). */
  cut(): void
}

/** The peer's answers, on HTTP/1.1 (pings, CONNECT tunnels) and on HTTP/2 alike. */
function answerPeer(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): void {
  const url = new URL(req.url ?? '/', 'http://peer')
  req.resume()
  const answer = (): void => {
    const body = JSON.stringify(req.url === PING_PATH ? { workerKey: KEY, b32: B32 } : { path: url.pathname })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
  if (url.pathname === '/slow') setTimeout(answer, Number(url.searchParams.get('ms') ?? 0))
  else if (url.pathname !== '/hang') answer()
}

async function startPeer(t: TestContext): Promise<Peer> {
  const server: Server = createServer(answerPeer)
  const sessions: unknown[] = []
  const h2 = createH2Server((req, res) => {
    sessions.push(req.stream.session)
    answerPeer(req, res)
  })
  let upgrades = 0
  server.on('upgrade', (_req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades++
    // the handshake asked for HTTP/2 (src/proxy/handshake.ts): a 101 with the pong, then HTTP/2
    const body = JSON.stringify({ workerKey: KEY, b32: B32 })
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${H2_UPGRADE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    if (head.length > 0) socket.unshift(head)
    h2.emit('connection', socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const httpPort = (server.address() as { port: number }).port
  // the "router" between: relays bytes both ways until stopped, then takes them and passes nothing on
  let silent = false
  const sockets = new Set<Socket>()
  const router = createNetServer((client) => {
    const upstream = connect(httpPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.once('close', () => sockets.delete(s))
    }
    client.on('data', (c: Buffer) => !silent && upstream.write(c))
    upstream.on('data', (c: Buffer) => !silent && client.write(c))
    client.once('close', () => !silent && upstream.destroy())
    upstream.once('close', () => !silent && client.destroy())
  })
  router.listen(0, '127.0.0.1')
  await once(router, 'listening')
  t.after(() => {
    for (const s of sockets) s.destroy()
    router.close()
    server.closeAllConnections()
    server.close()
  })
  return {
    port: (router.address() as { port: number }).port,
    dials: 0,
    sessions,
    get upgrades() {
      return upgrades
    },
    stop() {
      silent = true
    },
    cut() {
      for (const s of sockets) s.destroy()
    },
  }
}

function harness(
  t: TestContext,
  peer: Peer,
  extra: { routerHealthy?: () => boolean } = {},
  init: Partial<OutboundInit> = {},
) {
  const session = {
    connect: async (_b32: string, options: { signal?: AbortSignal } = {}) => {
      options.signal?.throwIfAborted()
      peer.dials++
      if (peer.refuse !== undefined) throw peer.refuse
      const socket = connect(peer.port, '127.0.0.1')
      await once(socket, 'connect')
      return socket
    },
  } as unknown as SamSession
  const streams: StreamSource = {
    isUp: true,
    session: () => session,
    whenUp: () => Promise.resolve(session),
    settle: () => Promise.resolve(),
  }
  const registry = {
    resolve: () => Promise.resolve({ endpoints: [`i2p://${B32}`] }),
  } as unknown as Registry
  const meter = { track: () => undefined, reassign: () => undefined } as unknown as StreamMeter
  const peers: PeerMeter = createPeerMeter()
  const outbound = createOutbound(
    { ...INIT, ...init },
    { logger: silentLogger(), streams, registry, peers, meter, ...extra },
  )
  t.after(() => {
    outbound.close()
  })
  return { outbound, peers }
}

/** A local API in front of `outbound`: every request goes to KEY, CONNECT too. */
async function front(t: TestContext, outbound: Outbound): Promise<number> {
  const server = createServer((req, res) => {
    void outbound.forward(req, res, KEY, req.url ?? '/')
  })
  server.on('connect', (_req: IncomingMessage, socket: Socket, head: Buffer) => {
    void outbound.tunnel(socket, head, KEY)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as { port: number }).port
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>,
          ms: performance.now() - started,
        })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

async function connectThrough(port: number): Promise<{ socket: Socket; first: string }> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`CONNECT worker.prouter:80 HTTP/1.1\r\nhost: worker.prouter\r\n\r\n`)
  const [chunk] = (await once(socket, 'data')) as [Buffer]
  return { socket, first: chunk.toString('utf8') }
}

test('a router that does not answer its probe: 503 ERR_ROUTER_UNRESPONSIVE at once, nothing dialled', async (t) => {
  const peer = await startPeer(t)
  let healthy = false
  const { outbound, peers } = harness(t, peer, { routerHealthy: () => healthy })
  const port = await front(t, outbound)
  const res = await get(port, '/hello')
  assert.deepEqual([res.status, res.body.code], [503, 'ERR_ROUTER_UNRESPONSIVE'])
  assert.ok(res.ms < INIT.connectTimeout / 2, `answered in ${res.ms} ms, not at the connect deadline`)
  const { socket, first } = await connectThrough(port)
  socket.destroy()
  assert.match(first, /^HTTP\/1\.1 503 /)
  assert.match(first, /ERR_ROUTER_UNRESPONSIVE/)
  await assert.rejects(outbound.ping(KEY), (err) => isPRouterError(err, 'ERR_ROUTER_UNRESPONSIVE'))
  assert.equal(peer.dials, 0)
  assert.equal(peers.get(KEY), undefined, 'a request never sent is not a request to the peer')
  healthy = true
  assert.equal((await get(port, '/hello')).status, 200, 'served again once the router answers')
})

test('CONNECT counts one request out, as the API and the forward proxy do', async (t) => {
  const peer = await startPeer(t)
  const { outbound, peers } = harness(t, peer)
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200)
  // the exchange is recorded when the relay has ended it, which may be just after the client got its bytes
  for (let i = 0; i < 100 && peers.get(KEY) === undefined; i++) await sleep(10)
  const { socket, first } = await connectThrough(port)
  assert.match(first, /^HTTP\/1\.1 200 Connection Established/)
  socket.write(`GET /hello HTTP/1.1\r\nhost: w\r\nconnection: close\r\n\r\n`)
  const parts: Buffer[] = []
  socket.on('data', (c: Buffer) => parts.push(c))
  await once(socket, 'close')
  assert.match(Buffer.concat(parts).toString('utf8'), /^HTTP\/1\.1 200/)
  assert.equal(peers.get(KEY)?.requestsOut, 2)
  assert.equal(peers.get(KEY)?.errorsOut, 0)
})

test('a failed CONNECT is counted as a failed request out', async (t) => {
  const peer = await startPeer(t)
  peer.stop() // the handshake is never answered: ERR_PEER_UNREACHABLE at the connect deadline
  const { outbound, peers } = harness(t, peer)
  const port = await front(t, outbound)
  const { socket, first } = await connectThrough(port)
  socket.destroy()
  assert.match(first, /^HTTP\/1\.1 504 .*ERR_PEER_UNREACHABLE/s)
  assert.deepEqual([peers.get(KEY)?.requestsOut, peers.get(KEY)?.errorsOut], [1, 1])
})

test('a worker that goes silent: requests on its pooled streams fail with ERR_PEER_LOST after the probe', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer, {}, { maxStreamsPerPeer: 1 }) // no extra stream: dials are probes
  const port = await front(t, outbound)
  await Promise.all([get(port, '/hello'), get(port, '/hello')]) // both on the pool's one HTTP/2 stream
  const dialsBefore = peer.dials
  peer.stop()
  const answers = await Promise.all([get(port, '/hello'), get(port, '/hello')])
  for (const res of answers) {
    assert.deepEqual([res.status, res.body.code], [504, 'ERR_PEER_LOST'])
    const bound = INIT.probeAfter * 2 + INIT.probeTimeout + 300
    assert.ok(
      res.ms < bound,
      `failed in ${Math.round(res.ms)} ms (bound ${bound}, idle limit ${INIT.idleTimeout})`,
    )
  }
  assert.equal(peer.dials - dialsBefore, 1, 'one probe for both requests')
  await sleep(50) // the pool forgets a socket on its close event
  assert.equal(outbound.openStreams().get(KEY) ?? 0, 0, 'the dead pooled streams were dropped')
})

test('a probe the SAM bridge times out (ERR_SAM_TIMEOUT) also finds the worker lost', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200) // a stream in the pool
  peer.stop()
  peer.refuse = new PRouterError('ERR_SAM_TIMEOUT', 'STREAM CONNECT: no reply within the deadline')
  const res = await get(port, '/hello')
  assert.deepEqual([res.status, res.body.code], [504, 'ERR_PEER_LOST'])
  assert.ok(res.ms < INIT.probeAfter * 2 + 300, `failed in ${Math.round(res.ms)} ms`)
})

test('a slow service is not a lost worker: the probe is answered and the request completes', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  const res = await get(port, `/slow?ms=${INIT.probeAfter * 5}`)
  assert.deepEqual([res.status, res.body.path], [200, '/slow'])
  assert.ok(res.ms >= INIT.probeAfter * 5)
  assert.ok(peer.dials >= 2, 'the worker was probed on a fresh stream')
})

test('a silent stream to a worker that answers its probes ends at the idle limit, not as lost', async (t) => {
  const peer = await startPeer(t)
  const idleTimeout = 1200
  const { outbound } = harness(t, peer, {}, { idleTimeout })
  const port = await front(t, outbound)
  const res = await get(port, '/hang')
  assert.deepEqual([res.status, res.body.code], [504, 'ERR_IDLE_TIMEOUT'])
  assert.ok(res.ms >= idleTimeout - 50, `${Math.round(res.ms)} ms`)
  assert.ok(peer.dials >= 2, 'the worker was probed and answered')
})

test('PRouterError codes the outbound adds are in the catalogue', () => {
  for (const code of ['ERR_PEER_LOST', 'ERR_ROUTER_UNRESPONSIVE'] as const) {
    assert.equal(new PRouterError(code, 'x').code, code)
  }
})

test('200 requests at once share a few HTTP/2 streams: all answered, at most maxStreamsPerPeer dialled', async (t) => {
  const peer = await startPeer(t)
  const { outbound, peers } = harness(t, peer, {}, { maxPending: 200 })
  const port = await front(t, outbound)
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(port, `/slow?ms=20&i=${i}`)))
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]))
  assert.ok(peer.upgrades >= 1 && peer.upgrades <= INIT.maxStreamsPerPeer, `${peer.upgrades} pool streams`)
  assert.ok((outbound.openStreams().get(KEY) ?? 0) <= INIT.maxStreamsPerPeer)
  for (let i = 0; i < 100 && (peers.get(KEY)?.requestsOut ?? 0) < 200; i++) await sleep(10)
  assert.equal(peers.get(KEY)?.requestsOut, 200, 'each request is counted, not each stream')
})

test('back-to-back requests rotate over rested streams: the pool grows to a few, then stops', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  for (let i = 0; i < 30; i++) assert.equal((await get(port, '/hello')).status, 200)
  const open = outbound.openStreams().get(KEY) ?? 0
  assert.ok(open >= 2, `${open} streams: a lone stream would send each request inside i2pd's send timer`)
  assert.ok(open <= INIT.maxStreamsPerPeer, `${open} streams, at most ${INIT.maxStreamsPerPeer}`)
  assert.equal(peer.upgrades, open, 'no stream was dialled and dropped')
})

test('requests in flight together spread over the warm streams (large bodies get several streams)', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  for (let i = 0; i < 30; i++) assert.equal((await get(port, '/hello')).status, 200)
  const open = outbound.openStreams().get(KEY) ?? 0
  await sleep(50) // every stream rested
  peer.sessions.length = 0
  await Promise.all(Array.from({ length: open }, () => get(port, '/slow?ms=100')))
  assert.equal(new Set(peer.sessions).size, open, `${open} requests on ${open} streams, one each`)
})

test('forget: requests in flight finish on the old stream, the next one dials anew', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer, {}, { maxStreamsPerPeer: 1 })
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200)
  const slow = get(port, '/slow?ms=200')
  await sleep(50)
  outbound.forget(KEY)
  assert.equal(outbound.openStreams().get(KEY) ?? 0, 0)
  assert.equal((await slow).status, 200, 'the request in flight was not cut')
  assert.equal((await get(port, '/hello')).status, 200)
  assert.equal(peer.upgrades, 2)
})

test('a stream closed under a request in flight fails it at once with ERR_PEER_CLOSED, not at a deadline', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200)
  const hanging = get(port, '/hang')
  await sleep(50)
  peer.cut()
  const res = await hanging
  assert.deepEqual([res.status, res.body.code], [502, 'ERR_PEER_CLOSED'])
  assert.ok(res.ms < INIT.probeAfter, `failed in ${Math.round(res.ms)} ms`)
})

test('ranged requests in flight together get a stream each, up to maxStreamsPerPeer', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200) // one warm stream
  peer.sessions.length = 0
  const parts = Array.from({ length: 6 }, (_, i) => get(port, '/slow?ms=300', { range: `bytes=${i}-${i}` }))
  assert.deepEqual(new Set((await Promise.all(parts)).map((r) => r.status)), new Set([200]))
  const used = new Set(peer.sessions).size
  assert.equal(used, INIT.maxStreamsPerPeer, `6 parts on ${used} streams: one each while the pool may grow`)
  assert.equal(peer.upgrades, INIT.maxStreamsPerPeer)
})
