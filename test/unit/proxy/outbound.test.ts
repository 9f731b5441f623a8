/**
 * The outbound relay against a loopback "peer": HTTP/2 and HTTP/1.1 servers standing in for the worker's
 * inbound side (they answer the handshake ping). Its streams are plain TCP; `stop()` makes it go silent the way a dead router
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
import { PING_PATH } from '../../../src/proxy/handshake.js'
import { sniffProtocol } from '../../../src/proxy/protocol-sniff.js'
import type { StreamSource } from '../../../src/proxy/stream-source.js'
import type { Registry } from '../../../src/registry/index.js'
import type { SamSession } from '../../../src/sam/index.js'
import { workerKeyFromSuri } from '../../../src/identity/index.js'

const KEY = `0x${'ab'.repeat(32)}`
const B32 = `${'a'.repeat(52)}.b32.i2p`

const INIT: OutboundInit = {
  maxStreams: 8,
  maxStreamsPerPeer: 4,
  minStreamsPerPeer: 1,
  requestsPerStream: 32,
  maxPending: 8,
  connectTimeout: 2000,
  probeAfter: 200,
  probeTimeout: 300,
  maxBodyBytes: 1024 * 1024,
  idleTimeout: 30_000,
  requestTimeout: 60_000,
  self: { worker: await workerKeyFromSuri('//Alice'), b32: `${'c'.repeat(51)}q.b32.i2p` },
  datagramRequests: false,
}

interface Peer {
  port: number
  dials: number
  /** When set, a new stream fails with it (as the SAM bridge answers) instead of connecting. */
  refuse?: PRouterError
  /** Go silent: every stream, open or new, takes bytes and never answers. */
  stop(): void
  /** A router restart: the streams open now go silent, new ones reach a new session (a new ping token). */
  restart(): void
}

async function startPeer(t: TestContext): Promise<Peer> {
  let generation = 0
  const sessionToken = (): string => `5e55${generation.toString(16).padStart(8, '0')}`
  const handler = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): void => {
    const url = new URL(req.url ?? '/', 'http://peer')
    req.resume()
    const answer = (): void => {
      const body = JSON.stringify(
        req.url === PING_PATH
          ? { workerKey: KEY, b32: B32, session: sessionToken() }
          : { path: url.pathname },
      )
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
    if (url.pathname === '/slow') setTimeout(answer, Number(url.searchParams.get('ms') ?? 0))
    else if (url.pathname !== '/hang') answer()
  }
  const server: Server = createServer(handler)
  // the worker's inbound side: HTTP/2 from the pool, HTTP/1.1 from probes and CONNECT (told apart as inbound.ts does)
  const h2 = createH2Server(handler)
  const front = createNetServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    void sniffProtocol(socket).then((protocol) => {
      if (protocol === 'h2') h2.emit('connection', socket)
      else {
        server.emit('connection', socket)
        socket.resume()
      }
    })
  })
  front.listen(0, '127.0.0.1')
  await once(front, 'listening')
  const httpPort = (front.address() as { port: number }).port
  // the "router" between: relays bytes both ways until stopped, then takes them and passes nothing on
  let silent = false
  const sockets = new Set<Socket>()
  const router = createNetServer((client) => {
    const born = generation
    const dead = (): boolean => silent || born !== generation
    const upstream = connect(httpPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      s.setNoDelay(true) // as the SAM client's sockets (HTTP/2 writes its frames one by one)
      sockets.add(s)
      s.on('error', () => undefined)
      s.once('close', () => sockets.delete(s))
    }
    client.on('data', (c: Buffer) => !dead() && upstream.write(c))
    upstream.on('data', (c: Buffer) => !dead() && client.write(c))
    client.once('close', () => !dead() && upstream.destroy())
    upstream.once('close', () => !dead() && client.destroy())
  })
  router.listen(0, '127.0.0.1')
  await once(router, 'listening')
  t.after(() => {
    for (const s of sockets) s.destroy()
    router.close()
    front.close()
    server.closeAllConnections()
    server.close()
    h2.close()
  })
  return {
    port: (router.address() as { port: number }).port,
    dials: 0,
    stop() {
      silent = true
    },
    restart() {
      generation++
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
      socket.setNoDelay(true)
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
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
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

test('a ping leaves when its signal aborts, not at the connect deadline of the stream being dialled', async (t) => {
  const peer = await startPeer(t)
  peer.stop() // the new stream's handshake is never answered: its dial lasts until the connect deadline
  const { outbound } = harness(t, peer)
  const stopping = new AbortController()
  const started = performance.now()
  setTimeout(() => {
    stopping.abort(new Error('the warmer stops'))
  }, 50)
  await assert.rejects(outbound.ping(KEY, { signal: stopping.signal }), /the warmer stops/)
  const ms = performance.now() - started
  assert.ok(
    ms < INIT.connectTimeout / 2,
    `left after ${Math.round(ms)} ms (connect deadline ${INIT.connectTimeout})`,
  )
})

test('a worker that goes silent: requests on its pooled streams fail with ERR_PEER_LOST after the probe', async (t) => {
  const peer = await startPeer(t)
  const { outbound } = harness(t, peer)
  const port = await front(t, outbound)
  await Promise.all([get(port, '/hello'), get(port, '/hello')]) // two streams in the pool
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

test('a worker whose router restarted: a request on a stream to its old session is sent again on a new one', async (t) => {
  const peer = await startPeer(t)
  const { outbound, peers } = harness(t, peer)
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200) // a stream to the first session, in the pool
  peer.restart()
  const res = await get(port, '/hello') // takes the pooled stream, which is dead now
  assert.deepEqual([res.status, res.body.path], [200, '/hello'])
  const bound = INIT.probeAfter * 2 + INIT.probeTimeout + 300
  assert.ok(
    res.ms < bound,
    `answered in ${Math.round(res.ms)} ms (bound ${bound}, idle limit ${INIT.idleTimeout})`,
  )
  assert.equal(peers.get(KEY)?.errorsOut, 0, 'the request was not failed')
  await sleep(50)
  assert.equal(outbound.openStreams().get(KEY), 1, 'only the stream to the new session is left')
})

test('a worker whose router restarted: a stream dialled in the background and never used is as suspect', async (t) => {
  const peer = await startPeer(t)
  const { outbound, peers } = harness(t, peer, {}, { minStreamsPerPeer: 2 })
  const port = await front(t, outbound)
  assert.equal((await get(port, '/hello')).status, 200)
  assert.equal((await get(port, '/hello')).status, 200) // and a second stream is dialled in the background
  await sleep(100)
  assert.equal(outbound.openStreams().get(KEY), 2)
  peer.restart()
  const res = await get(port, '/hello') // takes the rested stream, never used, dead now
  assert.deepEqual([res.status, res.body.path], [200, '/hello'])
  assert.equal(peers.get(KEY)?.errorsOut, 0, 'the request was sent again, not failed')
})

test('PRouterError codes the outbound adds are in the catalogue', () => {
  for (const code of ['ERR_PEER_LOST', 'ERR_ROUTER_UNRESPONSIVE'] as const) {
    assert.equal(new PRouterError(code, 'x').code, code)
  }
})
