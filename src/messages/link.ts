/**
 * The way to other workers' datagram destinations, shared by messages (sender.ts) and requests
 * (requester.ts): a worker key -> the b32 its binding publishes; a b32 -> its full destination (one NAMING
 * LOOKUP per peer at a time, which also fetches the LeaseSet; the answer is kept); and the pipe to each peer
 * (pipe.ts: one datagram out at a time, what waits batched into the next).
 */
import { MESSAGE_LOOKUP_TIMEOUT, SECOND } from '../constants.js'
import { createPipes, type PipesInit } from './pipe.js'
import type { DatagramTransport, MessagePeers } from './transport.js'

/**
 * How long the next datagram to a peer waits for the answer to the one out (pipe.ts): `hold` until a round
 * trip was measured, then the smoothed round trip plus 4 times its variation, within [minHold, maxHold].
 */
const PIPE_HOLD: PipesInit = { hold: SECOND, minHold: 100, maxHold: 4 * SECOND }

export interface PeerLink {
  /** The b32 of `workerKey`'s datagram destination (from its verified binding). */
  b32Of(workerKey: string, signal?: AbortSignal): Promise<string>
  /** Send the frames of `id` to `b32` through its pipe; resolves once handed to the router. */
  send(b32: string, id: string, frames: readonly Buffer[]): Promise<void>
  /** `b32` answered `id` (an ACK or an ANSWER): frees its pipe if the datagram out carried it. */
  heard(b32: string, id: string): void
  /** The retransmission timeout to `b32`, once a round trip to it was measured. */
  timeout(b32: string): number | undefined
  /** Forget the destinations looked up so far (after a new session: look them up again). */
  forgetDestinations(): void
}

/** `lifetime`: aborting it ends the lookups under way (they are shared by every send to the peer). */
export function createPeerLink(
  transport: DatagramTransport,
  peers: MessagePeers,
  lifetime: AbortSignal,
): PeerLink {
  const pipes = createPipes(PIPE_HOLD, transport)
  const destinations = new Map<string, string>()
  const lookups = new Map<string, Promise<string>>()

  function destinationOf(b32: string): Promise<string> {
    const known = destinations.get(b32)
    if (known !== undefined) return Promise.resolve(known)
    let pending = lookups.get(b32)
    if (pending === undefined) {
      pending = transport.lookup(b32, { signal: lifetime, timeout: MESSAGE_LOOKUP_TIMEOUT })
      lookups.set(b32, pending)
      void pending
        .then(
          (destination) => destinations.set(b32, destination),
          () => undefined,
        )
        .finally(() => lookups.delete(b32))
    }
    return pending
  }

  return {
    b32Of: (workerKey, signal) => peers.datagramB32(workerKey, { signal }),
    async send(b32, id, frames) {
      const destination = await destinationOf(b32)
      await pipes.send(b32, destination, id, frames)
    },
    heard: (b32, id) => {
      pipes.heard(b32, id)
    },
    timeout: (b32) => pipes.timeout(b32),
    forgetDestinations: () => {
      destinations.clear()
    },
  }
}
