/**
 * Requests over datagrams, the caller's side: an HTTP request small enough for one datagram is signed by this
 * worker's key (an envelope of kind 'request'), sent to the callee's datagram destination through the pipe
 * to it (link.ts), and answered by one ANSWER frame from that same destination — no stream, so no streaming
 * send timer (docs/decisions.md). Without an answer the same signed bytes go again after the retransmission
 * timeout to the peer, doubling up to `retryMax`; the callee serves an id once and answers a retry from what
 * it kept (receiver.ts), so a lost datagram either way never runs a request twice. It ends with the answer,
 * a refusal (an ACK frame with the callee's code), the caller's signal, or the envelope's time window.
 */
import { backoffDelay } from '../backoff.js'
import {
  DEFAULT_MESSAGE_RETRY_MAX,
  DEFAULT_MESSAGE_RETRY_MIN,
  MESSAGE_FRAGMENT_BYTES,
  MESSAGE_TIME_WINDOW,
} from '../constants.js'
import { isErrorCode, PRouterError } from '../errors.js'
import type { WorkerKeyPair } from '../identity/index.js'
import type { Logger } from '../logger.js'
import { sleep } from '../signals.js'
import { MESSAGE_HEADER_BYTES, newMessageId, signMessage } from './envelope.js'
import { fragment, type AckFrame, type AnswerFrame } from './frames.js'
import type { PeerLink } from './link.js'
import type { OutgoingHttpHeaders } from 'node:http'
import {
  decodeWireAnswer,
  encodeRequest,
  toPairs,
  type WireAnswer,
  type WireRequest,
} from './request-wire.js'

const EMPTY = Buffer.alloc(0)

export interface RequesterInit {
  self: WorkerKeyPair
  retryMin?: number
  retryMax?: number
  window?: number
}

export interface RequesterComponents {
  link: PeerLink
  logger: Logger
  /** Metering, once per answered request (not per retry): its signed bytes out, its answer's bytes in. */
  onExchanged?: (workerKey: string, bytesOut: number, bytesIn: number) => void
}

export interface Requester {
  /** Whether a request with this head and a body of `bodyBytes` fits one datagram (else it goes by stream). */
  fits(head: { method: string; target: string; headers: OutgoingHttpHeaders; bodyBytes: number }): boolean
  /** Whether `workerKey` publishes a datagram destination (false also when its binding cannot be had now). */
  reaches(workerKey: string): Promise<boolean>
  /** The callee's answer; rejects with its refusal code, the signal's reason or ERR_MESSAGE_EXPIRED. */
  request(workerKey: string, request: WireRequest, signal: AbortSignal): Promise<WireAnswer>
  /** An ANSWER, or an ACK refusing a request, from datagram destination `from`; false if no request of ours. */
  onFrame(from: string, frame: AnswerFrame | AckFrame): boolean
}

interface Waiting {
  workerKey: string
  b32: string
  settle: (answer: AnswerFrame | AckFrame) => void
}

export function createRequester(init: RequesterInit, components: RequesterComponents): Requester {
  const retryMin = init.retryMin ?? DEFAULT_MESSAGE_RETRY_MIN
  const retryMax = init.retryMax ?? DEFAULT_MESSAGE_RETRY_MAX
  const window = init.window ?? MESSAGE_TIME_WINDOW
  const { link } = components
  const log = components.logger.child({ component: 'requester' })
  const waiting = new Map<string, Waiting>()

  async function request(workerKey: string, req: WireRequest, signal: AbortSignal): Promise<WireAnswer> {
    const to = workerKey.toLowerCase()
    const b32 = await link.b32Of(to, signal)
    const id = newMessageId()
    const signedAt = Date.now()
    const wire = signMessage(init.self, { receiver: to, payload: encodeRequest(req), id, kind: 'request' })
    const frames = fragment(id, wire)
    let answered: AnswerFrame | AckFrame | undefined
    const arrived = new Promise<void>((resolve) => {
      const settle = (frame: AnswerFrame | AckFrame): void => {
        answered = frame
        resolve()
      }
      waiting.set(id, { workerKey: to, b32, settle })
    })
    try {
      for (let attempt = 0; answered === undefined; attempt++) {
        signal.throwIfAborted()
        if (Date.now() - signedAt >= window) throw expired(id)
        link.send(b32, id, frames).catch((err: unknown) => {
          log.debug({ err, id, attempt }, 'request datagram not sent; will retry')
        })
        const wait = backoffDelay(attempt, Math.min(retryMin, link.timeout(b32) ?? retryMin), retryMax)
        await Promise.race([arrived, sleep(wait, signal).catch(() => undefined)])
      }
    } finally {
      waiting.delete(id)
    }
    if (answered.type === 'ack') throw refused(id, to, answered.code)
    components.onExchanged?.(to, wire.length, answered.bytes.length)
    return decodeWireAnswer(answered.bytes)
  }

  return {
    fits: ({ method, target, headers, bodyBytes }) => {
      if (bodyBytes > MESSAGE_FRAGMENT_BYTES) return false
      const head = encodeRequest({ method, target, headers: toPairs(headers), body: EMPTY })
      return head.length + bodyBytes + MESSAGE_HEADER_BYTES <= MESSAGE_FRAGMENT_BYTES // one DATA frame
    },
    reaches: (workerKey) =>
      link.b32Of(workerKey.toLowerCase()).then(
        () => true,
        () => false,
      ),
    request,
    onFrame(from, frame) {
      const w = waiting.get(frame.id)
      if (w === undefined) return false
      link.heard(from, frame.id)
      if (w.b32 !== from) return true // not from the callee: ignored
      if (frame.type === 'answer' || frame.status === 'refused') w.settle(frame)
      return true
    },
  }
}

function refused(id: string, workerKey: string, code: string): PRouterError {
  const known = isErrorCode(code) ? code : 'ERR_MESSAGE_REFUSED'
  return new PRouterError(known, `request ${id}: ${workerKey} refused it (${code || 'no code'})`, {
    detail: { id, receiverCode: code },
  })
}

function expired(id: string): PRouterError {
  return new PRouterError('ERR_MESSAGE_EXPIRED', `request ${id}: no answer within its time window`, {
    detail: { id },
  })
}
