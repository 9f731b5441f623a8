/**
 * Outbound HTTP/2 sessions, per worker, each over one I2P stream: many requests in flight share a few warm
 * streams instead of each opening its own (a new I2P stream costs a round trip or more, and a receiving i2pd
 * hands new streams over tens of ms apart).
 *
 * The pool adapts per worker. A request goes on the stream that suits it best: rested (nothing in flight and
 * nothing sent for I2PD_SEND_TIMER_REST, so i2pd sends at once rather than after its send timer), else least
 * loaded, then longest rested. Requests in flight together thus spread over a busy worker's streams (large
 * bodies get several streams' worth of i2pd's per-stream throughput). Another stream is opened in the
 * background when a worker's best stream is not rested and it has fewer than H2_ROTATION; a request waits for
 * a new stream only when every stream carries H2_MAX_CONCURRENT_STREAMS. One dial per worker at a time, so a
 * burst of 1,000 requests opens a handful of streams, not 1,000. A bulk transfer (the caller says so) gets a
 * stream with nothing else in flight, opened for it if need be, up to maxStreamsPerPeer: i2pd moves about
 * 0.45 MiB/s per stream (its SAM bridge reads 8 KiB per send-timer cycle), and N streams scale near linearly.
 */
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2'
import type net from 'node:net'
import {
  H2_MAX_CONCURRENT_STREAMS,
  H2_ROTATION,
  H2_SESSION_WINDOW,
  H2_STREAM_WINDOW,
  I2PD_SEND_TIMER_REST,
} from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { errorFields } from '../redact.js'

export interface SessionPoolInit {
  /** I2P streams open at once, all workers together. */
  maxStreams: number
  /** I2P streams open at once to one worker. */
  maxStreamsPerPeer: number
  /** A session with no request for this long is closed (before the peer drops it). */
  idleTimeout: number
}

export interface SessionPoolComponents {
  logger: Logger
  /** A new I2P stream to the worker whose handshake switched it to HTTP/2 (its leftover bytes put back). */
  dial: (workerKey: string) => Promise<net.Socket>
}

export interface SessionPool {
  /**
   * Start a request to `workerKey` on its best session, opening one when it has none that can take it. `alone`
   * (a bulk transfer): a session with nothing else in flight, opened for it if the worker has none and may
   * have more, so parallel transfers get as many streams' worth of i2pd's per-stream throughput.
   */
  request(
    workerKey: string,
    headers: OutgoingHttpHeaders,
    signal?: AbortSignal,
    alone?: boolean,
  ): Promise<ClientHttp2Stream>
  /** Sessions (I2P streams) open now, per worker key. */
  openStreams(): Map<string, number>
  /** Stop using `workerKey`'s sessions: requests in flight finish, new ones get a new stream. */
  forget(workerKey: string): void
  close(): void
}

interface Pooled {
  session: ClientHttp2Session
  active: number
  /** performance.now() of the last request sent on it or answered on it. */
  lastUsed: number
}

interface PeerPool {
  sessions: Pooled[]
  dialing: Promise<void> | undefined
}

export function createSessionPool(init: SessionPoolInit, components: SessionPoolComponents): SessionPool {
  const log = components.logger.child({ component: 'session-pool' })
  const peers = new Map<string, PeerPool>()
  let closed = false

  const total = (): number => {
    let n = 0
    for (const p of peers.values()) n += p.sessions.length + (p.dialing === undefined ? 0 : 1)
    return n
  }
  const peerOf = (workerKey: string): PeerPool => {
    let p = peers.get(workerKey)
    if (p === undefined) peers.set(workerKey, (p = { sessions: [], dialing: undefined }))
    return p
  }
  const canGrow = (p: PeerPool): boolean =>
    p.dialing === undefined && p.sessions.length < init.maxStreamsPerPeer && total() < init.maxStreams

  const remove = (workerKey: string, pooled: Pooled): void => {
    const p = peers.get(workerKey)
    if (p === undefined) return
    p.sessions = p.sessions.filter((s) => s !== pooled)
    if (p.sessions.length === 0 && p.dialing === undefined) peers.delete(workerKey)
  }

  const open = async (workerKey: string): Promise<void> => {
    const socket = await components.dial(workerKey)
    if (closed) {
      socket.destroy()
      throw stopped()
    }
    const pooled = startSession(socket, init.idleTimeout)
    const gone = (): void => {
      remove(workerKey, pooled)
    }
    pooled.session.once('close', gone)
    pooled.session.once('goaway', gone) // the peer takes no new requests on it
    peerOf(workerKey).sessions.push(pooled)
  }

  /** One dial per worker at a time; resolves when it has ended, either way (its error only for `waiting`). */
  const grow = (workerKey: string): Promise<void> => {
    const p = peerOf(workerKey)
    p.dialing ??= open(workerKey).finally(() => {
      p.dialing = undefined
      if (p.sessions.length === 0) peers.delete(workerKey)
    })
    return p.dialing
  }
  const growInBackground = (workerKey: string): void => {
    grow(workerKey).catch((err: unknown) => {
      log.debug({ workerKey, ...errorFields(err) }, 'extra stream not opened')
    })
  }

  const request = async (
    workerKey: string,
    headers: OutgoingHttpHeaders,
    signal?: AbortSignal,
    alone = false,
  ): Promise<ClientHttp2Stream> => {
    for (;;) {
      signal?.throwIfAborted()
      if (closed) throw stopped()
      const p = peerOf(workerKey)
      const now = performance.now()
      const best = pick(p.sessions, now) // one with nothing in flight, if there is one
      const shared = best !== undefined && best.active > 0
      if (alone && shared && (p.dialing !== undefined || canGrow(p))) {
        await abortable(grow(workerKey), signal) // then pick again: another transfer may have taken it
        continue
      }
      if (best !== undefined) {
        if (wantsAnother(p, best, now) && canGrow(p)) growInBackground(workerKey)
        try {
          return send(best, headers)
        } catch (err) {
          // it was closing (a GOAWAY or its socket's end not seen yet): drop it, pick again
          log.debug({ workerKey, ...errorFields(err) }, 'session refused a request')
          remove(workerKey, best)
          best.session.destroy()
        }
        continue
      }
      if (p.dialing === undefined && !canGrow(p)) throw full(workerKey, p.sessions.length, init)
      await abortable(grow(workerKey), signal)
    }
  }

  return {
    request,
    openStreams: () => {
      const out = new Map<string, number>()
      for (const [key, p] of peers) if (p.sessions.length > 0) out.set(key, p.sessions.length)
      return out
    },
    forget: (workerKey) => {
      const p = peers.get(workerKey)
      for (const s of p?.sessions ?? []) s.session.close() // graceful: requests in flight may still finish
      if (p !== undefined) p.sessions = []
    },
    close: () => {
      closed = true
      for (const p of peers.values()) for (const s of p.sessions) s.session.destroy()
      peers.clear()
    },
  }
}

/** HTTP/2 with prior knowledge over the handshaken stream: no push, windows sized for I2P. */
function startSession(socket: net.Socket, idleTimeout: number): Pooled {
  const session = connect('http://worker.prouter', {
    createConnection: () => socket,
    settings: { enablePush: false, initialWindowSize: H2_STREAM_WINDOW },
  })
  const pooled: Pooled = { session, active: 0, lastUsed: performance.now() }
  session.on('error', () => undefined) // each request sees its own stream's error
  session.once('connect', () => {
    session.setLocalWindowSize(H2_SESSION_WINDOW)
  })
  session.setTimeout(idleTimeout, () => {
    if (pooled.active === 0) session.close()
  })
  return pooled
}

/** Nothing in flight and nothing sent for the send timer's length: a request on it leaves at once. */
const rested = (s: Pooled, now: number): boolean => s.active === 0 && now - s.lastUsed >= I2PD_SEND_TIMER_REST

/** Rested first, then least loaded, then longest rested. */
function pick(sessions: readonly Pooled[], now: number): Pooled | undefined {
  let best: Pooled | undefined
  let bestRank: number[] = []
  for (const s of sessions) {
    if (s.active >= H2_MAX_CONCURRENT_STREAMS || s.session.closed || s.session.destroyed) continue
    const rank = [rested(s, now) ? 0 : 1, s.active, s.lastUsed]
    if (best === undefined || lexLess(rank, bestRank)) [best, bestRank] = [s, rank]
  }
  return best
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0)
  return false
}

/** Another stream would serve this worker better: its best one is not rested while few are open. */
function wantsAnother(p: PeerPool, best: Pooled, now: number): boolean {
  return !rested(best, now) && p.sessions.length < H2_ROTATION
}

function send(s: Pooled, headers: OutgoingHttpHeaders): ClientHttp2Stream {
  const stream = s.session.request(headers)
  s.active++
  s.lastUsed = performance.now()
  stream.once('close', () => {
    s.active--
    s.lastUsed = performance.now()
  })
  return stream
}

function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort)
    })
  })
}

function full(workerKey: string, open: number, init: SessionPoolInit): PRouterError {
  return new PRouterError(
    'ERR_TOO_MANY_STREAMS',
    `no outbound stream for ${workerKey}: ${open} open to it (max ${init.maxStreamsPerPeer}), ` +
      `max ${init.maxStreams} in all, each carrying ${H2_MAX_CONCURRENT_STREAMS} requests`,
  )
}

function stopped(): PRouterError {
  return new PRouterError('ERR_DAEMON_STOPPED', 'the outbound pool is closed')
}
