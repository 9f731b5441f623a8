/**
 * The send side: sign, write to the outbox (`queue`: a message whose sender waits for the receiver's ACK goes
 * out while it is being written), then deliver at least once. A delivery sends the message's fragments to the
 * receiver's datagram destination and waits for its ACK; without one it sends them all
 * again after a backoff (initial, 2·initial, … max), the initial wait being the receiver's retransmission
 * timeout once a round trip to it was measured (pipe.ts: srtt + 4 rttvar, at least 100 ms), `retryMin`
 * before. It ends when the receiver acknowledges (the message leaves the outbox), refuses it for good (it
 * leaves the outbox, the caller gets the receiver's code), or when the message's signing time leaves the
 * receivers' window (it is refused by then anyway: logged, counted, removed). At most `maxInFlight` deliveries
 * run at once; the rest wait, so a burst does not flood the router.
 *
 * Ordered messages (`ordered`) carry their sender's sequence number for the receiver (sequence.ts) and go one
 * at a time per receiver: the next is sent once the one before it was acknowledged, refused or expired, so
 * the receiver's service gets them in order whatever the network reorders or loses.
 */
import { setMaxListeners } from 'node:events'
import {
  DEFAULT_MESSAGE_RETRY_MAX,
  DEFAULT_MESSAGE_RETRY_MIN,
  DEFAULT_MESSAGE_SEND_TIMEOUT,
  MAX_MESSAGE_BYTES,
  MAX_MESSAGES_IN_FLIGHT,
  MESSAGE_TIME_WINDOW,
  SECOND,
} from '../constants.js'
import { backoffDelay } from '../backoff.js'
import { isErrorCode, PRouterError } from '../errors.js'
import { workerKeyHex, type WorkerKeyPair } from '../identity/index.js'
import type { Logger } from '../logger.js'
import { sleep } from '../signals.js'
import { decodeMessage, newMessageId, signMessage } from './envelope.js'
import { fragment, type AckFrame } from './frames.js'
import { createLimiter } from './limiter.js'
import type { PeerLink } from './link.js'
import type { Outbox, OutboxEntry } from './outbox.js'
import type { Sequences } from './sequence.js'

/** Sends of one message without an ACK (about 30 s with the default backoff) before `onStalled`. */
export const STALLED_AFTER_ATTEMPTS = 5
/** …and only when nothing at all came back from that peer for this long (a slow but live peer is no stall). */
export const STALLED_SILENCE = 30 * SECOND

export interface MessageSenderInit {
  self: WorkerKeyPair
  retryMin?: number
  retryMax?: number
  maxInFlight?: number
  /** How long a message is retried: the receivers' time window (default MESSAGE_TIME_WINDOW). */
  window?: number
}

export interface MessageSenderComponents {
  /** The way to the receivers (shared with requests over datagrams). */
  link: PeerLink
  outbox: Outbox
  /** Numbers for ordered messages; without it, ordered sends fail with ERR_MESSAGE_SEQUENCE. */
  sequences?: Sequences
  logger: Logger
  /** Called once per message when its delivery ends, and per datagram sent (for metering). */
  onSettled?: (receiver: string, outcome: 'delivered' | 'refused' | 'expired', bytes: number) => void
  onSent?: (receiver: string, bytes: number) => void
  /**
   * A delivery went STALLED_AFTER_ATTEMPTS sends without an ACK, and its peer sent no ACK at all for
   * STALLED_SILENCE. i2pd keeps a peer's LeaseSet per local
   * destination until its leases expire (~10 min): a peer that restarted meanwhile is unreachable through it,
   * and only a new session (an empty cache) looks its fresh LeaseSet up. The owner decides whether to renew.
   */
  onStalled?: () => void
}

export interface SendOptions {
  /** Deliver after every earlier ordered message to the same receiver (numbered, one at a time). */
  ordered?: boolean
  /** Resolve only once the receiver acknowledged (default), or once the message is in the outbox. */
  wait?: boolean
  /** How long `wait` waits for the ACK (ERR_MESSAGE_TIMEOUT after it; delivery goes on). */
  timeout?: number
  signal?: AbortSignal
}

export interface SendResult {
  id: string
  status: 'delivered' | 'queued'
  /** Sends of the whole message it took (1: no retry), when delivered. */
  attempts?: number
}

export interface MessageSender {
  /** Open the outbox and resume the deliveries left in it. */
  start(): Promise<void>
  send(receiver: string, payload: Buffer, options?: SendOptions): Promise<SendResult>
  /** An ACK arrived from datagram destination `from`. */
  onAck(from: string, ack: AckFrame): void
  /** Stop delivering; resolves once the outbox writes and removals under way have ended. */
  stop(): Promise<void>
  readonly pending: number
}

/** A place in a receiver's lane of ordered deliveries: filled with the delivery, or given up. */
type Place = (d: Delivery | undefined) => void

interface Delivery {
  readonly entry: OutboxEntry
  /** Resolves once the entry is durable in the outbox; rejects if writing it failed. */
  readonly stored: Promise<void>
  readonly deadline: number
  readonly done: Promise<number>
  settle(err: PRouterError | undefined): void
  receiverB32?: string
  attempts: number
  settled: boolean
}

export function createMessageSender(
  init: MessageSenderInit,
  components: MessageSenderComponents,
): MessageSender {
  const selfKey = workerKeyHex(init.self.publicKey)
  const retryMin = init.retryMin ?? DEFAULT_MESSAGE_RETRY_MIN
  const retryMax = init.retryMax ?? DEFAULT_MESSAGE_RETRY_MAX
  const window = init.window ?? MESSAGE_TIME_WINDOW
  const limiter = createLimiter(init.maxInFlight ?? MAX_MESSAGES_IN_FLIGHT)
  const lifetime = new AbortController()
  setMaxListeners(0, lifetime.signal) // every waiting delivery links to it
  const deliveries = new Map<string, Delivery>()
  const { link, outbox, logger } = components
  const log = logger.child({ component: 'message-sender' })
  /** Outbox writes and removals under way: stop() waits for them, so none outlives the sender. */
  const diskWork = new Set<Promise<unknown>>()
  const onDisk = <T>(work: Promise<T>): Promise<T> => {
    const settled = work.then(
      () => undefined,
      () => undefined,
    )
    diskWork.add(settled)
    void settled.then(() => diskWork.delete(settled))
    return work
  }

  /** Per receiver, the last place taken for an ordered delivery: the next one starts when it ends. */
  const lanes = new Map<string, Promise<void>>()
  /**
   * The next place in `receiver`'s lane, taken when a message gets its number (so in number order, whatever
   * order the outbox writes end in): the function returned starts the delivery there, or, given undefined,
   * gives the place up (the message was never queued).
   */
  function takePlace(receiver: string): Place {
    let fill: Place = () => undefined
    const filled = new Promise<Delivery | undefined>((resolve) => {
      fill = resolve
    })
    const mine = (lanes.get(receiver) ?? Promise.resolve()).then(async () => {
      const d = await filled
      if (d !== undefined) await run(d)
    })
    lanes.set(receiver, mine)
    void mine.then(() => {
      if (lanes.get(receiver) === mine) lanes.delete(receiver)
    })
    return fill
  }

  /** Deliver `entry`: at once, or at `place` in its receiver's lane when ordered. */
  function track(entry: OutboxEntry, stored: Promise<void> = Promise.resolve(), place?: Place): Delivery {
    let settle: (err: PRouterError | undefined) => void = () => undefined
    const done = new Promise<number>((resolve, reject) => {
      settle = (err) => {
        if (d.settled) return
        d.settled = true
        if (err === undefined) resolve(d.attempts)
        else reject(err)
      }
    })
    done.catch(() => undefined) // a queued send may never be awaited
    const { time, seq } = decodeMessage(entry.wire)
    const d: Delivery = {
      entry,
      stored,
      deadline: time + window,
      done,
      settle: (err) => {
        settle(err)
      },
      attempts: 0,
      settled: false,
    }
    deliveries.set(entry.id, d)
    if (seq === 0) void run(d)
    else (place ?? takePlace(entry.receiver))(d)
    return d
  }

  async function run(d: Delivery): Promise<void> {
    await limiter.acquire()
    try {
      await deliver(d)
    } finally {
      limiter.release()
      deliveries.delete(d.entry.id)
    }
  }

  async function deliver(d: Delivery): Promise<void> {
    const frames = fragment(d.entry.id, d.entry.wire)
    for (let attempt = 0; !d.settled && !lifetime.signal.aborted; attempt++) {
      if (Date.now() >= d.deadline) {
        finish(d, 'expired', undefined)
        return
      }
      if (attempt >= STALLED_AFTER_ATTEMPTS && silent(d)) components.onStalled?.()
      await transmit(d, frames).catch((err: unknown) => {
        const level = attempt % 10 === 1 ? 'info' : 'debug' // a peer that stays out of reach shows in the log
        log[level]({ err, id: d.entry.id, attempt }, 'message send failed; will retry')
      })
      await Promise.race([
        d.done.catch(() => undefined),
        sleep(backoffDelay(attempt, firstWait(d), retryMax), lifetime.signal).catch(() => undefined),
      ])
    }
  }

  /** The wait before a delivery's first resend: the receiver's retransmission timeout once known (≤ retryMin). */
  const firstWait = (d: Delivery): number => {
    const measured = d.receiverB32 === undefined ? undefined : link.timeout(d.receiverB32)
    return Math.min(retryMin, measured ?? retryMin)
  }

  async function transmit(d: Delivery, frames: Buffer[]): Promise<void> {
    const b32 = d.receiverB32 ?? (await link.b32Of(d.entry.receiver, lifetime.signal))
    d.receiverB32 = b32
    d.attempts++
    await link.send(b32, d.entry.id, frames)
    for (const frame of frames) components.onSent?.(d.entry.receiver, frame.length)
  }

  function finish(
    d: Delivery,
    outcome: 'delivered' | 'refused' | 'expired',
    err: PRouterError | undefined,
  ): void {
    if (d.settled) return
    deliveries.delete(d.entry.id)
    d.settle(err ?? (outcome === 'expired' ? expired(d) : undefined))
    if (outcome !== 'delivered')
      log.warn({ id: d.entry.id, receiver: d.entry.receiver, outcome, err }, 'message not delivered')
    components.onSettled?.(d.entry.receiver, outcome, d.entry.wire.length)
    // after its write, or the file would outlive the message (a write that failed left none)
    void onDisk(
      d.stored
        .then(
          () => outbox.remove(d.entry.id),
          () => undefined,
        )
        .catch((e: unknown) => {
          log.error({ err: e, id: d.entry.id }, 'outbox remove failed')
        }),
    )
  }

  /** When each peer (datagram b32) last answered anything. */
  const heardFrom = new Map<string, number>()
  function silent(d: Delivery): boolean {
    const b32 = d.receiverB32
    return b32 !== undefined && Date.now() - (heardFrom.get(b32) ?? 0) > STALLED_SILENCE
  }

  function onAck(from: string, ack: AckFrame): void {
    if (heardFrom.size > 10_000) heardFrom.clear() // a bound; forgetting only makes a renewal likelier
    heardFrom.set(from, Date.now())
    link.heard(from, ack.id)
    const d = deliveries.get(ack.id)
    if (d === undefined || d.receiverB32 !== from) return // late, or not from the receiver
    if (ack.status === 'delivered') finish(d, 'delivered', undefined)
    else if (ack.status === 'refused') finish(d, 'refused', refused(d, ack.code))
  }

  async function send(receiver: string, payload: Buffer, options: SendOptions = {}): Promise<SendResult> {
    options.signal?.throwIfAborted()
    if (payload.length > MAX_MESSAGE_BYTES) throw tooLarge(payload.length)
    const id = newMessageId()
    const to = receiver.toLowerCase()
    const seq = options.ordered === true ? await sequenceOf(to) : 0
    const place = seq > 0 ? takePlace(to) : undefined
    let d: Delivery
    try {
      const wire = signMessage(init.self, { receiver: to, payload, id, seq })
      d = await queue({ id, receiver: to, created: Date.now(), wire }, options, place)
    } catch (err) {
      place?.(undefined)
      throw err
    }
    if (options.wait === false) return { id, status: 'queued' }
    const attempts = await waitFor(d, options)
    return { id, status: 'delivered', attempts }
  }

  /**
   * Into the outbox and on its way. A queued message goes once it is durable; one whose sender waits for the
   * receiver's ACK goes at once (pRuntime hears 'delivered' only once the receiver acknowledged; a wait that
   * times out first waits for the write, since ERR_MESSAGE_TIMEOUT promises that the delivery goes on).
   */
  async function queue(
    entry: OutboxEntry,
    options: SendOptions,
    place: Place | undefined,
  ): Promise<Delivery> {
    outbox.checkRoom()
    const stored = onDisk(outbox.put(entry))
    if (options.wait === false) await stored
    else stored.catch(() => undefined) // a failed write is answered by waitFor
    return track(entry, stored, place)
  }

  function sequenceOf(receiver: string): Promise<number> {
    if (components.sequences === undefined) {
      throw new PRouterError('ERR_MESSAGE_SEQUENCE', 'this sender keeps no sequence numbers')
    }
    return components.sequences.take(receiver)
  }

  async function waitFor(d: Delivery, options: SendOptions): Promise<number> {
    const timeout = options.timeout ?? DEFAULT_MESSAGE_SEND_TIMEOUT
    const timer = AbortSignal.timeout(timeout)
    const signal = options.signal === undefined ? timer : AbortSignal.any([timer, options.signal])
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener(
        'abort',
        () => {
          if (!timer.aborted) reject(signal.reason as Error)
          else
            d.stored.then(() => {
              reject(ackTimeout(d, timeout))
            }, reject)
        },
        { once: true },
      )
    })
    return Promise.race([d.done, aborted])
  }

  return {
    async start() {
      // ordered ones last and by number, so each receiver's lane forms in their order
      const entries = (await outbox.open()).map((entry) => ({ entry, seq: decodeMessage(entry.wire).seq }))
      entries.sort((a, b) => a.seq - b.seq)
      for (const { entry } of entries) track(entry)
      log.info({ pending: deliveries.size, self: selfKey }, 'message sender started')
    },
    send,
    onAck,
    async stop() {
      lifetime.abort()
      await Promise.all(diskWork)
    },
    get pending() {
      return deliveries.size
    },
  }
}

function refused(d: Delivery, code: string): PRouterError {
  const known = isErrorCode(code) ? code : 'ERR_MESSAGE_REFUSED'
  return new PRouterError(
    known,
    `message ${d.entry.id}: ${d.entry.receiver} refused it (${code || 'no code'})`,
    {
      detail: { id: d.entry.id, receiverCode: code },
    },
  )
}

function expired(d: Delivery): PRouterError {
  return new PRouterError(
    'ERR_MESSAGE_EXPIRED',
    `message ${d.entry.id}: no acknowledgement within its time window`,
    {
      detail: { id: d.entry.id, attempts: d.attempts },
    },
  )
}

function ackTimeout(d: Delivery, timeout: number): PRouterError {
  return new PRouterError(
    'ERR_MESSAGE_TIMEOUT',
    `message ${d.entry.id}: not acknowledged within ${timeout} ms; still being sent`,
    {
      detail: { id: d.entry.id, attempts: d.attempts },
    },
  )
}

function tooLarge(bytes: number): PRouterError {
  return new PRouterError(
    'ERR_MESSAGE_TOO_LARGE',
    `a message payload is at most ${MAX_MESSAGE_BYTES} bytes, got ${bytes}`,
    {
      detail: { bytes, max: MAX_MESSAGE_BYTES },
    },
  )
}
