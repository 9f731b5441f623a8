/**
 * A stream is handed to the pool only once the peer's PRouter has answered on it. i2pd answers
 * `STREAM CONNECT` with `RESULT=OK` before the peer is known to be there (it has only sent the SYN), so a
 * stream to a worker that went away would otherwise take a request and never answer. The handshake is the
 * ping every inbound side answers itself, and it carries the caller's proof of identity for the stream:
 *
 *   -> GET /.prouter/ping HTTP/1.1\r\nhost: <worker>\r\nx-prouter-proof: <496 hex digits>\r\n\r\n
 *   <- HTTP/1.1 200 OK\r\n…content-length: N\r\n\r\n{"workerKey":"0x…","b32":"…","proof":"ok","session":"<hex>"}
 *
 * The proof (src/identity/caller-proof.ts) is signed by the caller's worker key for its own b32 and the
 * callee's; the callee believes it for this stream only, and only if the stream's source is that b32 and the
 * key's newest binding names it (docs/registry.md, "The caller proof"). `proof` in the answer is the callee's
 * verdict on the proof's bytes (`ok` or the refusal's code; absent from older peers); a refused proof leaves
 * the stream usable, its caller `anonymous`. `session` is a random token of the callee's current SAM session:
 * a worker whose router restarted keeps its address but answers with a new token, which tells the caller that
 * its streams to the old session are dead (i2pd never closes them; see peer-sessions.ts).
 *
 * It costs one round trip per new stream (the SYN's, which the first request would wait for anyway), one
 * sr25519 signature here and one verification there, and checks that the stream reached the worker asked for.
 */
import type { ClientHttp2Session } from 'node:http2'
import type { Duplex } from 'node:stream'
import { ERROR_CODES, PRouterError, type ErrorCode } from '../errors.js'

export const PING_PATH = '/.prouter/ping'
/** The ping's header carrying the caller proof (hex); never forwarded to a service (`x-prouter-*`). */
export const PROOF_HEADER = 'x-prouter-proof'
const MAX_ANSWER_BYTES = 4096

export interface HandshakeInit {
  /** The worker the stream should reach. */
  workerKey: string
  /** The ping's `host`. */
  host: string
  /** The caller proof for this stream (signCallerProof); undefined: the caller stays anonymous. */
  proof: string | undefined
}

export interface HandshakeAnswer {
  /** The callee's verdict on the proof: `ok` or a refusal code; undefined if it said nothing (older peer). */
  proof: string | undefined
  /** The callee's session token (hex); undefined from older peers. */
  session: string | undefined
}

/** What a session token may look like: short hex, nothing a peer could use to bloat our memory. */
const SESSION_TOKEN = /^[0-9a-f]{8,32}$/

/** Ping on a fresh stream; resolves once the answer names `workerKey`, rejects otherwise (or on abort). */
export function handshake(
  stream: Duplex,
  init: HandshakeInit,
  signal: AbortSignal,
): Promise<HandshakeAnswer> {
  const { workerKey } = init
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const done = (outcome: HandshakeAnswer | Error): void => {
      stream.off('data', onData)
      stream.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (outcome instanceof Error) reject(outcome)
      else resolve(outcome)
    }
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      let answer: Answer | 'incomplete'
      try {
        answer = parseAnswer(buffered)
      } catch (err) {
        done(err as Error) // parseAnswer throws PRouterErrors only
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
      const reason: unknown = signal.reason
      done(reason instanceof Error ? reason : new PRouterError('ERR_PEER_CLOSED', 'handshake aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    stream.on('data', onData)
    stream.once('close', onClose)
    stream.write(pingRequest(init))
  })
}

/**
 * The same ping as the first request of an HTTP/2 session over a fresh stream (h2-pool.ts): resolves once
 * the answer names `workerKey`, rejects otherwise (or on abort).
 */
export function handshakeH2(
  session: ClientHttp2Session,
  init: HandshakeInit,
  signal: AbortSignal,
): Promise<HandshakeAnswer> {
  const { workerKey } = init
  return new Promise((resolve, reject) => {
    const proof = init.proof === undefined ? {} : { [PROOF_HEADER]: init.proof }
    const req = session.request(
      { ':method': 'GET', ':path': PING_PATH, ':authority': init.host, ...proof },
      { endStream: true },
    )
    let status = 0
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const done = (outcome: HandshakeAnswer | Error): void => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      if (outcome instanceof Error) {
        req.destroy()
        reject(outcome)
      } else resolve(outcome)
    }
    const onAbort = (): void => {
      const reason: unknown = signal.reason
      done(reason instanceof Error ? reason : new PRouterError('ERR_PEER_CLOSED', 'handshake aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    req.once('response', (headers) => {
      status = Number(headers[':status'])
    })
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_ANSWER_BYTES) done(malformed('answer too long'))
      else chunks.push(chunk)
    })
    req.once('end', () => {
      done(checkAnswer({ status, body: Buffer.concat(chunks), rest: Buffer.alloc(0) }, workerKey))
    })
    req.once('error', (err: Error) => {
      done(new PRouterError('ERR_PEER_CLOSED', `worker ${workerKey}: the ping failed: ${err.message}`))
    })
    req.once('close', () => {
      done(new PRouterError('ERR_PEER_CLOSED', `worker ${workerKey} closed the stream before answering`))
    })
  })
}

/** The ping's bytes. Host and proof come from this daemon (a worker name, hex), never from a client. */
export function pingRequest(init: Pick<HandshakeInit, 'host' | 'proof'>): string {
  const proof = init.proof === undefined ? '' : `${PROOF_HEADER}: ${init.proof}\r\n`
  return `GET ${PING_PATH} HTTP/1.1\r\nhost: ${init.host}\r\n${proof}\r\n`
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

function checkAnswer(answer: Answer, workerKey: string): HandshakeAnswer | PRouterError {
  if (answer.status !== 200) return refusal(answer, workerKey)
  let said: { workerKey?: unknown; proof?: unknown; session?: unknown }
  try {
    said = JSON.parse(answer.body.toString('utf8')) as typeof said
  } catch {
    return malformed('ping body is not JSON')
  }
  if (said.workerKey !== workerKey) {
    return new PRouterError(
      'ERR_PEER_CLOSED',
      `the stream to ${workerKey} reached ${String(said.workerKey).slice(0, 80)}`,
    )
  }
  const proof = said.proof === 'ok' || isErrorCode(said.proof) ? said.proof : undefined
  const session =
    typeof said.session === 'string' && SESSION_TOKEN.test(said.session) ? said.session : undefined
  return { proof, session }
}

/** The peer's own refusal (e.g. its stream limit: 503 ERR_TOO_MANY_STREAMS) passed on with its code. */
function refusal(answer: Answer, workerKey: string): PRouterError {
  let body: { code?: unknown; message?: unknown } = {}
  try {
    body = JSON.parse(answer.body.toString('utf8')) as typeof body
  } catch {
    // not a PRouter error answer: reported below as a failed ping
  }
  const code = isErrorCode(body.code) ? body.code : undefined
  const message = `worker ${workerKey} answered the ping with ${answer.status}`
  if (code === undefined) return new PRouterError('ERR_PEER_CLOSED', message)
  return new PRouterError(code, `${message}: ${typeof body.message === 'string' ? body.message : code}`)
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_PEER_CLOSED', `the peer's ping answer is not PRouter's: ${why}`)
}
