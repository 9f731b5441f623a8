/**
 * A stream is handed to the pool only once the peer's PRouter has answered on it. i2pd answers
 * `STREAM CONNECT` with `RESULT=OK` before the peer is known to be there (it has only sent the SYN), so a
 * stream to a worker that went away would otherwise take a request and never answer. The handshake is the
 * ping every inbound side answers itself:
 *
 *   -> GET /.prouter/ping HTTP/1.1\r\nhost: <worker>\r\n\r\n
 *   <- HTTP/1.1 200 OK\r\n…content-length: N\r\n\r\n{"workerKey":"0x…","b32":"…"}
 *
 * It costs one round trip per new stream (the SYN's, which the first request would wait for anyway) and
 * checks that the stream reached the worker asked for.
 */
import type { Duplex } from 'node:stream'
import { ERROR_CODES, PRouterError, type ErrorCode } from '../errors.js'

export const PING_PATH = '/.prouter/ping'
const MAX_ANSWER_BYTES = 4096

/** Ping on a fresh stream; resolves once the answer names `workerKey`, rejects otherwise (or on abort). */
export function handshake(
  stream: Duplex,
  workerKey: string,
  host: string,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const done = (err?: unknown): void => {
      stream.off('data', onData)
      stream.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err instanceof Error ? err : new PRouterError('ERR_PEER_CLOSED', 'handshake failed'))
    }
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      let answer: Answer | 'incomplete'
      try {
        answer = parseAnswer(buffered)
      } catch (err) {
        done(err)
        return
      }
      if (answer === 'incomplete') return
      // nothing may follow the answer: the peer speaks only when asked (the stream stays flowing for the
      // HTTP client that takes it over next)
      done(answer.rest.length > 0 ? malformed('bytes after the answer') : checkAnswer(answer, workerKey))
    }
    const onClose = (): void => {
      done(new PRouterError('ERR_PEER_CLOSED', `worker ${workerKey} closed the stream before answering`))
    }
    const onAbort = (): void => {
      done(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    stream.on('data', onData)
    stream.once('close', onClose)
    stream.write(`GET ${PING_PATH} HTTP/1.1\r\nhost: ${host}\r\n\r\n`)
  })
}

interface Answer {
  status: number
  body: Buffer
  rest: Buffer
}

/** A whole HTTP/1.1 answer with a content-length body, or 'incomplete'; throws on anything else. */
export function parseAnswer(bytes: Buffer): Answer | 'incomplete' {
  const end = bytes.indexOf('\r\n\r\n')
  if (end < 0) {
    if (bytes.length > MAX_ANSWER_BYTES) throw malformed('no end of headers')
    return 'incomplete'
  }
  const head = bytes.subarray(0, end).toString('latin1')
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head)?.[1]
  const length = /\r\ncontent-length:\s*(\d{1,4})\s*(\r\n|$)/i.exec(head)?.[1]
  if (status === undefined || length === undefined) throw malformed(head.slice(0, 80))
  const bodyEnd = end + 4 + Number(length)
  if (bytes.length < bodyEnd) return 'incomplete'
  return { status: Number(status), body: bytes.subarray(end + 4, bodyEnd), rest: bytes.subarray(bodyEnd) }
}

function checkAnswer(answer: Answer, workerKey: string): PRouterError | undefined {
  if (answer.status !== 200) return refusal(answer, workerKey)
  let said: unknown
  try {
    said = (JSON.parse(answer.body.toString('utf8')) as { workerKey?: unknown }).workerKey
  } catch {
    return malformed('ping body is not JSON')
  }
  if (said !== workerKey) {
    return new PRouterError(
      'ERR_PEER_CLOSED',
      `the stream to ${workerKey} reached ${String(said).slice(0, 80)}`,
    )
  }
  return undefined
}

/** The peer's own refusal (e.g. its stream limit: 503 ERR_TOO_MANY_STREAMS) passed on with its code. */
function refusal(answer: Answer, workerKey: string): PRouterError {
  let body: { code?: unknown; message?: unknown } = {}
  try {
    body = JSON.parse(answer.body.toString('utf8')) as typeof body
  } catch {
    // not a PRouter error answer: reported below as a failed ping
  }
  const code =
    typeof body.code === 'string' && body.code in ERROR_CODES ? (body.code as ErrorCode) : undefined
  const message = `worker ${workerKey} answered the ping with ${answer.status}`
  if (code === undefined) return new PRouterError('ERR_PEER_CLOSED', message)
  return new PRouterError(code, `${message}: ${typeof body.message === 'string' ? body.message : code}`)
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_PEER_CLOSED', `the peer's ping answer is not PRouter's: ${why}`)
}
