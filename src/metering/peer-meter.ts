/**
 * Per-peer counters: bytes (counted at the stream boundary by stream-meter.ts), requests, errors and a latency
 * histogram each way, per worker key. Bounded: callers without a valid binding are one row (`anonymous`), and
 * named peers past `maxPeers` share one row (`other`), so nothing is ever dropped and memory and metric labels
 * stay bounded. Counters only grow for the life of the process: reports and plots take differences.
 */
import { DEFAULT_METERING_MAX_PEERS } from '../constants.js'
import { createHistogram, observe, type Histogram } from './histogram.js'
import { ANONYMOUS_PEER, OTHER_PEERS } from './report.js'

export interface PeerCounters {
  /** `0x…` worker key, `anonymous` or `other`. */
  peer: string
  bytesIn: number
  bytesOut: number
  /** Requests this worker served for the peer, and sent to it. */
  requestsIn: number
  requestsOut: number
  /** Messages (docs/messages.md) delivered from the peer, and acknowledged by it; their bytes are in bytesIn/Out. */
  messagesIn: number
  messagesOut: number
  errorsIn: number
  errorsOut: number
  latencyIn: Histogram
  latencyOut: Histogram
  lastStatus: number | undefined
  lastError: string | undefined
  lastMs: number | undefined
  lastSeen: number
}

/** One relayed exchange as the proxy saw it end. */
export interface PeerEvent {
  /** true: this worker called the peer; false: the peer called this worker. */
  out: boolean
  status: number
  ms: number
  error?: string | undefined
}

export interface PeerMeter {
  /** Bytes read from (`bytesIn`) and written to (`bytesOut`) streams with `peer`. */
  addBytes(peer: string, bytesIn: number, bytesOut: number): void
  record(peer: string, event: PeerEvent): void
  /** A message delivered from (`in`) or acknowledged by (`out`) the peer: counted once, its signed bytes. */
  addMessage(peer: string, direction: 'in' | 'out', bytes: number): void
  get(peer: string): PeerCounters | undefined
  all(): PeerCounters[]
}

export function createPeerMeter(init: { maxPeers?: number } = {}): PeerMeter {
  const maxPeers = init.maxPeers ?? DEFAULT_METERING_MAX_PEERS
  const peers = new Map<string, PeerCounters>()
  let named = 0
  const row = (peer: string): PeerCounters => {
    const held = peers.get(peer)
    if (held !== undefined) return held
    const special = peer === ANONYMOUS_PEER || peer === OTHER_PEERS
    if (!special && named >= maxPeers) return row(OTHER_PEERS)
    if (!special) named++
    const fresh = blank(peer)
    peers.set(peer, fresh)
    return fresh
  }
  return {
    addBytes(peer, bytesIn, bytesOut) {
      const p = row(peer)
      p.bytesIn += bytesIn
      p.bytesOut += bytesOut
    },
    record(peer, event) {
      recordEvent(row(peer), event)
    },
    addMessage(peer, direction, bytes) {
      const p = row(peer)
      p.lastSeen = Date.now()
      if (direction === 'in') {
        p.messagesIn++
        p.bytesIn += bytes
      } else {
        p.messagesOut++
        p.bytesOut += bytes
      }
    },
    get: (peer) => peers.get(peer),
    all: () => [...peers.values()],
  }
}

function recordEvent(p: PeerCounters, event: PeerEvent): void {
  const failed = event.error !== undefined
  if (event.out) {
    p.requestsOut++
    if (failed) p.errorsOut++
    observe(p.latencyOut, event.ms)
  } else {
    p.requestsIn++
    if (failed) p.errorsIn++
    observe(p.latencyIn, event.ms)
  }
  p.lastStatus = event.status
  p.lastError = event.error
  p.lastMs = Math.round(event.ms * 10) / 10
  p.lastSeen = Date.now()
}

function blank(peer: string): PeerCounters {
  return {
    peer,
    bytesIn: 0,
    bytesOut: 0,
    requestsIn: 0,
    requestsOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    errorsIn: 0,
    errorsOut: 0,
    latencyIn: createHistogram(),
    latencyOut: createHistogram(),
    lastStatus: undefined,
    lastError: undefined,
    lastMs: undefined,
    lastSeen: 0,
  }
}
