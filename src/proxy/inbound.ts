/**
 * Inbound: streams other workers open to this one. Each accepted stream is an HTTP/2 connection (many requests
 * at once, as daemons send them) or an HTTP/1.1 one (kept alive for many requests: CONNECT tunnels, raw
 * clients), told apart by its first bytes and fed to a local server of that kind; each request is checked — caller identity, anonymous
 * policy, allowed paths, per-caller rate limit, sizes — and relayed to the worker's own service with headers
 * saying who called. The caller is proven on the stream itself: its handshake ping carries a caller proof
 * (src/identity/caller-proof.ts) signed by a worker key for the stream's source destination (which I2P
 * authenticates) and this worker's; the key is the caller if its newest valid binding names that source too (a
 * forward lookup). No proof, a refused one or a binding elsewhere: `anonymous`. No reverse lookup: anyone may
 * publish a binding naming someone else's address (docs/registry.md, "The caller proof").
 */
import { randomBytes } from 'node:crypto'
import {
  createServer,
  request,
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import {
  createServer as createH2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2'
import type net from 'node:net'
import { pipeline } from 'node:stream'
import {
  ACCEPT_RETRY_MAX,
  ACCEPT_RETRY_MIN,
  DEFAULT_RESOLVE_CACHE_TTL,
  H2_SESSION_WINDOW,
  H2_STREAM_WINDOW,
  INBOUND_H2_MAX_CONCURRENT,
  INBOUND_KEEP_ALIVE_TIMEOUT,
} from '../constants.js'
import { isPRouterError, PRouterError } from '../errors.js'
import { parseI2pEndpoint, verifyCallerProof } from '../identity/index.js'
import { errorFields } from '../redact.js'
import { createLoop, type Loop } from '../lifecycle.js'
import type { Logger } from '../logger.js'
import type { Registry } from '../registry/index.js'
import type { AcceptedStream, SamSession } from '../sam/index.js'
import { isTimeoutReason } from '../signals.js'
import { createPathFilter, normalizeTarget, refuseAmbiguous, type PathFilter } from './allow-paths.js'
import { ANONYMOUS, CALLER_ADDRESS_HEADER, CALLER_HEADER, forwardableHeaders } from './headers.js'
import { sendError, writeRawError, type HttpResponse } from './http-error.js'
import { createRateLimiter, type RateLimiter } from './limits.js'
import { createStreamTable, type StreamTable } from './stream-table.js'
import { collectAnswer, errorAnswer, type ToPark } from './answer-collect.js'
import { createParkedAnswers, type ParkedAnswers } from './parked-answers.js'
import { ANSWER_PATH, fromPairs, type WireAnswer, type WireRequest } from '../messages/request-wire.js'
import { PING_PATH, PROOF_HEADER } from './handshake.js'
import type { PeerMeter } from '../metering/peer-meter.js'
import type { StreamMeter } from '../metering/stream-meter.js'
import { relay, type RelayLimits } from './relay.js'
import { sniffProtocol } from './protocol-sniff.js'
import { fromClientRequest } from './upstream.js'
import type { StreamSource } from './stream-source.js'

/** How long a stream's caller verdict holds before the next request re-checks it. */
const CALLER_RECHECK_INTERVAL = DEFAULT_RESOLVE_CACHE_TTL
/** Long answers to requests over datagrams held at once for their callers to fetch, and for how long. */
const PARKED_ANSWERS_MAX = 256
const PARKED_ANSWERS_PER_CALLER = 32
const PARKED_ANSWER_TIMEOUT = 30_000
/** Bytes of randomness in a session token (handshake.ts, SESSION_TOKEN). */
const SESSION_TOKEN_BYTES = 8

/** A request from another worker, over HTTP/2 or HTTP/1.1. */
type InboundRequest = IncomingMessage | Http2ServerRequest

export interface InboundInit extends RelayLimits {
  /** The local service, `http://host:port[/base]`; undefined: every request is refused (ERR_NO_SERVICE). */
  serviceUrl: string | undefined
  allowAnonymous: boolean
  allowPaths: readonly string[] | undefined
  maxStreams: number
  /** Streams one caller address (source b32) may hold at once. */
  maxStreamsPerCaller: number
  /** An anonymous caller's stream with no request in progress is closed after this. */
  anonymousIdleTimeout: number
  rateLimit: { perSecond: number; burst: number }
  maxHeaderBytes: number
  /** This worker, as the ping answers it. */
  self: { workerKey: string; b32: string }
}

export interface InboundComponents {
  logger: Logger
  streams: StreamSource
  registry: Registry
  /** Per-peer counters: each exchange as it ends. */
  peers: PeerMeter
  /** Bytes at the stream boundary, counted for the caller once it is identified. */
  meter: StreamMeter
}

export interface Caller {
  /** `0x…` when the stream's proof and the key's binding both name its source, else undefined (anonymous). */
  workerKey: string | undefined
  b32: string
}

/** What one stream is known by: its source, the key its handshake proved (if any) and the current verdict. */
interface StreamCaller {
  b32: string
  /** The token of the session that accepted the stream (the ping names it). */
  session: string
  /** Settled by the stream's first request: a ping with a valid proof, or anything else (anonymous). */
  settled: boolean
  proven: string | undefined
  verdict: Promise<Caller>
  at: number
  /** Resolves the verdict the meter waits for (once: at the first request, or at close). */
  settle: (verdict: Promise<Caller>) => void
}

export interface Inbound {
  /** Streams open now. */
  readonly open: number
  start(): void
  stop(): Promise<void>
  /**
   * A request that came over datagrams (src/messages/receiver.ts), through the same policy to the service;
   * the answer, errors included (never rejects). A response longer than one frame is parked for the caller
   * to fetch over a stream (parked-answers.ts).
   */
  serve(request: WireRequest, caller: Caller): Promise<WireAnswer>
}

export function createInbound(init: InboundInit, components: InboundComponents): Inbound {
  return new InboundServer(init, components)
}

class InboundServer implements Inbound {
  private readonly log: Logger
  private readonly server: Server
  private readonly h2: Http2Server
  /** The I2P stream under each HTTP/2 session (its `socket` is a proxy, not the stream). */
  private readonly h2Streams = new WeakMap<Http2Session, net.Socket>()
  /** The stream being handed to the HTTP/2 server: its 'session' event comes synchronously. */
  private handingOver: net.Socket | undefined
  private readonly streams = new Set<net.Socket>()
  private readonly callers = new WeakMap<net.Socket, StreamCaller>()
  private readonly sessionTokens = new WeakMap<SamSession, string>()
  private readonly table: StreamTable<net.Socket>
  private readonly limiter: RateLimiter
  private readonly allowed: PathFilter
  private readonly service: URL | undefined
  private readonly serviceAgent = new Agent({ keepAlive: true })
  private readonly accepting: Loop
  private readonly parked: ParkedAnswers

  constructor(
    private readonly init: InboundInit,
    private readonly components: InboundComponents,
  ) {
    this.log = components.logger.child({ component: 'inbound' })
    this.table = createStreamTable({
      maxStreams: init.maxStreams,
      maxPerCaller: init.maxStreamsPerCaller,
      anonymousIdleTimeout: init.anonymousIdleTimeout,
    })
    this.limiter = createRateLimiter(init.rateLimit.perSecond, init.rateLimit.burst)
    this.allowed = createPathFilter(init.allowPaths)
    this.service = init.serviceUrl === undefined ? undefined : new URL(init.serviceUrl)
    this.accepting = this.createAcceptLoop(this.log)
    this.parked = createParkedAnswers({
      max: PARKED_ANSWERS_MAX,
      maxPerCaller: PARKED_ANSWERS_PER_CALLER,
      timeout: PARKED_ANSWER_TIMEOUT,
    })
    this.server = this.createHttpServer()
    this.h2 = this.createH2Server()
  }

  get open(): number {
    return this.table.size
  }

  start(): void {
    this.accepting.start()
  }

  async stop(): Promise<void> {
    const accepting = this.accepting.stop() // aborts the pending STREAM ACCEPT (ERR_DAEMON_STOPPED)
    this.table.clear()
    for (const s of this.streams) s.destroy()
    this.server.closeAllConnections()
    this.parked.close()
    this.serviceAgent.destroy()
    await accepting
  }

  async serve(request: WireRequest, caller: Caller): Promise<WireAnswer> {
    if (request.target === PING_PATH) return this.datagramPong()
    const started = performance.now()
    try {
      // the length is the body's, whatever the caller claimed: no room for a second request in the first
      const headers = { ...fromPairs(request.headers), 'content-length': String(request.body.length) }
      const headBytes = request.headers.reduce(
        (n, [k, v]) => n + k.length + v.length + 4,
        request.target.length,
      )
      if (headBytes > this.init.maxHeaderBytes) {
        throw new PRouterError(
          'ERR_HEADERS_TOO_LARGE',
          `request headers over ${this.init.maxHeaderBytes} bytes`,
        )
      }
      const path = this.admit(request.target, caller)
      const req = this.openServiceRequest(request.method, headers, caller, path)
      req.setTimeout(this.init.idleTimeout, () => req.destroy(idleTimeout(this.init.idleTimeout)))
      req.end(request.body)
      const park = (parked: ToPark): string => this.parked.park({ ...parked, owner: caller.workerKey })
      const answer = await collectAnswer(req, park, this.init.requestTimeout)
      this.recordPeer(caller, answer.status, started)
      return answer
    } catch (err) {
      const e = serviceError(err, this.service)
      const answer = errorAnswer(e)
      this.recordPeer(caller, answer.status, started, e.code)
      return answer
    }
  }

  /** The ping over datagrams (outbound.ts, pingDatagrams): who answers, as the stream ping says it. */
  private datagramPong(): WireAnswer {
    const { workerKey, b32 } = this.init.self
    const body = Buffer.from(JSON.stringify({ workerKey, b32 }))
    return { status: 200, headers: [['content-type', 'application/json']], body }
  }

  /** A parked answer (parked-answers.ts), fetched by the caller it is for. */
  private fetchParked(req: InboundRequest, res: HttpResponse, caller: Caller): void {
    const token = (req.url ?? '').slice(ANSWER_PATH.length)
    const answer = this.parked.take(token, caller.workerKey)
    if (answer === undefined) {
      sendError(res, new PRouterError('ERR_ANSWER_LOST', 'no such answer waits for this caller'))
      return
    }
    res.writeHead(answer.status, forwardableHeaders(answer.headers))
    if (answer.head.length > 0) answer.rest.unshift(answer.head)
    pipeline(answer.rest, res, () => undefined) // a failure cuts the answer short: the caller sees it
  }

  private createHttpServer(): Server {
    const server = createServer({
      maxHeaderSize: this.init.maxHeaderBytes,
      requestTimeout: this.init.requestTimeout,
      headersTimeout: Math.min(this.init.requestTimeout, 60_000),
      keepAliveTimeout: INBOUND_KEEP_ALIVE_TIMEOUT,
    })
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req.socket, req, res)
    })
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      if (err.code === 'HPE_HEADER_OVERFLOW' && socket.writable) {
        writeRawError(
          socket,
          new PRouterError('ERR_HEADERS_TOO_LARGE', `headers over ${this.init.maxHeaderBytes} bytes`),
        )
      } else socket.destroy()
    })
    return server
  }

  private createH2Server(): Http2Server {
    const h2 = createH2Server({
      settings: {
        enablePush: false,
        maxConcurrentStreams: INBOUND_H2_MAX_CONCURRENT,
        initialWindowSize: H2_STREAM_WINDOW,
        maxHeaderListSize: Math.max(65_535, 2 * this.init.maxHeaderBytes), // the limit itself is checked below
      },
      maxSessionMemory: 16, // MB: room for the windows above
    })
    h2.on('session', (session: Http2Session) => {
      const stream = this.handingOver
      if (stream === undefined) return
      this.h2Streams.set(session, stream)
      session.on('error', () => undefined) // the stream's close ends it; its requests see the failure
      session.setTimeout(INBOUND_KEEP_ALIVE_TIMEOUT, () => {
        session.close()
      })
      session.once('connect', () => {
        session.setLocalWindowSize(H2_SESSION_WINDOW)
      })
    })
    h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const stream = this.h2Streams.get(req.stream.session as Http2Session)
      if (stream === undefined) {
        req.stream.close()
        return
      }
      if (headerBytes(req) > this.init.maxHeaderBytes) {
        const e = new PRouterError('ERR_HEADERS_TOO_LARGE', `headers over ${this.init.maxHeaderBytes} bytes`)
        sendError(res, e)
        return
      }
      this.onRequest(stream, req, res)
    })
    return h2
  }

  /** Hand an accepted stream to the server of the HTTP it speaks. */
  private handOver(stream: net.Socket): void {
    void sniffProtocol(stream).then((protocol) => {
      if (stream.destroyed) return
      if (protocol === 'http1') {
        this.server.emit('connection', stream)
        stream.resume() // the bytes sniffed, then the rest
        return
      }
      this.handingOver = stream
      try {
        this.h2.emit('connection', stream)
      } finally {
        this.handingOver = undefined
      }
    })
  }

  private onRequest(stream: net.Socket, req: InboundRequest, res: HttpResponse): void {
    this.table.requestStarted(stream)
    res.once('close', () => {
      this.table.requestEnded(stream)
    })
    void this.handle(stream, req, res)
  }

  /** One pending STREAM ACCEPT at a time (see docs/decisions.md), the next issued as soon as one lands. */
  private createAcceptLoop(logger: Logger): Loop {
    const { streams } = this.components
    return createLoop(
      {
        name: 'inbound accept',
        run: async (signal) => {
          const session = await streams.whenUp(signal)
          this.onStream(await session.accept({ signal }), this.tokenOf(session))
        },
        every: 0,
        backoff: { min: ACCEPT_RETRY_MIN, max: ACCEPT_RETRY_MAX },
        onError: (err) => {
          // with the session gone, whenUp waits for the next one: nothing to report
          if (streams.isUp) this.log.warn(errorFields(err), 'STREAM ACCEPT failed')
        },
      },
      { logger },
    )
  }

  /** A random token per SAM session: the ping names it, so a caller can tell our router restarted. */
  private tokenOf(session: SamSession): string {
    const token = this.sessionTokens.get(session) ?? randomBytes(SESSION_TOKEN_BYTES).toString('hex')
    this.sessionTokens.set(session, token)
    return token
  }

  private onStream(accepted: AcceptedStream, session: string): void {
    const { stream, peerB32 } = accepted
    this.log.debug({ peerB32, open: this.table.size }, 'stream accepted')
    stream.on('error', () => undefined) // a peer vanishing is not our error; the HTTP server sees the close
    const refused = this.table.admit(stream, peerB32)
    if (refused !== undefined) {
      writeRawError(stream, refused)
      return
    }
    this.streams.add(stream)
    stream.once('close', () => {
      this.streams.delete(stream)
      this.table.remove(stream)
    })
    const caller = this.newStreamCaller(peerB32, session)
    this.callers.set(stream, caller)
    stream.once('close', () => {
      caller.settle(Promise.resolve({ workerKey: undefined, b32: peerB32 })) // closed before any request
    })
    void caller.verdict.then((c) => {
      this.table.identified(stream, c.workerKey === undefined)
    })
    this.components.meter.track(
      stream,
      caller.verdict.then((c) => c.workerKey ?? ANONYMOUS),
    )
    this.handOver(stream)
  }

  private newStreamCaller(b32: string, session: string): StreamCaller {
    let settle: (verdict: Promise<Caller>) => void = () => undefined
    const verdict = new Promise<Caller>((resolve) => {
      settle = resolve // a second call (the close after the first request) changes nothing
    })
    return { b32, session, settled: false, proven: undefined, verdict, at: Date.now(), settle }
  }

  /**
   * The stream's first request decides who is on it: a ping whose proof holds names the key to look up;
   * anything else leaves the stream anonymous for good. Returns the proof's verdict for the pong (`ok` or the
   * refusal's code), undefined after the first request.
   */
  private settleCaller(stream: net.Socket, req: InboundRequest): string | undefined {
    const held = this.callers.get(stream)
    if (held === undefined || held.settled) return undefined
    held.settled = true
    let outcome = 'none'
    if (req.url === PING_PATH && req.headers[PROOF_HEADER] !== undefined) {
      try {
        const expected = { source: held.b32, self: this.init.self.b32, now: Date.now() }
        held.proven = verifyCallerProof(req.headers[PROOF_HEADER], expected).workerKey
        outcome = 'ok'
      } catch (err) {
        if (!isPRouterError(err)) throw err
        outcome = err.code
        this.log.debug({ b32: held.b32, code: err.code }, 'caller proof refused: anonymous')
      }
    }
    held.at = Date.now()
    held.verdict = this.identify(held.b32, held.proven)
    held.settle(held.verdict)
    return outcome
  }

  /**
   * Who is on this stream: decided at its first request and, for a proven key, looked up again on a request
   * once the verdict is older than the registry's cache TTL, so a kept-alive stream follows the caller's
   * binding (a worker that moved away from this destination, or whose binding showed up meanwhile).
   */
  private callerOf(socket: net.Socket): Promise<Caller> {
    const held = this.callers.get(socket)
    if (held === undefined) return Promise.resolve({ workerKey: undefined, b32: 'unknown' })
    if (held.proven === undefined || Date.now() - held.at < CALLER_RECHECK_INTERVAL) return held.verdict
    held.at = Date.now()
    held.verdict = this.identify(held.b32, held.proven)
    void held.verdict.then((c) => {
      this.components.meter.reassign(socket, c.workerKey ?? ANONYMOUS) // a caller that moved or registered
      this.table.identified(socket, c.workerKey === undefined)
    })
    return held.verdict
  }

  /** `proven` is the caller if its newest valid binding names `b32` (a forward lookup); else anonymous. */
  private async identify(b32: string, proven: string | undefined): Promise<Caller> {
    const anonymous = { workerKey: undefined, b32 }
    if (proven === undefined) return anonymous
    try {
      const binding = await this.components.registry.resolve(proven)
      if (binding.endpoints.map(parseI2pEndpoint).includes(b32)) return { workerKey: proven, b32 }
      this.log.debug(
        { b32, proven, code: 'ERR_CALLER_NOT_BOUND' },
        'caller binding names elsewhere: anonymous',
      )
    } catch (err) {
      if (!isPRouterError(err, 'ERR_REGISTRY_NOT_FOUND')) {
        // code and message only: an error's cause may hold the registry's URL, with its API key
        this.log.warn({ ...errorFields(err), b32 }, 'caller lookup failed: anonymous')
      }
    }
    return anonymous
  }

  private async handle(stream: net.Socket, req: InboundRequest, res: HttpResponse): Promise<void> {
    const proof = this.settleCaller(stream, req)
    if (req.url === PING_PATH) {
      this.pong(res, proof, this.callers.get(stream)?.session) // passes no policy, so it does not wait for the caller lookup (the handshake's path)
      return
    }
    const caller = await this.callerOf(stream)
    if (req.url?.startsWith(ANSWER_PATH) === true) {
      this.fetchParked(req, res, caller)
      return
    }
    const started = performance.now()
    try {
      const target = this.admit(req.url ?? '/', caller)
      await relay({
        req,
        res,
        limits: this.init,
        classify: (err) => Promise.resolve(serviceError(err, this.service)),
        open: () =>
          fromClientRequest(this.openServiceRequest(req.method ?? 'GET', req.headers, caller, target)),
        onEnd: ({ status, error }) => {
          this.recordPeer(caller, status, started, error?.code)
        },
      })
    } catch (err) {
      const retryAfter = err instanceof PRouterError ? err.detail?.retryAfterSeconds : undefined
      sendError(res, err, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {})
      this.recordPeer(
        caller,
        res.statusCode,
        started,
        err instanceof PRouterError ? err.code : 'ERR_INTERNAL',
      )
    }
  }

  /** The checks, in order; returns the service path to call. */
  private admit(url: string, caller: Caller): string {
    if (caller.workerKey === undefined && !this.init.allowAnonymous) {
      throw new PRouterError('ERR_ANONYMOUS_REFUSED', 'this worker serves registered workers only')
    }
    if (this.init.allowPaths !== undefined) refuseAmbiguous(url)
    const { pathname, search } = normalizeTarget(url)
    if (!this.allowed(pathname)) {
      throw new PRouterError('ERR_PATH_NOT_ALLOWED', `${pathname} is not served to other workers`)
    }
    const wait = this.limiter.take(caller.workerKey ?? ANONYMOUS)
    if (wait > 0) {
      throw new PRouterError('ERR_RATE_LIMITED', `rate limit of ${this.init.rateLimit.perSecond}/s reached`, {
        detail: { retryAfterSeconds: Math.ceil(wait / 1000) },
      })
    }
    if (this.service === undefined) throw new PRouterError('ERR_NO_SERVICE', 'no service.url is configured')
    return `${this.service.pathname.replace(/\/$/, '')}${pathname}${search}`
  }

  private openServiceRequest(method: string, headers: IncomingHttpHeaders, caller: Caller, path: string) {
    const service = this.service as URL
    return request({
      agent: this.serviceAgent,
      host: service.hostname,
      port: service.port === '' ? 80 : Number(service.port),
      method,
      path,
      headers: {
        ...forwardableHeaders(headers),
        host: service.host,
        [CALLER_HEADER]: caller.workerKey ?? ANONYMOUS,
        [CALLER_ADDRESS_HEADER]: caller.b32,
      },
    })
  }

  /** `proof`: the verdict on this stream's proof when this ping settled it (handshake.ts), else absent;
   * `session`: the token of the session that accepted the stream. */
  private pong(res: HttpResponse, proof: string | undefined, session: string | undefined): void {
    const { workerKey, b32 } = this.init.self
    const body = JSON.stringify({ workerKey, b32, ...(proof === undefined ? {} : { proof }), session })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  private recordPeer(caller: Caller, status: number, started: number, error?: string): void {
    const ms = performance.now() - started
    this.components.peers.record(caller.workerKey ?? ANONYMOUS, { out: false, status, ms, error })
  }
}

function idleTimeout(ms: number): PRouterError {
  return new PRouterError('ERR_IDLE_TIMEOUT', `the service moved no byte for ${ms} ms`)
}

function serviceError(err: unknown, service: URL | undefined): PRouterError {
  if (err instanceof PRouterError) return err
  if (isTimeoutReason(err))
    return new PRouterError('ERR_REQUEST_TIMEOUT', 'service timed out', { cause: err })
  return new PRouterError('ERR_SERVICE_UNREACHABLE', `service ${service?.origin ?? '(none)'} failed`, {
    cause: err,
  })
}

/** The size of a request's header section as HTTP/1.1 would carry it (what `maxHeaderBytes` bounds). */
function headerBytes(req: Http2ServerRequest): number {
  let n = `${req.method} ${req.url} HTTP/1.1\r\n`.length
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? ''
    if (!name.startsWith(':')) n += name.length + (raw[i + 1] ?? '').length + 4
  }
  return n
}
