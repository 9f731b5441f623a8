/**
 * Outbound connections to other workers: HTTP/2 with prior knowledge over I2P streams, a few per worker, each
 * carrying many requests at once — so a burst of requests does not open a stream each (new streams are slow
 * to set up through I2P, and a receiving i2pd hands them over one by one).
 *
 * A request goes on the worker's connection with the fewest requests in flight, the one that sent longest ago
 * among equals (i2pd sends on a stream that has rested at once, and waits out its send timer otherwise). The
 * pool grows by one connection at a time while every connection carries `requestsPerStream` or more (or it
 * has fewer than `minStreamsPerPeer`), up to
 * `maxStreamsPerPeer` per worker and `maxStreams` in all; a request never waits for a new connection while
 * another one is open. Connections idle for `idleTimeout` are closed.
 */
import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  ClientSessionRequestOptions,
  OutgoingHttpHeaders,
} from 'node:http2'
import type { Duplex } from 'node:stream'
import { PRouterError } from '../errors.js'

export interface H2PoolInit {
  maxStreams: number
  maxStreamsPerPeer: number
  /** Connections kept to a worker once it has been called (dialled in the background, one at a time). */
  minStreamsPerPeer: number
  /** Requests in flight on every connection of a worker before another connection is opened. */
  requestsPerStream: number
  /** A connection without a request for this long is closed. */
  idleTimeout: number
}

/** A connection ready for requests: the HTTP/2 session and the I2P stream under it. */
export interface Dialled {
  session: ClientHttp2Session
  stream: Duplex
}

export interface H2Pool {
  /**
   * Start a request to `workerKey` on one of its connections (dialling the first one if there is none).
   * `reused`: the connection was not dialled for this request (it may have died while it waited: a request
   * without a body that fails on it before its answer may be sent again, relay.ts).
   */
  request(
    workerKey: string,
    headers: OutgoingHttpHeaders,
    options?: ClientSessionRequestOptions,
  ): Promise<{ stream: ClientHttp2Stream; reused: boolean }>
  /** Connections open now, per worker key. */
  openStreams(): Map<string, number>
  /** Take `workerKey`'s connections out of use (it stopped answering: they may be dead); idle ones close. */
  forget(workerKey: string): void
  /** Destroy `workerKey`'s connections whose I2P stream `isDead` (requests on them fail); returns how many. */
  destroyStreams(workerKey: string, isDead: (stream: Duplex) => boolean): number
  close(): void
}

interface Conn extends Dialled {
  active: number
  served: number
  lastSend: number
  idle: NodeJS.Timeout | undefined
}

export function createH2Pool(init: H2PoolInit, dial: (workerKey: string) => Promise<Dialled>): H2Pool {
  const conns = new Map<string, Conn[]>()
  const dialling = new Map<string, Promise<Conn>>()
  let open = 0 // connections, and dials in flight

  const listOf = (workerKey: string): Conn[] => conns.get(workerKey) ?? []
  const remove = (workerKey: string, conn: Conn): void => {
    const list = listOf(workerKey)
    const i = list.indexOf(conn)
    if (i < 0) return
    list.splice(i, 1)
    if (list.length === 0) conns.delete(workerKey)
    clearTimeout(conn.idle)
    open--
  }
  const armIdle = (workerKey: string, conn: Conn): void => {
    clearTimeout(conn.idle)
    conn.idle =
      conn.active > 0
        ? undefined
        : setTimeout(() => {
            conn.session.close()
            remove(workerKey, conn)
          }, init.idleTimeout).unref()
  }

  const startDial = (workerKey: string): Promise<Conn> => {
    const pending = dialling.get(workerKey)
    if (pending !== undefined) return pending
    open++
    const p = dial(workerKey).then(
      (d) => {
        dialling.delete(workerKey)
        const conn: Conn = { ...d, active: 0, served: 0, lastSend: 0, idle: undefined }
        conns.set(workerKey, [...listOf(workerKey), conn])
        d.session.once('close', () => {
          remove(workerKey, conn)
        })
        d.session.on('error', () => undefined) // its requests see the failure
        armIdle(workerKey, conn)
        if (listOf(workerKey).length < init.minStreamsPerPeer && mayDial(workerKey)) void startDial(workerKey)
        return conn
      },
      (err: unknown) => {
        dialling.delete(workerKey)
        open--
        throw err
      },
    )
    p.catch(() => undefined) // a background dial's failure is the next request's to see
    dialling.set(workerKey, p)
    return p
  }
  const mayDial = (workerKey: string): boolean =>
    !dialling.has(workerKey) && listOf(workerKey).length < init.maxStreamsPerPeer && open < init.maxStreams

  /** The least busy usable connection, the longest rested among equals. */
  const pick = (workerKey: string): Conn | undefined => {
    let best: Conn | undefined
    for (const c of listOf(workerKey)) {
      if (c.session.closed || c.session.destroyed) continue
      if (
        best === undefined ||
        c.active < best.active ||
        (c.active === best.active && c.lastSend < best.lastSend)
      )
        best = c
    }
    return best
  }

  /** A connection for the next request; `fresh` when it was dialled for it (else it may have died unseen). */
  const connFor = async (workerKey: string): Promise<{ conn: Conn; fresh: boolean }> => {
    const best = pick(workerKey)
    const few = listOf(workerKey).length < init.minStreamsPerPeer
    if (best !== undefined && (few || best.active >= init.requestsPerStream) && mayDial(workerKey))
      void startDial(workerKey) // in the background: this request goes on `best`
    if (best !== undefined) return { conn: best, fresh: false }
    if (dialling.has(workerKey) || mayDial(workerKey))
      return { conn: await startDial(workerKey), fresh: true }
    throw new PRouterError('ERR_TOO_MANY_STREAMS', `${init.maxStreams} outbound streams are open already`)
  }

  const startOn = (
    workerKey: string,
    { conn, fresh }: { conn: Conn; fresh: boolean },
    headers: OutgoingHttpHeaders,
    options: ClientSessionRequestOptions = {},
  ) => {
    const stream = conn.session.request(headers, options)
    const reused = !fresh || conn.served > 0
    conn.active++
    conn.served++
    conn.lastSend = performance.now()
    clearTimeout(conn.idle)
    stream.once('close', () => {
      conn.active--
      conn.lastSend = performance.now()
      armIdle(workerKey, conn)
    })
    return { stream, reused }
  }

  return {
    async request(workerKey, headers, options) {
      return startOn(workerKey, await connFor(workerKey), headers, options)
    },
    openStreams() {
      const out = new Map<string, number>()
      for (const [key, list] of conns) out.set(key, list.length)
      return out
    },
    forget(workerKey) {
      for (const c of [...listOf(workerKey)]) {
        remove(workerKey, c)
        if (c.active === 0) c.session.destroy()
        else c.session.close() // no new request on it; those in flight end (or are failed by their owner)
      }
    },
    destroyStreams(workerKey, isDead) {
      let destroyed = 0
      for (const c of [...listOf(workerKey)]) {
        if (!isDead(c.stream)) continue
        c.stream.destroy()
        c.session.destroy()
        remove(workerKey, c)
        destroyed++
      }
      return destroyed
    },
    close() {
      for (const [key, list] of conns) {
        for (const c of [...list]) {
          c.session.destroy()
          remove(key, c)
        }
      }
    },
  }
}
