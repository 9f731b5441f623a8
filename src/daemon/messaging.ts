/**
 * Messages between workers, composed: a SAM DATAGRAM session on the worker's derived datagram destination
 * (kept open: made again whenever its control connection dies, e.g. after a router restart), the sender with
 * its outbox under `<dataDir>/messages/outbox`, the requester (small HTTP requests over datagrams, for the
 * outbound proxy), and the receiver that hands messages to the service and requests to `serve`.
 */
import { join } from 'node:path'
import { MINUTE, SECOND } from '../constants.js'
import { PRouterError } from '../errors.js'
import { DATAGRAM_DESTINATION_LABEL, deriveDestinationKeys, type DestinationKeys } from '../i2p/index.js'
import { parseDatagramEndpoint, type KeyStore } from '../identity/index.js'
import { createLoop } from '../lifecycle.js'
import type { Logger } from '../logger.js'
import { createAnswerCache } from '../messages/answer-cache.js'
import { createPeerLink, type PeerLink } from '../messages/link.js'
import { createMessageReceiver, type MessageReceiverComponents } from '../messages/receiver.js'
import { createRequester, type Requester } from '../messages/requester.js'
import {
  createMessageSender,
  type MessageSender,
  type SendOptions,
  type SendResult,
} from '../messages/sender.js'
import { createOutbox } from '../messages/outbox.js'
import { createReassembly } from '../messages/reassembly.js'
import { createSeenIds } from '../messages/seen-ids.js'
import { createSequences } from '../messages/sequence.js'
import { createServiceDelivery } from '../messages/service-delivery.js'
import type { DatagramTransport, MessagePeers } from '../messages/transport.js'
import { createRateLimiter } from '../proxy/limits.js'
import type { Registry } from '../registry/index.js'
import {
  createSamDatagramSession,
  type ReceivedDatagram,
  type SamAddress,
  type SamDatagramSession,
} from '../sam/index.js'
import type { DaemonConfig } from './config-types.js'

export interface MessagingInit {
  config: Readonly<DaemonConfig>
  keys: KeyStore
  sam: () => SamAddress
}

export interface MessagingComponents {
  logger: Logger
  registry: Registry
  /** Metering: a message acknowledged by `peer` / delivered from it (undefined: anonymous), once, its signed bytes. */
  onAcknowledged?: (peer: string, bytes: number) => void
  onReceived?: (peer: string | undefined, bytes: number) => void
  /** Requests over datagrams from other workers: the inbound side's policy and service (Inbound.serve). */
  serve: MessageReceiverComponents['serve']
  /** Metering of requests over datagrams, once each: bytes with `peer` (undefined: anonymous). */
  onRequestBytes?: (peer: string | undefined, bytesIn: number, bytesOut: number) => void
}

export interface Messaging {
  /** The datagram destination's b32 (published in the binding). */
  readonly b32: string
  readonly isUp: boolean
  start(): Promise<void>
  stop(): Promise<void>
  send(workerKey: string, payload: Buffer, options?: SendOptions): Promise<SendResult>
  /** Small HTTP requests to other workers over datagrams. */
  readonly requests: Requester
  readonly pending: number
}

export function createMessaging(init: MessagingInit, components: MessagingComponents): Messaging {
  const log = components.logger.child({ component: 'messaging' })
  const keys = deriveDestinationKeys(init.keys.i2p.privateKey, DATAGRAM_DESTINATION_LABEL)
  const c = init.config
  let session: SamDatagramSession | undefined
  const transport = sessionTransport(() => session)
  const peers = registryPeers(components.registry)
  const lifetime = new AbortController()
  const link = createPeerLink(transport, peers, lifetime.signal)
  let renewedAt = 0
  /** A stalled delivery renews the session, at most once a minute (see MessageSenderComponents.onStalled). */
  const renew = (): void => {
    if (session === undefined || Date.now() - renewedAt < MINUTE) return
    renewedAt = Date.now()
    log.info(
      { b32: session.b32 },
      'a message goes unacknowledged: datagram session renewed (fresh LeaseSets)',
    )
    session.destroy()
  }
  const rate = createRateLimiter(c.messages.rateLimit.perSecond, c.messages.rateLimit.burst)
  const sender = makeSender(init, { ...components, onStalled: renew }, link, log)
  const requests = createRequester(
    { self: init.keys.worker },
    {
      link,
      logger: log,
      onExchanged: (peer, bytesOut, bytesIn) => components.onRequestBytes?.(peer, bytesIn, bytesOut),
    },
  )
  const receiver = createMessageReceiver(
    { self: init.keys.worker.workerKey, allowAnonymous: c.messages.allowAnonymous },
    {
      transport,
      peers,
      seen: createSeenIds(),
      reassembly: createReassembly(),
      deliver: createServiceDelivery({ serviceUrl: c.service.url, path: c.messages.path }),
      serve: components.serve,
      answers: createAnswerCache(),
      onAck: (from, frame) => {
        if (!requests.onFrame(from, frame) && frame.type === 'ack') sender.onAck(from, frame)
      },
      rateLimit: (from) => rate.take(from),
      onDelivered: components.onReceived,
      onServed: (caller, bytesIn, bytesOut) => components.onRequestBytes?.(caller, bytesIn, bytesOut),
      logger: log,
    },
  )
  const keeper = createLoop(
    {
      name: 'datagram session',
      every: SECOND,
      backoff: { min: SECOND, max: MINUTE },
      run: async (signal) => {
        link.forgetDestinations()
        session = await openSession(
          init,
          keys,
          (d) => {
            receiver.onDatagram(d)
          },
          log,
          signal,
        )
        await untilClosed(session, signal)
        session = undefined
      },
    },
    { logger: log },
  )
  return {
    b32: keys.b32,
    get isUp() {
      return session !== undefined
    },
    async start() {
      keeper.start()
      await sender.start()
    },
    async stop() {
      lifetime.abort()
      await sender.stop()
      await keeper.stop()
    },
    requests,
    send: (workerKey, payload, options) =>
      sender.send(workerKey, payload, { timeout: c.messages.sendTimeout, ...options }),
    get pending() {
      return sender.pending
    },
  }
}

function makeSender(
  init: MessagingInit,
  components: MessagingComponents & { onStalled: () => void },
  link: PeerLink,
  log: Logger,
): MessageSender {
  const outbox = createOutbox({ dir: join(init.config.dataDir, 'messages', 'outbox') }, { logger: log })
  const sequences = createSequences({ file: join(init.config.dataDir, 'messages', 'sequence.json') })
  return createMessageSender(
    { self: init.keys.worker },
    {
      link,
      outbox,
      sequences,
      logger: log,
      onStalled: components.onStalled,
      onSettled: (receiver, outcome, bytes) => {
        if (outcome === 'delivered') components.onAcknowledged?.(receiver, bytes)
      },
    },
  )
}

async function openSession(
  init: MessagingInit,
  keys: DestinationKeys,
  onDatagram: (d: ReceivedDatagram) => void,
  log: Logger,
  signal: AbortSignal,
): Promise<SamDatagramSession> {
  const { inbound, outbound } = init.config.tunnels
  const s = await createSamDatagramSession(
    {
      sam: init.sam(),
      destination: keys.privateKey,
      udpPort: init.config.messages.samUdpPort,
      tunnels: { inbound: { ...inbound, lengthVariance: 0 }, outbound: { ...outbound, lengthVariance: 0 } },
    },
    { logger: log, onDatagram },
    { signal },
  )
  log.info({ b32: s.b32 }, 'datagram session up')
  return s
}

function untilClosed(session: SamDatagramSession, signal: AbortSignal): Promise<void> {
  const onAbort = (): void => {
    session.destroy()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  return session.closed.finally(() => {
    signal.removeEventListener('abort', onAbort)
  })
}

function sessionTransport(current: () => SamDatagramSession | undefined): DatagramTransport {
  const up = (): SamDatagramSession => {
    const s = current()
    if (s === undefined) throw new PRouterError('ERR_SAM_SESSION_CLOSED', 'no datagram session (yet)')
    return s
  }
  return {
    send: (destination, bytes) => up().send(destination, bytes),
    lookup: (name, options) => up().lookup(name, options),
  }
}

function registryPeers(registry: Registry): MessagePeers {
  return {
    async datagramB32(workerKey, options) {
      const binding = await registry.resolve(workerKey, options)
      const b32 = binding.endpoints.map(parseDatagramEndpoint).find((a) => a !== undefined)
      if (b32 !== undefined) return b32
      throw new PRouterError('ERR_MESSAGE_NO_ENDPOINT', `${workerKey} publishes no datagram endpoint`)
    },
  }
}
