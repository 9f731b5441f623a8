/**
 * The way out to each peer: one datagram out at a time. What is queued while one is out waits and leaves
 * with the next, small sends together in one BATCH datagram (frames.ts); sends made in the same turn of the
 * event loop leave together too (the deliveries an answer lets start). The next datagram leaves once the
 * peer answered it (an ACK of a message it carried), or after a hold without an answer (a lost datagram or
 * ACK, or one i2pd left waiting in a tunnel until the next goes through: see docs/messages.md): the smoothed
 * round trip plus 4 times its variation, as TCP's retransmission timer (RFC 6298), within [minHold, maxHold]
 * (an answer that is only late must not cross the next datagram). A send of several frames (the fragments of
 * one large message) leaves as a train, back to back, then counts as one.
 *
 * Why: i2pd (2.56 to 2.59 at least) encrypts a SAM client's datagram on the SAM bridge's thread while the
 * destination's own thread encrypts its answers to incoming datagrams on the same ratchet session. Datagrams
 * that cross make the two threads race, and the peer then can no longer decrypt what the session sends: a
 * burst stalled for minutes (docs/messages.md). A peer that has answered a datagram before it gets the next
 * never has both threads at work; batching keeps the rate up.
 */
import type { DatagramTransport } from './transport.js'
import { encodeBatch, fitsInBatch } from './frames.js'

export interface PipesInit {
  /** How long the next datagram waits for an answer at most (ms), before the round trip is known. */
  hold: number
  /** Bounds of the wait once round trips have been measured: srtt + 4 rttvar. */
  minHold: number
  maxHold: number
}

export interface Pipes {
  /**
   * Send the frames of message `id` to `b32` (its full destination `destination`); resolves once they were
   * handed to the router.
   */
  send(b32: string, destination: string, id: string, frames: readonly Buffer[]): Promise<void>
  /** `b32` acknowledged message `id`: if the datagram out carried it, it is answered. */
  heard(b32: string, id: string): void
  /** How long an answer from `b32` may take (the hold), once a round trip to it was measured. */
  timeout(b32: string): number | undefined
  /** Peers with a datagram out or sends waiting. */
  readonly busy: number
}

interface Unit {
  id: string
  frames: readonly Buffer[]
  done: () => void
  fail: (err: unknown) => void
}

interface Pipe {
  destination: string
  queue: Unit[]
  /** The messages of the datagram out (being sent, or waiting for its answer); empty: none out. */
  out: Set<string>
  timer: NodeJS.Timeout | undefined
  /** A pump is due at the end of this turn of the event loop. */
  due: boolean
  sentAt: number
  /** Smoothed round trip to this peer and its mean deviation (ms), once one was measured. */
  srtt: number | undefined
  rttvar: number
}

const MAX_PIPES = 10_000

export function createPipes(init: PipesInit, transport: DatagramTransport): Pipes {
  const pipes = new Map<string, Pipe>()
  const hold = (p: Pipe): number =>
    p.srtt === undefined ? init.hold : Math.min(init.maxHold, Math.max(init.minHold, p.srtt + 4 * p.rttvar))

  function release(b32: string, pipe: Pipe): void {
    clearTimeout(pipe.timer)
    pipe.timer = undefined
    pipe.out = new Set()
    if (pipe.queue.length > 0) schedule(b32, pipe)
    else if (pipes.size > MAX_PIPES) pipes.delete(b32) // idle: nothing is lost by forgetting it
  }

  /** Pump once this turn's sends are queued, so that they share a datagram. */
  function schedule(b32: string, pipe: Pipe): void {
    if (pipe.due || pipe.out.size > 0) return
    pipe.due = true
    setImmediate(() => {
      pipe.due = false
      pump(b32, pipe)
    })
  }

  function pump(b32: string, pipe: Pipe): void {
    if (pipe.out.size > 0 || pipe.queue.length === 0) return
    const units = take(pipe.queue)
    pipe.out = new Set(units.map((u) => u.id))
    pipe.sentAt = performance.now()
    pipe.timer = setTimeout(() => {
      release(b32, pipe)
    }, hold(pipe))
    void sendUnits(pipe.destination, units)
  }

  async function sendUnits(destination: string, units: Unit[]): Promise<void> {
    const frames = units.flatMap((u) => u.frames)
    try {
      const batch = units.length > 1 ? encodeBatch(frames) : undefined
      if (batch !== undefined) await transport.send(destination, batch)
      else for (const frame of frames) await transport.send(destination, frame)
      for (const u of units) u.done()
    } catch (err) {
      for (const u of units) u.fail(err)
    }
  }

  return {
    send(b32, destination, id, frames) {
      let pipe = pipes.get(b32)
      if (pipe === undefined) {
        pipe = {
          destination,
          queue: [],
          out: new Set(),
          timer: undefined,
          due: false,
          sentAt: 0,
          srtt: undefined,
          rttvar: 0,
        }
        pipes.set(b32, pipe)
      }
      pipe.destination = destination
      const queued = pipe
      return new Promise<void>((resolve, reject) => {
        queued.queue.push({ id, frames, done: resolve, fail: reject })
        schedule(b32, queued)
      })
    },
    heard(b32, id) {
      const pipe = pipes.get(b32)
      if (pipe === undefined || !pipe.out.has(id)) return
      measured(pipe, performance.now() - pipe.sentAt)
      release(b32, pipe)
    },
    timeout(b32) {
      const pipe = pipes.get(b32)
      return pipe?.srtt === undefined ? undefined : hold(pipe)
    },
    get busy() {
      let n = 0
      for (const p of pipes.values()) if (p.out.size > 0 || p.queue.length > 0) n++
      return n
    },
  }
}

/** RFC 6298's estimator: the first sample sets srtt and rttvar = rtt/2, then gains 1/8 and 1/4. */
function measured(pipe: Pipe, rtt: number): void {
  if (pipe.srtt === undefined) {
    pipe.srtt = rtt
    pipe.rttvar = rtt / 2
    return
  }
  pipe.rttvar = 0.75 * pipe.rttvar + 0.25 * Math.abs(pipe.srtt - rtt)
  pipe.srtt = 0.875 * pipe.srtt + 0.125 * rtt
}

/** The next datagram's worth: a train alone, or as many single small frames as fit in one batch. */
function take(queue: Unit[]): Unit[] {
  const first = queue.shift()
  if (first === undefined) return []
  const units = [first]
  if (first.frames.length !== 1) return units
  const frames = [...first.frames]
  while (queue.length > 0) {
    const next = queue[0]
    const frame = next?.frames.length === 1 ? next.frames[0] : undefined
    if (next === undefined || frame === undefined || !fitsInBatch(frames, frame)) break
    frames.push(frame)
    units.push(next)
    queue.shift()
  }
  return units
}
