/**
 * Errors as HTTP answers: one table from code to status, one JSON shape `{ code, message }`. Every local
 * API and every inbound answer that PRouter itself makes goes through `sendError`.
 */
import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import { isPRouterError, PRouterError, type ErrorCode } from '../errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_INVALID_WORKER_KEY: 400,
  ERR_API_BAD_REQUEST: 400,
  ERR_INVALID_ARGUMENT: 400,
  ERR_PATH_AMBIGUOUS: 400,
  ERR_API_UNAUTHORIZED: 401,
  ERR_PROXY_AUTH_REQUIRED: 407,
  ERR_PATH_NOT_ALLOWED: 403,
  ERR_ANONYMOUS_REFUSED: 403,
  ERR_REGISTRY_NOT_FOUND: 404,
  ERR_NOT_FOUND: 404,
  ERR_BODY_TOO_LARGE: 413,
  ERR_RATE_LIMITED: 429,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_PEER_CLOSED: 502,
  ERR_SERVICE_UNREACHABLE: 502,
  ERR_ROUTER_UNAVAILABLE: 503,
  ERR_ROUTER_UNRESPONSIVE: 503,
  ERR_TOO_MANY_STREAMS: 503,
  ERR_NO_SERVICE: 503,
  ERR_REGISTRY_UNREACHABLE: 503,
  ERR_EVM_RPC: 503,
  ERR_EVM_TIMEOUT: 503,
  ERR_PEER_UNREACHABLE: 504,
  ERR_REQUEST_TIMEOUT: 504,
  ERR_IDLE_TIMEOUT: 504,
  ERR_PEER_LOST: 504,
  ERR_MESSAGE_TOO_LARGE: 413,
  ERR_MESSAGE_DISABLED: 404,
  ERR_MESSAGE_NO_ENDPOINT: 502,
  ERR_MESSAGE_REJECTED: 502,
  ERR_MESSAGE_REFUSED: 502,
  ERR_MESSAGE_SIGNATURE: 502,
  ERR_MESSAGE_SOURCE: 502,
  ERR_MESSAGE_TIME: 502,
  ERR_MESSAGE_MISADDRESSED: 502,
  ERR_MESSAGE_MALFORMED: 502,
  ERR_MESSAGE_OUTBOX_FULL: 503,
  ERR_MESSAGE_TIMEOUT: 504,
  ERR_MESSAGE_EXPIRED: 504,
  ERR_ANSWER_LOST: 502,
  ERR_ANSWERS_FULL: 503,
}

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500
}

export function toPRouterError(err: unknown): PRouterError {
  if (isPRouterError(err)) return err
  return new PRouterError('ERR_INTERNAL', 'internal error', { cause: err })
}

/** An answer to a client, over HTTP/1.1 or HTTP/2 (the compatibility API). */
export type HttpResponse = ServerResponse | Http2ServerResponse

/** Answer `err` as `{ code, message }` if nothing was sent yet; otherwise cut the response short. */
export function sendError(res: HttpResponse, err: unknown, extraHeaders: Record<string, string> = {}): void {
  const e = toPRouterError(err)
  if (res.headersSent) {
    res.destroy(e)
    return
  }
  const body = JSON.stringify({ code: e.code, message: e.message })
  const extra = { ...extraHeaders }
  if ('stream' in res) delete extra.connection // HTTP/2 has no connection header (RFC 9113 §8.2.2)
  res.writeHead(httpStatusOf(e.code), {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extra,
  })
  res.end(body)
}

/** The same answer written on a raw socket (before or instead of an HTTP server: CONNECT, stream limits). */
export function writeRawError(socket: Duplex, err: unknown, extraHeaders: Record<string, string> = {}): void {
  const e = toPRouterError(err)
  const body = JSON.stringify({ code: e.code, message: e.message })
  const status = httpStatusOf(e.code)
  const extra = Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`)
  socket.end(
    `HTTP/1.1 ${status} ${reason(status)}\r\ncontent-type: application/json\r\n${extra.join('')}` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

function reason(status: number): string {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    407: 'Proxy Authentication Required',
    403: 'Forbidden',
    404: 'Not Found',
    413: 'Content Too Large',
    429: 'Too Many Requests',
    431: 'Request Header Fields Too Large',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  }
  return reasons[status] ?? 'Error'
}
