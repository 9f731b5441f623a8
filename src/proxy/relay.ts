/**
 * One HTTP exchange relayed from an incoming request to an upstream (a worker over I2P, or the local
 * service): headers, then both bodies streamed with backpressure, under a byte cap per body, an idle timeout
 * (no byte either way) and a total timeout. Whatever fails, the client gets `{ code, message }` if nothing was
 * sent yet, or a cut-short response otherwise — never a hang.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { pipeline, type Readable } from 'node:stream'
import { PRouterError } from '../errors.js'
import { forwardableHeaders } from './headers.js'
import { bodyTooLarge, byteLimit } from './limits.js'
import { sendError, type HttpResponse } from './http-error.js'
import type { Upstream, UpstreamResponse } from './upstream.js'
import { pipeKnownLength } from './known-length.js'

export interface RelayLimits {
  maxBodyBytes: number
  idleTimeout: number
  requestTimeout: number
}

/** An incoming request, over HTTP/1.1 or HTTP/2: its head and its body. */
export interface RelayRequest extends Readable {
  headers: IncomingHttpHeaders
}

export interface RelaySpec {
  req: RelayRequest
  res: HttpResponse
  limits: RelayLimits
  /** Start the upstream request (its headers already filtered and completed by the caller). */
  open: () => Upstream | Promise<Upstream>
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

/**
 * A request body of a known length up to this is read whole and sent with its head in one write: over HTTP/2
 * on I2P a frame written on its own a tick after another waits out i2pd's send timer (~11 ms) before it leaves.
 * (An answer of known length is relayed with its end on its last bytes: known-length.ts.)
 */
const COALESCE_BYTES = 64 * 1024

/** Relay one exchange; resolves when it has ended (never rejects). */
export function relay(spec: RelaySpec): Promise<void> {
  return new Promise((resolve) => {
    new Exchange(spec, resolve).start()
  })
}

/** Bodies without a length or chunks: safe to send again on a fresh stream if a reused one was dead. */
export function isBodyless(req: RelayRequest): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')
}

class Exchange {
  private upstream: Upstream | undefined
  /** A small request body read whole before the request is sent (see COALESCE_BYTES). */
  private body: Buffer | undefined
  private responded = false
  private ended = false
  /** A failure is being answered (classify is async): no retry, and a client close is not the outcome. */
  private failing = false
  private retried = false
  private readonly total: NodeJS.Timeout
  private stall: NodeJS.Timeout | undefined
  /** Quiet since: the stream assigned, the request body's last bytes moved, or the last stall reported. */
  private quietSince = 0
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
    if (declared === 0 || declared > COALESCE_BYTES) {
      this.send()
      return
    }
    readWhole(req, declared).then(
      (body) => {
        this.body = body
        this.send()
      },
      (err: unknown) => {
        this.fail(err)
      },
    )
  }

  private send(): void {
    Promise.resolve()
      .then(() => this.spec.open())
      .then(
        (upstream) => {
          this.use(upstream)
        },
        (err: unknown) => {
          this.fail(err) // no connection to the upstream (e.g. the worker is unreachable)
        },
      )
  }

  private use(upstream: Upstream): void {
    if (this.ended || this.failing) {
      upstream.destroy() // the exchange ended while the connection was being found
      return
    }
    this.upstream = upstream
    upstream.setIdleTimeout(this.spec.limits.idleTimeout, () => {
      const ms = this.spec.limits.idleTimeout
      this.fail(new PRouterError('ERR_IDLE_TIMEOUT', `no byte moved for ${ms} ms`))
    })
    upstream.response.then(
      (response) => {
        if (upstream === this.upstream) this.onResponse(response)
      },
      (err: unknown) => {
        if (upstream === this.upstream) this.onUpstreamError(upstream, err)
      },
    )
    void upstream.assigned.then(() => {
      this.watchStall()
    })
    this.sendBody(upstream)
  }

  /**
   * Once the request has its stream, report when `stall.after` ms passed without an answer and without a byte
   * of the request's body taken by the stream: an upload that moves is no sign of a lost worker (a large body
   * at i2pd's pace takes minutes before its answer can start), one that stopped moving is.
   */
  private watchStall(): void {
    const { stall } = this.spec
    if (stall === undefined || this.stall !== undefined) return
    this.moved()
    this.stall = setInterval(
      () => {
        if (this.responded || this.ended || this.failing) return
        if (performance.now() - this.quietSince < stall.after) return
        this.moved()
        stall.onStall()
      },
      Math.max(1, stall.after / 4),
    )
  }

  private readonly moved = (): void => {
    this.quietSince = performance.now()
  }

  private sendBody(upstream: Upstream): void {
    const { req, limits } = this.spec
    if (this.body !== undefined) {
      upstream.body.end(this.body) // with the head, in one write
      return
    }
    if (this.retried) {
      upstream.body.end()
      return
    }
    const limit = byteLimit(limits.maxBodyBytes, 'request')
    limit.on('error', (err) => {
      req.unpipe(limit)
      this.refuseBody(err)
    })
    limit.on('data', this.moved)
    limit.once('end', this.moved)
    req.pipe(limit).pipe(upstream.body)
  }

  private onUpstreamError(upstream: Upstream, err: unknown): void {
    const stale = upstream.reused() && !this.responded && isBodyless(this.spec.req)
    if (stale && !this.retried && !this.ended && !this.failing) {
      this.retried = true // a kept-alive stream the peer had closed: once more on a fresh one
      this.send()
      return
    }
    this.fail(err)
  }

  private onResponse(response: UpstreamResponse): void {
    const { res, limits } = this.spec
    this.responded = true
    clearInterval(this.stall)
    const headers = { ...forwardableHeaders(response.headers), ...this.spec.responseHeaders }
    // the head goes out with the body's first bytes (one write: over HTTP/2 a HEADERS frame sent alone would
    // make the DATA after it wait out i2pd's send timer)
    res.statusCode = response.status
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value)
    const declared = Number(response.headers['content-length'] ?? Number.NaN)
    if (Number.isInteger(declared) && declared > 0 && declared <= limits.maxBodyBytes) {
      pipeKnownLength(response.body, res, declared).then(
        () => {
          this.end(response.status)
        },
        (err: unknown) => {
          this.fail(err)
        },
      )
      return
    }
    pipeline(response.body, byteLimit(limits.maxBodyBytes, 'response'), res, (err) => {
      if (err) this.fail(err)
      else this.end(response.status)
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

/** The `length` bytes of `body` (its declared length), or a rejection if it ends short, errs or runs over. */
function readWhole(body: Readable, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    body.on('data', (chunk: Buffer) => {
      size += chunk.length
      chunks.push(chunk)
      if (size > length)
        body.destroy(new PRouterError('ERR_PEER_CLOSED', `a body over its length of ${length}`))
    })
    body.once('end', () => {
      if (size === length) resolve(Buffer.concat(chunks, size))
      else reject(new PRouterError('ERR_PEER_CLOSED', `a body of ${size} bytes, not ${length}`))
    })
    body.once('error', reject)
    body.once('close', () => {
      if (size !== length) reject(new Error('the body was cut short'))
    })
  })
}
