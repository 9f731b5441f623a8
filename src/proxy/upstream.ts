/**
 * One request to an upstream, whatever carries it: an HTTP/1.1 `ClientRequest` (the worker's own service on
 * loopback) or an HTTP/2 stream (another worker, over an I2P stream shared with other requests: h2-pool.ts).
 * The relay (relay.ts) sees only this.
 */
import type { ClientRequest, IncomingHttpHeaders } from 'node:http'
import type { ClientHttp2Stream, IncomingHttpHeaders as H2Headers } from 'node:http2'
import { Writable, type Readable } from 'node:stream'
import { PRouterError } from '../errors.js'

export interface UpstreamResponse {
  status: number
  /** The response's headers, without HTTP/2 pseudo-headers. */
  headers: IncomingHttpHeaders
  body: Readable
}

export interface Upstream {
  /** Where the request body goes; end() it when there is none. */
  readonly body: Writable
  /** The answer's head; rejects if the exchange fails before it. */
  readonly response: Promise<UpstreamResponse>
  /** Resolves once the request has its connection (a new one dialled, or a pooled one). */
  readonly assigned: Promise<void>
  /** Whether its connection carried a request before (a failure before the answer may mean it had died). */
  reused(): boolean
  /** Fail after `ms` without a byte either way. */
  setIdleTimeout(ms: number, onIdle: () => void): void
  destroy(err?: Error): void
}

export function fromClientRequest(req: ClientRequest): Upstream {
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    req.once('response', (res) => {
      resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res })
    })
    req.on('error', reject) // after the answer, its body's pipeline sees the failure
  })
  response.catch(() => undefined) // a request destroyed before anyone awaits it
  return {
    body: req,
    response,
    assigned: new Promise((resolve) =>
      req.once('socket', () => {
        resolve()
      }),
    ),
    reused: () => req.reusedSocket,
    setIdleTimeout: (ms, onIdle) => req.setTimeout(ms, onIdle),
    destroy: (err) => req.destroy(err),
  }
}

/**
 * `stream`: a request just made on an HTTP/2 session; `reused`: the session had carried requests before;
 * `bodyless`: it was made with `endStream` (its HEADERS frame ends it: no empty DATA frame follows, which i2pd
 * would send one send-timer cycle later), so the body sink only takes the relay's empty body.
 */
export function fromH2Stream(stream: ClientHttp2Stream, reused: boolean, bodyless = false): Upstream {
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    stream.once('response', (headers: H2Headers) => {
      resolve({ status: Number(headers[':status'] ?? 502), headers: withoutPseudo(headers), body: stream })
    })
    stream.on('error', reject)
    stream.once('close', () => {
      // not a PRouterError: the relay's classify() looks whether our router went down first
      reject(new Error(`the HTTP/2 stream closed before an answer (code ${stream.rstCode})`))
    })
  })
  response.catch(() => undefined)
  return {
    body: bodyless ? emptyBody() : stream,
    response,
    assigned: Promise.resolve(),
    reused: () => reused,
    setIdleTimeout: (ms, onIdle) => {
      stream.setTimeout(ms, onIdle)
    },
    destroy: (err) => stream.destroy(err),
  }
}

function withoutPseudo(headers: H2Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':')) out[name] = value
  }
  return out
}

/** The sink of a request sent without a body: takes the end of an empty one; a byte is a bug. */
function emptyBody(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback(new PRouterError('ERR_INTERNAL', 'a body for a request sent without one'))
    },
  })
}
