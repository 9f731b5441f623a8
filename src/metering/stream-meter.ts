/**
 * Counting at the stream boundary: every I2P stream of the daemon, in or out, is tracked from the moment it
 * is handed on until it closes; `flush()` (and the stream's close) adds the bytes it moved since the last
 * flush to its peer's counters. A stream whose caller is still being looked up is counted once the lookup
 * answers (nothing is lost; an unknown caller counts as `anonymous`).
 */
import type net from 'node:net'
import { ANONYMOUS_PEER } from './report.js'
import type { PeerMeter } from './peer-meter.js'

export interface StreamMeterComponents {
  peers: PeerMeter
  /** Payload bytes the socket has moved so far (sam/payload-bytes.ts). */
  bytes: (socket: net.Socket) => { read: number; written: number }
}

export interface StreamMeter {
  /** Count `socket` from now on for `peer` (or the peer a pending lookup names). */
  track(socket: net.Socket, peer: string | Promise<string | undefined>): void
  /** The stream's peer changed (a caller re-checked): bytes so far go to the old one. */
  reassign(socket: net.Socket, peer: string): void
  /** Add every open stream's new bytes to its peer. */
  flush(): void
  /** Streams tracked now. */
  readonly open: number
}

interface Tracked {
  peer: string | undefined
  read: number
  written: number
}

export function createStreamMeter(components: StreamMeterComponents): StreamMeter {
  const streams = new Map<net.Socket, Tracked>()
  const settle = (socket: net.Socket, t: Tracked): void => {
    if (t.peer === undefined) return
    const now = components.bytes(socket)
    const bytesIn = now.read - t.read
    const bytesOut = now.written - t.written
    if (bytesIn > 0 || bytesOut > 0) components.peers.addBytes(t.peer, bytesIn, bytesOut)
    t.read = now.read
    t.written = now.written
  }
  const track = (socket: net.Socket, peer: string | Promise<string | undefined>): void => {
    const t: Tracked = { peer: typeof peer === 'string' ? peer : undefined, read: 0, written: 0 }
    streams.set(socket, t)
    let closed = false
    socket.once('close', () => {
      closed = true
      settle(socket, t)
      if (t.peer !== undefined) streams.delete(socket)
    })
    if (typeof peer === 'string') return
    const attribute = (named: string | undefined): void => {
      t.peer ??= named ?? ANONYMOUS_PEER // a reassign meanwhile is newer
      settle(socket, t)
      if (closed) streams.delete(socket)
    }
    peer.then(attribute, () => {
      attribute(undefined) // a failed lookup: anonymous
    })
  }
  return {
    track,
    reassign(socket, peer) {
      const t = streams.get(socket)
      if (t === undefined || t.peer === peer) return
      settle(socket, t)
      t.peer = peer
    },
    flush() {
      for (const [socket, t] of streams) settle(socket, t)
    },
    get open() {
      return streams.size
    },
  }
}
