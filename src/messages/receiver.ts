/**
 * The receive side, one datagram at a time: frames -> whole message (bounded reassembly) -> checks ->
 * de-duplication -> the worker's service -> ACK. Checks, cheap first: the envelope is for this worker,
 * inside the time window, and signed by its sender over its payload (`verifyMessage`); then the datagram
 * came from the destination the sender's own binding publishes (i2pd verified the datagram's signature by
 * that destination), so a message signed by A but sent from elsewhere is refused (ERR_MESSAGE_SOURCE).
 * A sender without a binding is delivered as anonymous only when `allowAnonymous`.
 *
 * ACKs: 'delivered' once the service answered 2xx (and again for every retry of a delivered id);
 * 'busy' when the sender should retry (service down or 5xx, registry unreachable, memory bounds);
 * 'refused' with a code for what a retry cannot fix. Nothing is acknowledged before the service answered.
 *
 * A request over datagrams (envelope kind 'request', request-wire.ts) passes the same checks but the
 * message policy and rate: `serve` runs it through the inbound side's policy (anonymous callers, allowed
 * paths, per-caller rate) to the service, and its answer — whatever the service said, errors included —
 * goes back in an ANSWER frame, kept (answer-cache.ts) for the caller's retries: each id is served once.
 */
import { MESSAGE_LOOKUP_TIMEOUT } from '../constants.js'
import { isPRouterError, PRouterError, type ErrorCode } from '../errors.js'
import type { Logger } from '../logger.js'
import type { AnswerCache } from './answer-cache.js'
import { decodeMessage, MESSAGE_HEADER_BYTES, verifyMessage, type Message } from './envelope.js'
import {
  decodeDatagram,
  encodeAck,
  encodeAnswer,
  encodeBatch,
  fitsInBatch,
  type AckFrame,
  type AnswerFrame,
  type DataFrame,
} from './frames.js'
import { decodeRequest, encodeWireAnswer, type WireAnswer, type WireRequest } from './request-wire.js'
import type { Reassembly } from './reassembly.js'
import type { Admission, SeenIds } from './seen-ids.js'
import type { DatagramTransport, MessagePeers } from './transport.js'

export interface InboundDatagram {
  readonly destination: string
  readonly b32: string
  readonly payload: Buffer
}

export interface MessageReceiverInit {
  /** This worker's key (`0x…`). */
  self: string
  allowAnonymous: boolean
  window?: number
}

export interface MessageReceiverComponents {
  transport: DatagramTransport
  peers: MessagePeers
  seen: SeenIds
  reassembly: Reassembly
  /** Hand the message to the service; resolves on 2xx, rejects with a code otherwise. */
  deliver: (message: Message, caller: string | undefined) => Promise<void>
  /**
   * Serve a request over datagrams (policy, service) and answer it: never rejects (an error is an answer).
   * `caller.workerKey` undefined: anonymous; `caller.b32`: the datagram's source. An answer longer than one
   * frame is held for the caller to fetch over a stream (`parked`).
   */
  serve: (request: WireRequest, caller: { workerKey: string | undefined; b32: string }) => Promise<WireAnswer>
  /** The answers sent, for retries. */
  answers: AnswerCache
  /** ACK and ANSWER frames from `from` (to our messages and requests). */
  onAck: (from: string, frame: AckFrame | AnswerFrame) => void
  /**
   * Take one message from `sender` (a worker key, or `anonymous:<b32>`): 0 when allowed, else the ms until
   * the sender may send again (the message is answered 'busy', ERR_RATE_LIMITED; the sender retries).
   */
  rateLimit?: (sender: string) => number
  logger: Logger
  /** Metering: a message delivered to the service (once per id; its signed bytes), and every refusal by code. */
  onDelivered?: (sender: string | undefined, bytes: number) => void
  onRefused?: (code: ErrorCode) => void
  /** Metering: a request served (once per id), its signed bytes in and its answer's bytes out. */
  onServed?: (caller: string | undefined, bytesIn: number, bytesOut: number) => void
}

export interface MessageReceiver {
  onDatagram(datagram: InboundDatagram): void
}

const MAX_KNOWN_SENDERS = 10_000

/** Retrying may help: the sender gets 'busy' and sends again later. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([
  'ERR_MESSAGE_BUSY',
  'ERR_REGISTRY_UNREACHABLE',
  'ERR_SERVICE_UNREACHABLE',
  'ERR_NO_SERVICE',
  'ERR_REQUEST_TIMEOUT',
  'ERR_MESSAGE_SERVICE_FAILED',
  'ERR_RATE_LIMITED',
])

export function createMessageReceiver(
  init: MessageReceiverInit,
  components: MessageReceiverComponents,
): MessageReceiver {
  const { transport, peers, seen, reassembly, logger } = components
  const log = logger.child({ component: 'message-receiver' })

  /**
   * i2pd drops a datagram to a destination whose LeaseSet it does not hold yet: the first answer to a sender
   * waits for a NAMING LOOKUP of it (which fetches the LeaseSet), once per sender.
   */
  const known = new Map<string, Promise<unknown>>()
  /** The ACKs for one datagram, in one datagram (a BATCH if more than one). */
  function answer(to: InboundDatagram, acks: Buffer[]): void {
    if (acks.length === 0) return
    let ready = known.get(to.b32)
    if (ready === undefined) {
      if (known.size >= MAX_KNOWN_SENDERS) known.clear() // a bound: forgetting costs one more lookup
      ready = transport.lookup(to.b32, { timeout: MESSAGE_LOOKUP_TIMEOUT }).catch(() => known.delete(to.b32))
      known.set(to.b32, ready)
    }
    const datagrams = batches(acks)
    void ready
      .then(async () => {
        for (const datagram of datagrams) await transport.send(to.destination, datagram)
      })
      .catch((err: unknown) => {
        log.debug({ err, from: to.b32 }, 'ack not sent')
      })
  }

  /**
   * One datagram, one answer: every message it completes is checked and delivered, then all their ACKs go back
   * together. So a sender that waits for the answer before its next datagram (pipe.ts) never has one crossing
   * an answer on the way.
   */
  function onDatagram(d: InboundDatagram): void {
    let frames
    try {
      frames = decodeDatagram(d.payload)
    } catch (err) {
      refusedSilently(err, d)
      return
    }
    const acks: Array<Promise<Buffer | undefined>> = []
    for (const frame of frames) {
      if (frame.type === 'data') acks.push(onData(d, frame))
      else components.onAck(d.b32, frame)
    }
    void Promise.all(acks).then((done) => {
      answer(
        d,
        done.filter((a) => a !== undefined),
      )
    })
  }

  /** The ACK for the message this frame completes; undefined while it is incomplete (or a pending retry). */
  async function onData(d: InboundDatagram, frame: DataFrame): Promise<Buffer | undefined> {
    let whole: Buffer | undefined
    try {
      whole = reassembly.add(d.b32, frame, Date.now())
    } catch (err) {
      return answerError(d, frame.id, err)
    }
    return whole === undefined ? undefined : onMessage(d, frame.id, whole)
  }

  async function onMessage(d: InboundDatagram, id: string, wire: Buffer): Promise<Buffer | undefined> {
    try {
      const retry = isRetry(wire)
      if (retry !== undefined) return retry === 'pending' ? undefined : retry
      const message = verifyMessage(wire, { self: init.self, now: Date.now(), window: init.window })
      const isRequest = message.kind === 'request'
      const caller = await callerOf(message, d, isRequest)
      if (isRequest) return await admitAndServe(message, { workerKey: caller, b32: d.b32 })
      withinRate(caller ?? `anonymous:${d.b32}`)
      return await admitAndDeliver(message, caller)
    } catch (err) {
      return answerError(d, id, err)
    }
  }

  /**
   * A retry of an id already admitted costs no signature check: a delivered message is acknowledged again, a
   * served request answered again from the cache; one still pending is dropped (its answer comes when it is
   * done). Ids are admitted only after a full check, so a forgery can make nothing known here. Undefined:
   * no retry.
   */
  function isRetry(wire: Buffer): Buffer | 'pending' | undefined {
    const claimed = decodeMessage(wire)
    const state: Admission | undefined = seen.state(claimed.sender, claimed.id)
    if (state === undefined) return undefined
    if (state === 'pending') return 'pending'
    if (claimed.kind === 'message') return encodeAck(claimed.id, 'delivered')
    return (
      components.answers.get(claimed.sender, claimed.id) ??
      encodeAck(claimed.id, 'refused', 'ERR_ANSWER_LOST')
    )
  }

  /**
   * The sender's key when its binding names this datagram's source; undefined: anonymous (refused here for a
   * message unless `allowAnonymous`; a request's anonymity is the inbound policy's to judge).
   */
  async function callerOf(
    message: Message,
    d: InboundDatagram,
    isRequest: boolean,
  ): Promise<string | undefined> {
    let published: string
    try {
      published = await peers.datagramB32(message.sender)
    } catch (err) {
      if (!isPRouterError(err, 'ERR_REGISTRY_NOT_FOUND') && !isPRouterError(err, 'ERR_MESSAGE_NO_ENDPOINT'))
        throw err
      if (init.allowAnonymous || isRequest) return undefined
      throw new PRouterError('ERR_ANONYMOUS_REFUSED', `message sender ${message.sender} has no binding`)
    }
    if (published !== d.b32) {
      throw new PRouterError(
        'ERR_MESSAGE_SOURCE',
        `message ${message.id} signed by ${message.sender} came from ${d.b32}`,
      )
    }
    return message.sender
  }

  /** Checked after the signature and the source, so nobody can spend another sender's allowance. */
  function withinRate(sender: string): void {
    const wait = components.rateLimit?.(sender) ?? 0
    if (wait > 0) {
      throw new PRouterError('ERR_RATE_LIMITED', `message rate limit reached for ${sender}`, {
        detail: { retryAfterMs: wait },
      })
    }
  }

  async function admitAndDeliver(message: Message, caller: string | undefined): Promise<Buffer | undefined> {
    const state = seen.admit(message.sender, message.id, message.time, Date.now())
    if (state === 'delivered') return encodeAck(message.id, 'delivered')
    if (state !== 'new') return undefined
    try {
      await components.deliver(message, caller)
    } catch (err) {
      seen.forget(message.sender, message.id)
      throw err
    }
    seen.delivered(message.sender, message.id)
    components.onDelivered?.(caller, message.payload.length + MESSAGE_HEADER_BYTES)
    return encodeAck(message.id, 'delivered')
  }

  /** Served once per id: the answer is kept before it is sent, so a retry gets the same one. */
  async function admitAndServe(
    message: Message,
    caller: { workerKey: string | undefined; b32: string },
  ): Promise<Buffer | undefined> {
    const state = seen.admit(message.sender, message.id, message.time, Date.now())
    if (state !== 'new') return undefined // a retry that raced the first copy's checks: answered by it
    let request: WireRequest
    try {
      request = decodeRequest(message.payload)
    } catch (err) {
      seen.forget(message.sender, message.id)
      throw err
    }
    const frame = encodeAnswer(message.id, encodeWireAnswer(await components.serve(request, caller)))
    components.answers.put(message.sender, message.id, frame, Date.now())
    seen.delivered(message.sender, message.id)
    components.onServed?.(caller.workerKey, message.payload.length + MESSAGE_HEADER_BYTES, frame.length)
    return frame
  }

  function answerError(d: InboundDatagram, id: string, err: unknown): Buffer {
    const code: ErrorCode = isPRouterError(err) ? err.code : 'ERR_INTERNAL'
    components.onRefused?.(code)
    if (!isPRouterError(err)) log.error({ err, id }, 'message handling failed')
    else log.debug({ err, id, from: d.b32 }, 'message not delivered')
    return encodeAck(id, TRANSIENT.has(code) ? 'busy' : 'refused', code)
  }

  function refusedSilently(err: unknown, d: InboundDatagram): void {
    components.onRefused?.(isPRouterError(err) ? err.code : 'ERR_INTERNAL')
    log.debug({ err, from: d.b32 }, 'datagram that is no frame dropped')
  }

  return { onDatagram }
}

/** ACK frames cut into as few datagrams as they fit in (a lone frame goes as itself). */
function batches(acks: Buffer[]): Buffer[] {
  const groups: Buffer[][] = []
  for (const a of acks) {
    const last = groups.at(-1)
    if (last !== undefined && fitsInBatch(last, a)) last.push(a)
    else groups.push([a])
  }
  return groups.map((g) => (g.length === 1 ? (g[0] as Buffer) : (encodeBatch(g) as Buffer)))
}
