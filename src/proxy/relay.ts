/**
 * One HTTP exchange relayed from an incoming request to an upstream (a worker over I2P, or the local
 * service): headers, then both bodies streamed with backpressure, under a byte cap per body, an idle timeout
 * (no byte either way) and a total timeout. Whatever fails, the client gets `{ code, message }` if nothing was
 * sent yet, or a cut-short response otherwise — never a hang.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import { PRouterError } from '../errors.js'
import { forwardableHeaders } from './headers.js'
import { bodyTooLarge, byteLimit } from './limits.js'
import { sendError } from './http-error.js'

export interface RelayLimits {
  maxBodyBytes: number
  idleTimeout: number
  requestTimeout: number
}

export interface RelaySpec {
  req: IncomingMessage
  res: ServerResponse
  limits: RelayLimits
  /** Start the upstream request (its headers already filtered and completed by the caller). */
  open: () => ClientRequest
  /** Turn an upstream failure into the error the client sees. */
  classify: (err: unknown) => Promise<PRouterError>
  /** Response headers added by the relay (none by default). */
  responseHeaders?: OutgoingHttpHeaders
  /** Called once when the exchange ends: the status sent, or the error. */
  onEnd?: (outcome: { status: number; error?: PRouterError }) => void
  /** Aborting it fails the exchange with `signal.reason` (e.g. the stream is known dead). */
  signal?: AbortSignal
  /** `onStall()` every `after` ms, once the request has its stream, until the answer's first byte comes. */
  stall?: { after: number; onStall: () => void }
}

/** Relay one exchange; resolves when it has ended (never rejects). */
export function relay(spec: RelaySpec): Promise<void> {
  return new Promise((resolve) => {
    new Exchange(spec, resolve).start()
  })
}

/** Bodies without a length or chunks: safe to send again on a fresh stream if a reused one was dead. */
export function isBodyless(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')
}

class Exchange {
  private upstream: ClientRequest | undefined
  private responded = false
  private ended = false
  /** A failure is being answered (classify is async): no retry, and a client close is not the outcome. */
  private failing = false
  private retried = false
  private readonly total: NodeJS.Timeout
  private stall: NodeJS.Timeout | undefined
  private readonly onAbort = (): void => {
    this.fail(this.spec.signal?.reason)
  }

  constructor(
    private readonly spec: RelaySpec,
    private readonly done: () => void,
  ) {
    this.total = setTimeout(() => {
      const ms = spec.limits.requestTimeout
      this.fail(new PRouterError('ERR_REQUEST_TIMEOUT', `no complete answer within ${ms} ms`))
    }, spec.limits.requestTimeout)
    spec.signal?.addEventListener('abort', this.onAbort, { once: true })
    spec.res.once('close', () => {
      // an upstream failure also closes `res` (pipeline destroys it), and since Node 24 'close' comes before
      // pipeline's callback: let that callback record the real outcome first
      setImmediate(() => {
        if (!spec.res.writableFinished && !this.failing) this.end(499) // the client went away
      })
    })
  }

  start(): void {
    const { req, limits, signal } = this.spec
    if (signal?.aborted === true) {
      this.onAbort()
      return
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limits.maxBodyBytes) {
      this.refuseBody(bodyTooLarge(limits.maxBodyBytes, 'request'))
      return
    }
    this.send()
  }

  private send(): void {
    const upstream = this.spec.open()
    this.upstream = upstream
    upstream.setTimeout(this.spec.limits.idleTimeout, () => {
      const ms = this.spec.limits.idleTimeout
      this.fail(new PRouterError('ERR_IDLE_TIMEOUT', `no byte moved for ${ms} ms`))
    })
    upstream.on('error', (err) => {
      this.onUpstreamError(upstream, err)
    })
    upstream.on('response', (response) => {
      this.onResponse(response)
    })
    upstream.once('socket', () => {
      this.watchStall()
    })
    this.sendBody(upstream)
  }

  /** Once the request has its stream, report each `stall.after` ms that pass without an answer. */
  private watchStall(): void {
    const { stall } = this.spec
    if (stall === undefined || this.stall !== undefined) return
    this.stall = setInterval(() => {
      if (!this.responded && !this.ended && !this.failing) stall.onStall()
    }, stall.after)
  }

  private sendBody(upstream: ClientRequest): void {
    const { req, limits } = this.spec
    if (this.retried) {
      upstream.end()
      return
    }
    const limit = byteLimit(limits.maxBodyBytes, 'request')
    limit.on('error', (err) => {
      req.unpipe(limit)
      this.refuseBody(err)
    })
    req.pipe(limit).pipe(upstream)
  }

  private onUpstreamError(upstream: ClientRequest, err: unknown): void {
    const stale = upstream.reusedSocket && !this.responded && isBodyless(this.spec.req)
    if (stale && !this.retried && !this.ended && !this.failing) {
      this.retried = true // a kept-alive stream the peer had closed: once more on a fresh one
      this.send()
      return
    }
    this.fail(err)
  }

  private onResponse(response: IncomingMessage): void {
    const { res, limits } = this.spec
    this.responded = true
    clearInterval(this.stall)
    const headers = { ...forwardableHeaders(response.headers), ...this.spec.responseHeaders }
    res.writeHead(response.statusCode ?? 502, headers)
    pipeline(response, byteLimit(limits.maxBodyBytes, 'response'), res, (err) => {
      if (err) this.fail(err)
      else this.end(response.statusCode ?? 502)
    })
  }

  /** The body is over the cap: answer 413 and close the connection (the rest of the body is not read). */
  private refuseBody(err: unknown): void {
    this.upstream?.destroy()
    this.spec.req.resume()
    this.reply(err, { connection: 'close' })
  }

  private fail(err: unknown): void {
    if (this.ended || this.failing) return
    this.failing = true
    this.upstream?.destroy()
    void this.spec.classify(err).then((e) => {
      this.reply(e)
    })
  }

  private reply(err: unknown, headers: Record<string, string> = {}): void {
    if (this.ended) return
    const e =
      err instanceof PRouterError ? err : new PRouterError('ERR_INTERNAL', 'relay failed', { cause: err })
    sendError(this.spec.res, e, headers)
    this.end(this.spec.res.statusCode, e)
  }

  private end(status: number, error?: PRouterError): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.total)
    clearInterval(this.stall)
    this.spec.signal?.removeEventListener('abort', this.onAbort)
    if (status === 499) this.upstream?.destroy()
    this.spec.onEnd?.(error === undefined ? { status } : { status, error })
    this.done()
  }
}
