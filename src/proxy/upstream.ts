/**
 * The far side of one relayed exchange, whatever carries it: an HTTP/1.1 request to the local service
 * (`fromClientRequest`) or an HTTP/2 stream to another worker over I2P (`fromH2Stream`). The relay writes the
 * request body into `body`, then reads the response the upstream hands it.
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders as H2Headers } from 'node:http2'
import type { Readable, Writable } from 'node:stream'

export interface UpstreamResponse {
  status: number
  /** As received: the relay filters them (pseudo-headers and hop-by-hop ones are never passed on). */
  headers: IncomingHttpHeaders
  body: Readable
}

export interface Upstream {
  /** The request body goes here (ended by the relay). */
  readonly body: Writable
  /**
   * After a failure before the answer: the request surely never reached the far side's handler, so a bodyless
   * one may go again on a fresh stream.
   */
  retryable(): boolean
  /** `onIdle()` once no byte has moved for `ms`. */
  setIdleTimeout(ms: number, onIdle: () => void): void
  onResponse(listener: (response: UpstreamResponse) => void): void
  onError(listener: (err: unknown) => void): void
  destroy(): void
}

export function fromClientRequest(req: ClientRequest): Upstream {
  return {
    body: req,
    retryable: () => req.reusedSocket, // a kept-alive connection the server had closed meanwhile
    setIdleTimeout: (ms, onIdle) => {
      req.setTimeout(ms, onIdle)
    },
    onResponse: (listener) => {
      req.on('response', (res: IncomingMessage) => {
        listener({ status: res.statusCode ?? 502, headers: res.headers, body: res })
      })
    },
    onError: (listener) => {
      req.on('error', listener)
    },
    destroy: () => {
      req.destroy()
    },
  }
}

export function fromH2Stream(stream: ClientHttp2Stream): Upstream {
  let answered = false
  stream.once('response', () => (answered = true))
  return {
    body: stream,
    retryable: () => stream.rstCode === constants.NGHTTP2_REFUSED_STREAM, // refused, or past a GOAWAY
    setIdleTimeout: (ms, onIdle) => {
      stream.setTimeout(ms, onIdle)
    },
    onResponse: (listener) => {
      stream.once('response', (headers: H2Headers) => {
        listener({ status: Number(headers[':status'] ?? 502), headers, body: stream })
      })
    },
    onError: (listener) => {
      let reported = false
      const once = (err: unknown): void => {
        if (!reported) listener(err)
        reported = true
      }
      stream.on('error', once)
      // a session that ends with its socket (the router died, the peer closed) closes its streams without an
      // error; past the answer's head the relay's pipeline sees the early close itself
      stream.once('close', () => {
        if (!answered) once(new Error(`HTTP/2 stream closed before its answer (code ${stream.rstCode})`))
      })
    },
    destroy: () => {
      stream.destroy()
    },
  }
}
