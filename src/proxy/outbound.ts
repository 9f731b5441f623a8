/**
 * Outbound: pRuntime's requests to other workers, named by worker key. Requests travel as HTTP/2 over streams
 * from the daemon's one SAM session, many at once on each, kept open in a pool per worker (h2-pool.ts), so a
 * warm request pays no stream set-up and a burst does not open a stream per request; a new stream resolves the
 * key through the verifying registry and opens a SAM stream to the b32 it names. CONNECT tunnels get a stream
 * of their own.
 */
import { connect as connectH2, type Settings } from 'node:http2'
import type { Duplex } from 'node:stream'
import type net from 'node:net'
import { pipeline } from 'node:stream'
import { finished } from 'node:stream/promises'
import { INBOUND_KEEP_ALIVE_TIMEOUT, H2_SESSION_WINDOW, H2_STREAM_WINDOW, SECOND } from '../constants.js'
import { isPRouterError, PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Registry } from '../registry/index.js'
import { parseI2pEndpoint, signCallerProof, type WorkerKeyPair } from '../identity/index.js'
import { abortable, deadlineSignal, isTimeoutReason } from '../signals.js'
import { forwardableHeaders } from './headers.js'
import { createGauge } from './limits.js'
import { httpStatusOf, sendError, toPRouterError, writeRawError } from './http-error.js'
import { isBodyless, relay, type RelayLimits } from './relay.js'
import type { StreamSource } from './stream-source.js'
import type { PeerMeter } from '../metering/peer-meter.js'
import type { StreamMeter } from '../metering/stream-meter.js'
import { workerHost } from './worker-name.js'
import { handshake, handshakeH2, PING_PATH, type HandshakeAnswer } from './handshake.js'
import { createH2Pool, type Dialled, type H2Pool } from './h2-pool.js'
import { fromH2Stream, type Upstream } from './upstream.js'
import { createPeerWatch } from './peer-watch.js'
import { createPeerSessions, type PeerSessions } from './peer-sessions.js'
import type { IncomingMessage as Req, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Requester } from '../messages/requester.js'
import { ANSWER_PATH } from '../messages/request-wire.js'
import { datagramUpstream } from './datagram-upstream.js'

/**
 * Requests over datagrams in flight to one worker at most; more go over streams. One datagram is out to a
 * peer at a time (src/messages/pipe.ts), so a burst queues behind it: 200 at once over datagrams were all
 * answered in 350 ms, 1,000 took 3.8 s (1.3 s over streams, whose HTTP/2 sessions carry many at once).
 */
const DATAGRAM_REQUESTS_PER_PEER = 128

/** Our side's HTTP/2 settings: room for a large body in flight on a long path (the default window is 64 KiB). */
const H2_SETTINGS: Settings = { enablePush: false, initialWindowSize: H2_STREAM_WINDOW }

export interface OutboundInit extends RelayLimits {
  maxStreams: number
  maxStreamsPerPeer: number
  /** Connections kept to a worker once called (requests take turns on them); see h2-pool.ts. */
  minStreamsPerPeer: number
  /** Requests in flight on every connection to a worker before another is opened. */
  requestsPerStream: number
  maxPending: number
  connectTimeout: number
  /** A request without its answer's first byte for this long probes the worker (see peer-watch.ts). */
  probeAfter: number
  /** Deadline of that probe: no answer within it fails the worker's waiting requests (ERR_PEER_LOST). */
  probeTimeout: number
  /** This worker: its key signs the caller proof of every new stream, from its own b32 (handshake.ts). */
  self: { worker: WorkerKeyPair; b32: string }
  /** Send requests that fit one datagram over the datagram session, when it runs (datagram-upstream.ts). */
  datagramRequests: boolean
}

export interface OutboundComponents {
  logger: Logger
  streams: StreamSource
  registry: Registry
  /** Per-peer counters: each exchange as it ends. */
  peers: PeerMeter
  /** Bytes at the stream boundary: every stream opened is tracked until it closes. */
  meter: StreamMeter
  /** false while the local router does not answer its liveness probe: new requests fail at once. */
  routerHealthy?: () => boolean
  /** Requests over datagrams, while the datagram session is up (undefined: not now). */
  datagrams?: () => Requester | undefined
}

export interface Outbound {
  /** Relay `req` to `workerKey`'s service at `target` (path and query); `drop` names headers kept local. */
  forward(req: Req, res: ServerResponse, workerKey: string, target: string, drop?: string[]): Promise<void>
  /** CONNECT: a raw stream to `workerKey`'s inbound side, spliced to `client`. */
  tunnel(client: Duplex, head: Buffer, workerKey: string): Promise<void>
  /** A ping through the pool (opens or refreshes a kept-alive stream); resolves with the round trip in ms. */
  ping(workerKey: string, options?: { signal?: AbortSignal }): Promise<number>
  /** Streams open now, per worker key. */
  openStreams(): Map<string, number>
  /** Drop the idle pooled streams to `workerKey` (it stopped answering: they may be dead). */
  forget(workerKey: string): void
  close(): void
}

export function createOutbound(init: OutboundInit, components: OutboundComponents): Outbound {
  const log = components.logger.child({ component: 'outbound' })
  const { peers } = components
  const sessions = createPeerSessions({
    onRestart: (workerKey, isDead) => {
      const dropped = pool.destroyStreams(workerKey, isDead)
      if (dropped > 0)
        log.info({ workerKey, dropped }, 'worker restarted its router: its old streams are dead')
    },
  })
  const dial = dialers(init, { ...components, sessions }, log)
  const pool = createH2Pool(
    {
      maxStreams: init.maxStreams,
      maxStreamsPerPeer: init.maxStreamsPerPeer,
      minStreamsPerPeer: init.minStreamsPerPeer,
      requestsPerStream: init.requestsPerStream,
      idleTimeout: INBOUND_KEEP_ALIVE_TIMEOUT - 30 * SECOND, // pooled streams go before the peer drops them
    },
    dial.h2,
  )
  const pending = createGauge(init.maxStreams + init.maxPending)
  const datagramSlots = createPeerSlots(DATAGRAM_REQUESTS_PER_PEER)
  const classify = (err: unknown): Promise<PRouterError> => classifyError(err, components.streams)
  const watch = createPeerWatch(init, {
    logger: log,
    probe: async (workerKey, signal) => {
      const stream = await dial
        .http1(workerKey, { signal, timeout: init.probeTimeout })
        .catch((err: unknown) => {
          throw isPRouterError(err) ? mapSamError(err) : err // e.g. ERR_SAM_TIMEOUT: no answer, unreachable
        })
      stream.destroy()
    },
    onLost: (workerKey) => {
      pool.forget(workerKey)
    },
  })
  /** Why a new request is refused at once (the router is down or hung) rather than left to a deadline. */
  const routerRefusal = (): PRouterError | undefined => {
    if (components.routerHealthy?.() === false) return routerUnresponsive()
    try {
      components.streams.session() // ERR_ROUTER_UNAVAILABLE when the router or its session is down
      return undefined
    } catch (err) {
      return toPRouterError(err)
    }
  }

  /**
   * The upstream of one request: over datagrams when the datagram session runs, the request fits one datagram
   * and the worker publishes a datagram destination; over a pooled stream otherwise.
   */
  const open = async (
    req: Req,
    workerKey: string,
    target: string,
    headers: OutgoingHttpHeaders,
  ): Promise<Upstream> => {
    const method = req.method ?? 'GET'
    const requester = init.datagramRequests ? components.datagrams?.() : undefined
    const length = Number(req.headers['content-length'] ?? 0)
    const small = req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(length)
    if (requester !== undefined && small && requester.fits({ method, target, headers, bodyBytes: length })) {
      const release = datagramSlots.take(workerKey) // taken before any await: a burst cannot overrun it
      if (release !== undefined && (await requester.reaches(workerKey))) {
        const upstream = datagramUpstream({
          method,
          target,
          headers,
          send: (request, signal) => requester.request(workerKey, request, signal),
          fetchParked: (token) => openRequest(pool, workerKey, 'GET', `${ANSWER_PATH}${token}`, {}, true),
        })
        void upstream.response.catch(() => undefined).finally(release)
        return upstream
      }
      release?.()
    }
    return openRequest(pool, workerKey, method, target, headers, isBodyless(req))
  }

  const forward = async (
    req: Req,
    res: ServerResponse,
    workerKey: string,
    target: string,
    drop: string[] = [],
  ) => {
    const refusal = routerRefusal()
    if (refusal !== undefined) {
      sendError(res, refusal)
      return
    }
    if (!pending.tryAcquire()) {
      sendError(res, tooMany(init.maxStreams + init.maxPending))
      return
    }
    const started = performance.now()
    const lost = new AbortController()
    const unwatch = watch.add(workerKey, lost)
    try {
      await relay({
        req,
        res,
        limits: init,
        classify,
        signal: lost.signal,
        stall: {
          after: init.probeAfter,
          onStall: () => {
            watch.stalled(workerKey)
          },
        },
        open: () => open(req, workerKey, target, forwardableHeaders(req.headers, drop)),
        onEnd: ({ status, error }) => {
          if (error?.code === 'ERR_REGISTRY_NOT_FOUND') return // not a peer: keep the table to real workers
          peers.record(workerKey, { out: true, status, ms: performance.now() - started, error: error?.code })
        },
      })
    } catch (err) {
      sendError(res, await classify(err))
    } finally {
      unwatch()
      pending.release()
    }
  }

  const tunnel = async (client: Duplex, head: Buffer, workerKey: string): Promise<void> => {
    const refusal = routerRefusal()
    if (refusal !== undefined) {
      writeRawError(client, refusal)
      return
    }
    if (!pending.tryAcquire()) {
      writeRawError(client, tooMany(init.maxStreams + init.maxPending))
      return
    }
    const started = performance.now()
    const record = (status: number, error?: PRouterError): void => {
      if (error?.code === 'ERR_REGISTRY_NOT_FOUND') return // not a peer, as in forward
      peers.record(workerKey, { out: true, status, ms: performance.now() - started, error: error?.code })
    }
    try {
      const stream = await dial.http1(workerKey)
      record(200) // one request out, as the peer counts the first request it reads from the tunnel
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) stream.write(head)
      stream.setTimeout(init.idleTimeout, () => stream.destroy())
      await splice(client, stream)
    } catch (err) {
      const e = await classify(err)
      record(httpStatusOf(e.code), e)
      writeRawError(client, e)
    } finally {
      pending.release()
    }
  }

  const ping = async (workerKey: string, options: { signal?: AbortSignal } = {}): Promise<number> => {
    const refusal = routerRefusal()
    if (refusal !== undefined) throw refusal
    const [rtt] = await Promise.all([
      pingOnce(pool, workerKey, init, options.signal),
      pingDatagrams(workerKey, options.signal),
    ])
    return rtt
  }

  /**
   * The same ping as a request over datagrams, when they run and the worker takes them: both routers look each
   * other's datagram destination up, so the first real request does not (a warm path, as for streams).
   * Failures are only logged: the stream ping is the verdict.
   */
  const pingDatagrams = async (workerKey: string, signal?: AbortSignal): Promise<void> => {
    const requester = init.datagramRequests ? components.datagrams?.() : undefined
    if (requester === undefined || !(await requester.reaches(workerKey))) return
    const deadline = deadlineSignal(init.connectTimeout, signal)
    const ping = { method: 'GET', target: PING_PATH, headers: [], body: Buffer.alloc(0) }
    await requester
      .request(workerKey, ping, deadline.signal)
      .catch((err: unknown) => {
        log.debug({ workerKey, err }, 'datagram ping failed')
      })
      .finally(() => {
        deadline.dispose()
      })
  }

  log.debug({ maxStreams: init.maxStreams, perPeer: init.maxStreamsPerPeer }, 'outbound ready')
  return {
    forward,
    tunnel,
    ping,
    openStreams: () => pool.openStreams(),
    forget: (workerKey) => {
      pool.forget(workerKey)
    },
    close: () => {
      watch.close()
      pool.close()
    },
  }
}

/**
 * Right after a peer's session starts its LeaseSet may not be published yet (CANT_REACH_PEER "LeaseSet not
 * found"): retry soon and often, until the connect deadline, so a peer that just came up is reached as soon
 * as it is reachable.
 */
const LEASESET_RETRY = { delay: 250, maxDelay: 1 * SECOND }

interface DialOptions {
  signal?: AbortSignal
  timeout?: number
}

/**
 * New streams to workers, each checked by the handshake ping (handshake.ts) under the connect deadline:
 * `http1` leaves the stream raw after the ping (CONNECT tunnels, probes), `h2` starts an HTTP/2 session on it
 * whose first request is the ping (the pool's connections).
 */
function dialers(
  init: OutboundInit,
  components: OutboundComponents & { sessions: PeerSessions },
  log: Logger,
) {
  /** Resolve the worker's binding, open a SAM stream to the b32 it names, then run `greet` on it. */
  const withStream = async <T>(
    workerKey: string,
    options: DialOptions,
    greet: (stream: net.Socket, b32: string, signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    options.signal?.throwIfAborted()
    const session = components.streams.session()
    const timeout = options.timeout ?? init.connectTimeout
    const deadline = deadlineSignal(timeout, options.signal)
    try {
      const binding = await components.registry.resolve(workerKey, { signal: deadline.signal })
      const b32 = binding.endpoints.map(parseI2pEndpoint).find((a) => a !== undefined)
      if (b32 === undefined) {
        throw new PRouterError('ERR_REGISTRY_NOT_FOUND', `worker ${workerKey} has no I2P endpoint`)
      }
      const retry = { attempts: Number.MAX_SAFE_INTEGER, ...LEASESET_RETRY } // bounded by the deadline
      const t0 = performance.now()
      const stream = await session.connect(b32, { signal: deadline.signal, timeout, retry })
      const t1 = performance.now()
      components.meter.track(stream, workerKey) // the handshake's ping is traffic with the peer too
      const greeted = await greet(stream, b32, deadline.signal).catch((err: unknown) => {
        stream.destroy()
        throw err
      })
      const ms = (t: number): number => Math.round(t * 10) / 10
      log.debug({ workerKey, connectMs: ms(t1 - t0), answerMs: ms(performance.now() - t1) }, 'new stream')
      return greeted
    } catch (err) {
      if (isTimeoutReason(err) || isTimeoutReason(deadline.signal.reason)) {
        throw unreachable(workerKey, `no stream within ${timeout} ms`, err)
      }
      throw err
    } finally {
      deadline.dispose()
    }
  }
  const greeting = (workerKey: string, b32: string) => ({
    workerKey,
    host: workerHost(workerKey),
    proof: signCallerProof(init.self.worker, { caller: init.self.b32, callee: b32 }),
  })
  const heard = (workerKey: string, stream: Duplex, answer: HandshakeAnswer): void => {
    components.sessions.reached(workerKey, stream, answer.session)
    if (answer.proof !== undefined && answer.proof !== 'ok') {
      log.warn(
        { workerKey, refused: answer.proof },
        'the worker refused our caller proof: we are anonymous there',
      )
    }
  }
  return {
    http1: (workerKey: string, options: DialOptions = {}): Promise<net.Socket> =>
      withStream(workerKey, options, async (stream, b32, signal) => {
        heard(workerKey, stream, await handshake(stream, greeting(workerKey, b32), signal))
        return stream
      }),
    h2: (workerKey: string): Promise<Dialled> =>
      withStream(workerKey, {}, async (stream, b32, signal) => {
        const session = connectH2(`http://${workerHost(workerKey)}`, {
          createConnection: () => stream,
          settings: H2_SETTINGS,
        })
        session.on('error', () => undefined) // the requests on it see the failure
        try {
          heard(workerKey, stream, await handshakeH2(session, greeting(workerKey, b32), signal))
        } catch (err) {
          session.destroy()
          throw err
        }
        session.setLocalWindowSize(H2_SESSION_WINDOW)
        return { session, stream }
      }),
  }
}

/** An HTTP/2 request to `workerKey`'s service at `path`, on one of the pool's connections to it. */
async function openRequest(
  pool: H2Pool,
  workerKey: string,
  method: string,
  path: string,
  headers: ReturnType<typeof forwardableHeaders>,
  bodyless: boolean,
): Promise<Upstream> {
  const { stream, reused } = await pool.request(
    workerKey,
    { ...headers, ':method': method, ':path': path, ':authority': workerHost(workerKey) },
    { endStream: bodyless },
  )
  return fromH2Stream(stream, reused, bodyless)
}

async function pingOnce(
  pool: H2Pool,
  workerKey: string,
  init: OutboundInit,
  signal?: AbortSignal,
): Promise<number> {
  signal?.throwIfAborted()
  const started = performance.now()
  // a stream being dialled is the pool's (others may wait for it); the ping itself leaves when aborted
  const upstream = await abortable(
    openRequest(pool, workerKey, 'GET', PING_PATH, {}, true),
    signal,
    (late) => {
      late.destroy()
    },
  )
  upstream.body.end()
  const deadline = deadlineSignal(init.connectTimeout, signal)
  const onAbort = (): void => {
    upstream.destroy(
      isTimeoutReason(deadline.signal.reason) ? unreachable(workerKey, 'ping timed out') : undefined,
    )
  }
  deadline.signal.addEventListener('abort', onAbort, { once: true })
  try {
    const response = await upstream.response
    response.body.resume()
    await finished(response.body)
    if (response.status !== 200) {
      throw new PRouterError('ERR_PEER_CLOSED', `ping of ${workerKey} answered ${response.status}`)
    }
    return performance.now() - started
  } catch (err) {
    throw deadline.signal.aborted ? (deadline.signal.reason as Error) : err
  } finally {
    deadline.signal.removeEventListener('abort', onAbort)
    deadline.dispose()
  }
}

/** The error a client sees for a failed outbound exchange. */
async function classifyError(err: unknown, streams: StreamSource): Promise<PRouterError> {
  if (isPRouterError(err)) return mapSamError(err)
  if (isTimeoutReason(err))
    return new PRouterError('ERR_PEER_UNREACHABLE', 'connect deadline passed', { cause: err })
  await streams.settle(250) // a stream that died with our router: let the session notice first
  if (!streams.isUp) {
    return new PRouterError('ERR_ROUTER_UNAVAILABLE', 'the local router went down during the request', {
      cause: err,
    })
  }
  return new PRouterError('ERR_PEER_CLOSED', 'the worker closed the stream before answering in full', {
    cause: err,
  })
}

function mapSamError(err: PRouterError): PRouterError {
  switch (err.code) {
    case 'ERR_SAM_CANT_REACH_PEER':
    case 'ERR_SAM_PEER_NOT_FOUND':
    case 'ERR_SAM_BRIDGE_TIMEOUT':
    case 'ERR_SAM_TIMEOUT':
      return new PRouterError('ERR_PEER_UNREACHABLE', `worker unreachable over I2P: ${err.message}`, {
        cause: err,
      })
    case 'ERR_SAM_CONNECT':
    case 'ERR_SAM_CLOSED':
    case 'ERR_SAM_SESSION_CLOSED':
      return new PRouterError('ERR_ROUTER_UNAVAILABLE', `local router unavailable: ${err.message}`, {
        cause: err,
      })
    default:
      return err
  }
}

function unreachable(workerKey: string, why: string, cause?: unknown): PRouterError {
  return new PRouterError('ERR_PEER_UNREACHABLE', `worker ${workerKey}: ${why}`, { cause })
}

function routerUnresponsive(): PRouterError {
  return new PRouterError(
    'ERR_ROUTER_UNRESPONSIVE',
    'the local router does not answer its liveness probe: request not sent',
  )
}

function tooMany(max: number): PRouterError {
  return new PRouterError('ERR_TOO_MANY_STREAMS', `${max} outbound requests are open or waiting already`)
}

/** At most `max` at once per worker: `take` returns the slot's release, or undefined when all are taken. */
function createPeerSlots(max: number): { take(workerKey: string): (() => void) | undefined } {
  const taken = new Map<string, number>()
  return {
    take(workerKey) {
      const n = taken.get(workerKey) ?? 0
      if (n >= max) return undefined
      taken.set(workerKey, n + 1)
      let released = false
      return () => {
        if (released) return
        released = true
        const left = (taken.get(workerKey) ?? 1) - 1
        if (left === 0) taken.delete(workerKey)
        else taken.set(workerKey, left)
      }
    },
  }
}

function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let open = 2
    const one = (): void => {
      if (--open === 0) resolve()
    }
    pipeline(a, b, () => {
      b.destroy()
      one()
    })
    pipeline(b, a, () => {
      a.destroy()
      one()
    })
  })
}
