/**
 * Inbound: streams other workers open to this one. Each accepted stream is an HTTP/1.1 connection (kept
 * alive for many requests) fed to a local HTTP server; each request is checked — caller identity, anonymous
 * policy, allowed paths, per-caller rate limit, sizes — and relayed to the worker's own service with headers
 * saying who called. The caller is the worker whose newest valid binding names the stream's source
 * destination (I2P authenticates it); any other caller is `anonymous`.
 */
import {
  createServer,
  request,
  Agent,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type net from 'node:net'
import { DEFAULT_RESOLVE_CACHE_TTL, INBOUND_KEEP_ALIVE_TIMEOUT } from '../constants.js'
import { PRouterError } from '../errors.js'
import { errorFields } from '../redact.js'
import type { Logger } from '../logger.js'
import type { Registry } from '../registry/index.js'
import type { AcceptedStream } from '../sam/index.js'
import { isAborted, isTimeoutReason, sleep } from '../signals.js'
import { createPathFilter, normalizeTarget, type PathFilter } from './allow-paths.js'
import { ANONYMOUS, CALLER_ADDRESS_HEADER, CALLER_HEADER, forwardableHeaders } from './headers.js'
import { sendError, writeRawError } from './http-error.js'
import { createGauge, createRateLimiter, type Gauge, type RateLimiter } from './limits.js'
import { PING_PATH } from './handshake.js'
import type { PeerMeter } from '../metering/peer-meter.js'
import type { StreamMeter } from '../metering/stream-meter.js'
import { relay, type RelayLimits } from './relay.js'
import type { StreamSource } from './stream-source.js'

/** How long a stream's caller verdict holds before the next request re-checks it. */
const CALLER_RECHECK_INTERVAL = DEFAULT_RESOLVE_CACHE_TTL

export interface InboundInit extends RelayLimits {
  /** The local service, `http://host:port[/base]`; undefined: every request is refused (ERR_NO_SERVICE). */
  serviceUrl: string | undefined
  allowAnonymous: boolean
  allowPaths: readonly string[] | undefined
  maxStreams: number
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
  /** `0x…` when the source destination has a valid binding, else undefined (anonymous). */
  workerKey: string | undefined
  b32: string
}

export interface Inbound {
  /** Streams open now. */
  readonly open: number
  start(): void
  stop(): Promise<void>
}

export function createInbound(init: InboundInit, components: InboundComponents): Inbound {
  return new InboundServer(init, components)
}

class InboundServer implements Inbound {
  private readonly log: Logger
  private readonly server: Server
  private readonly streams = new Set<net.Socket>()
  private readonly callers = new WeakMap<net.Socket, { b32: string; verdict: Promise<Caller>; at: number }>()
  private readonly gauge: Gauge
  private readonly limiter: RateLimiter
  private readonly allowed: PathFilter
  private readonly service: URL | undefined
  private readonly serviceAgent = new Agent({ keepAlive: true })
  private readonly lifetime = new AbortController()
  private loop: Promise<void> | undefined

  constructor(
    private readonly init: InboundInit,
    private readonly components: InboundComponents,
  ) {
    this.log = components.logger.child({ component: 'inbound' })
    this.gauge = createGauge(init.maxStreams)
    this.limiter = createRateLimiter(init.rateLimit.perSecond, init.rateLimit.burst)
    this.allowed = createPathFilter(init.allowPaths)
    this.service = init.serviceUrl === undefined ? undefined : new URL(init.serviceUrl)
    this.server = this.createHttpServer()
  }

  get open(): number {
    return this.gauge.value
  }

  start(): void {
    this.loop ??= this.acceptLoop(this.lifetime.signal)
  }

  async stop(): Promise<void> {
    this.lifetime.abort(new PRouterError('ERR_SAM_SESSION_CLOSED', 'inbound stopped'))
    for (const s of this.streams) s.destroy()
    this.server.closeAllConnections()
    this.serviceAgent.destroy()
    await this.loop
  }

  private createHttpServer(): Server {
    const server = createServer({
      maxHeaderSize: this.init.maxHeaderBytes,
      requestTimeout: this.init.requestTimeout,
      headersTimeout: Math.min(this.init.requestTimeout, 60_000),
      keepAliveTimeout: INBOUND_KEEP_ALIVE_TIMEOUT,
    })
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res)
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

  /** One pending STREAM ACCEPT at a time (see docs/decisions.md), the next issued as soon as one lands. */
  private async acceptLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const session = await this.components.streams.whenUp(signal)
        this.onStream(await session.accept({ signal }))
      } catch (err) {
        if (isAborted(signal)) return
        if (!this.components.streams.isUp) continue // whenUp waits for the next session
        this.log.warn({ err }, 'STREAM ACCEPT failed')
        await sleep(200, signal).catch(() => undefined)
      }
    }
  }

  private onStream(accepted: AcceptedStream): void {
    const { stream, peerB32 } = accepted
    this.log.debug({ peerB32, open: this.gauge.value }, 'stream accepted')
    stream.on('error', () => undefined) // a peer vanishing is not our error; the HTTP server sees the close
    if (!this.gauge.tryAcquire()) {
      writeRawError(
        stream,
        new PRouterError('ERR_TOO_MANY_STREAMS', `${this.init.maxStreams} inbound streams are open`),
      )
      return
    }
    this.streams.add(stream)
    stream.once('close', () => {
      this.streams.delete(stream)
      this.gauge.release()
    })
    const verdict = this.identify(peerB32)
    this.callers.set(stream, { b32: peerB32, verdict, at: Date.now() })
    this.components.meter.track(
      stream,
      verdict.then((c) => c.workerKey ?? ANONYMOUS),
    )
    this.server.emit('connection', stream)
  }

  /**
   * Who is on this stream: looked up when it is accepted and again on a request once the verdict is older than
   * the registry's cache TTL, so a kept-alive stream follows the caller's bindings (a worker that moved away
   * from this destination, or one that registered it meanwhile).
   */
  private callerOf(socket: net.Socket): Promise<Caller> {
    const held = this.callers.get(socket)
    if (held === undefined) return Promise.resolve({ workerKey: undefined, b32: 'unknown' })
    if (Date.now() - held.at < CALLER_RECHECK_INTERVAL) return held.verdict
    const fresh = { b32: held.b32, verdict: this.identify(held.b32), at: Date.now() }
    this.callers.set(socket, fresh)
    void fresh.verdict.then((c) => {
      this.components.meter.reassign(socket, c.workerKey ?? ANONYMOUS) // a caller that moved or registered
    })
    return fresh.verdict
  }

  private identify(b32: string): Promise<Caller> {
    return this.components.registry.reverse(b32).then(
      (workerKey) => ({ workerKey, b32 }),
      (err: unknown) => {
        if (!(err instanceof PRouterError) || err.code !== 'ERR_REGISTRY_NOT_FOUND') {
          this.log.warn({ ...errorFields(err), b32 }, 'caller lookup failed: treated as anonymous')
        }
        return { workerKey: undefined, b32 }
      },
    )
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url === PING_PATH) {
      this.pong(res) // passes no policy, so it does not wait for the caller lookup (the handshake's path)
      return
    }
    const caller = await this.callerOf(req.socket)
    const started = performance.now()
    try {
      const target = this.admit(req, caller)
      await relay({
        req,
        res,
        limits: this.init,
        classify: (err) => Promise.resolve(serviceError(err, this.service)),
        open: () => this.openServiceRequest(req, caller, target),
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
  private admit(req: IncomingMessage, caller: Caller): string {
    if (caller.workerKey === undefined && !this.init.allowAnonymous) {
      throw new PRouterError('ERR_ANONYMOUS_REFUSED', 'this worker serves registered workers only')
    }
    const { pathname, search } = normalizeTarget(req.url ?? '/')
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

  private openServiceRequest(req: IncomingMessage, caller: Caller, path: string) {
    const service = this.service as URL
    return request({
      agent: this.serviceAgent,
      host: service.hostname,
      port: service.port === '' ? 80 : Number(service.port),
      method: req.method ?? 'GET',
      path,
      headers: {
        ...forwardableHeaders(req.headers),
        host: service.host,
        [CALLER_HEADER]: caller.workerKey ?? ANONYMOUS,
        [CALLER_ADDRESS_HEADER]: caller.b32,
      },
    })
  }

  private pong(res: ServerResponse): void {
    const body = JSON.stringify({ workerKey: this.init.self.workerKey, b32: this.init.self.b32 })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  private recordPeer(caller: Caller, status: number, started: number, error?: string): void {
    const ms = performance.now() - started
    this.components.peers.record(caller.workerKey ?? ANONYMOUS, { out: false, status, ms, error })
  }
}

function serviceError(err: unknown, service: URL | undefined): PRouterError {
  if (err instanceof PRouterError) return err
  if (isTimeoutReason(err))
    return new PRouterError('ERR_REQUEST_TIMEOUT', 'service timed out', { cause: err })
  return new PRouterError('ERR_SERVICE_UNREACHABLE', `service ${service?.origin ?? '(none)'} failed`, {
    cause: err,
  })
}
