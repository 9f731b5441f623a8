/**
 * Fragments -> whole signed messages, per peer (the sender's datagram b32). Memory is reserved for a
 * message's full declared length when its first fragment arrives, and bounded: partial messages per peer,
 * reserved bytes per peer and in all. A fragment that would go past a bound is refused (ERR_MESSAGE_BUSY;
 * the sender retries later); a partial message older than `timeout` is dropped when the peer sends again
 * or at `sweep()`. Nothing here trusts the fragments' content: the whole message is verified afterwards.
 */
import {
  MAX_PARTIAL_BYTES_PER_PEER,
  MAX_PARTIAL_BYTES_TOTAL,
  MAX_PARTIAL_MESSAGES_PER_PEER,
  MESSAGE_FRAGMENT_BYTES,
  PARTIAL_MESSAGE_TIMEOUT,
} from '../constants.js'
import { PRouterError } from '../errors.js'
import type { DataFrame } from './frames.js'

export interface ReassemblyLimits {
  perPeer?: number
  bytesPerPeer?: number
  bytesTotal?: number
  timeout?: number
}

export interface Reassembly {
  /** The whole message once its last missing fragment is in; undefined until then. */
  add(peer: string, frame: DataFrame, now: number): Buffer | undefined
  /** Drop partial messages older than the timeout. */
  sweep(now: number): void
  /** Bytes reserved by partial messages. */
  readonly bytes: number
}

interface Partial {
  readonly buffer: Buffer
  readonly have: boolean[]
  missing: number
  readonly started: number
}

export function createReassembly(limits: ReassemblyLimits = {}): Reassembly {
  const perPeer = limits.perPeer ?? MAX_PARTIAL_MESSAGES_PER_PEER
  const bytesPerPeer = limits.bytesPerPeer ?? MAX_PARTIAL_BYTES_PER_PEER
  const bytesTotal = limits.bytesTotal ?? MAX_PARTIAL_BYTES_TOTAL
  const timeout = limits.timeout ?? PARTIAL_MESSAGE_TIMEOUT
  const peers = new Map<string, Map<string, Partial>>()
  let total = 0

  function reserved(partials: Map<string, Partial>): number {
    let sum = 0
    for (const p of partials.values()) sum += p.buffer.length
    return sum
  }

  function drop(peer: string, partials: Map<string, Partial>, id: string): void {
    const p = partials.get(id)
    if (p === undefined) return
    total -= p.buffer.length
    partials.delete(id)
    if (partials.size === 0) peers.delete(peer)
  }

  function sweepPeer(peer: string, partials: Map<string, Partial>, now: number): void {
    for (const [id, p] of partials) if (now - p.started > timeout) drop(peer, partials, id)
  }

  function start(peer: string, partials: Map<string, Partial>, frame: DataFrame, now: number): Partial {
    sweepPeer(peer, partials, now)
    if (partials.size >= perPeer) throw busy(`${partials.size} partial messages from ${peer}`)
    if (reserved(partials) + frame.total > bytesPerPeer) throw busy(`partial bytes from ${peer}`)
    if (total + frame.total > bytesTotal) throw busy('partial bytes from all peers')
    const p = {
      buffer: Buffer.alloc(frame.total),
      have: new Array<boolean>(frame.count).fill(false),
      missing: frame.count,
      started: now,
    }
    partials.set(frame.id, p)
    peers.set(peer, partials)
    total += frame.total
    return p
  }

  function add(peer: string, frame: DataFrame, now: number): Buffer | undefined {
    if (frame.count === 1) return frame.bytes
    const partials = peers.get(peer) ?? new Map<string, Partial>()
    const p = partials.get(frame.id) ?? start(peer, partials, frame, now)
    if (p.buffer.length !== frame.total || p.have.length !== frame.count) {
      throw new PRouterError('ERR_MESSAGE_MALFORMED', `fragments of ${frame.id} disagree on its length`)
    }
    if (p.have[frame.index] === true) return undefined
    frame.bytes.copy(p.buffer, frame.index * MESSAGE_FRAGMENT_BYTES)
    p.have[frame.index] = true
    if (--p.missing > 0) return undefined
    drop(peer, partials, frame.id)
    return p.buffer
  }

  return {
    add,
    sweep: (now) => {
      for (const [peer, partials] of peers) sweepPeer(peer, partials, now)
    },
    get bytes() {
      return total
    },
  }
}

function busy(why: string): PRouterError {
  return new PRouterError('ERR_MESSAGE_BUSY', `reassembly full: ${why}`)
}
