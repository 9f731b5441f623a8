/**
 * Raw SAM for the bulk benchmark: a client session on one router and a server session on another (the
 * daemons' own routers, with the daemons' tunnel settings), the server serving the bulk wire protocol on
 * every stream it accepts. Streams are opened N at once and warmed by a ping each before anything is timed.
 */
import type { Logger } from '../../src/logger.js'
import { sleep } from '../../src/signals.js'
import {
  createSamSession,
  type SamAddress,
  type SamSession,
  type SamSessionInit,
} from '../../src/sam/index.js'
import { bulkConn, ping, serveBulk, type BulkConn } from './wire.js'

export interface SamPairInit {
  client: SamAddress
  server: SamAddress
  tunnels: NonNullable<SamSessionInit['tunnels']>
  /** Session options besides the tunnels' (the daemons' streaming window). */
  options?: Record<string, string>
  payload: Buffer
}

export interface SamPair {
  /** `n` fresh streams client -> server, each answered one ping. */
  open(n: number): Promise<BulkConn[]>
  /** End streams gracefully (bounded), so the routers see each one closed before the next phase. */
  release(conns: readonly BulkConn[]): Promise<void>
  /** Replace both sessions (after a router restart). */
  renew(): Promise<void>
  close(): Promise<void>
}

const CLOSE_WAIT = 2000

export async function createSamPair(init: SamPairInit, components: { logger: Logger }): Promise<SamPair> {
  let sessions = await start(init, components.logger)
  return {
    open: async (n) => {
      const { client, server } = sessions
      const conns = await Promise.all(
        Array.from({ length: n }, async () => bulkConn(await client.connect(server.destination))),
      )
      await Promise.all(conns.map(ping))
      return conns
    },
    release: async (conns) => {
      await Promise.all(conns.map(({ stream }) => endGracefully(stream)))
    },
    renew: async () => {
      await stop(sessions)
      sessions = await start(init, components.logger)
    },
    close: () => stop(sessions),
  }
}

interface Sessions {
  client: SamSession
  server: SamSession
  accepting: AbortController
}

async function start(init: SamPairInit, logger: Logger): Promise<Sessions> {
  const session = (sam: SamAddress): Promise<SamSession> =>
    createSamSession({ sam, tunnels: init.tunnels, options: init.options ?? {} }, { logger })
  const [client, server] = await Promise.all([session(init.client), session(init.server)])
  const accepting = new AbortController()
  void acceptLoop(server, init.payload, accepting.signal)
  return { client, server, accepting }
}

async function stop(s: Sessions): Promise<void> {
  s.accepting.abort()
  await Promise.all([s.client.close(), s.server.close()])
}

async function acceptLoop(session: SamSession, payload: Buffer, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      serveBulk((await session.accept({ signal })).stream, payload)
    } catch {
      await sleep(200, signal).catch(() => undefined) // e.g. the router restarting; ends on abort
    }
  }
}

function endGracefully(stream: BulkConn['stream']): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy()
    }, CLOSE_WAIT)
    stream.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    stream.resume()
    stream.end()
    if (stream.destroyed) resolve()
  })
}
