/**
 * Which session of a worker's router each outbound stream reached. A worker whose router was killed and
 * restarted keeps its address, but the streams our i2pd had to its old session are dead, and nothing says so:
 * i2pd neither closes nor resets them, a request on one waits for the idle limit. Every new stream's ping
 * names the session that answered it (a random token per SAM session, handshake.ts); once a stream reaches a
 * worker's new session, its streams to any other session are dead, and `onRestart` names them.
 */
import type { Duplex } from 'node:stream'

export interface PeerSessions {
  /** `stream` reached `workerKey`'s session `token` (undefined: an older peer that does not say). */
  reached(workerKey: string, stream: Duplex, token: string | undefined): void
}

export interface PeerSessionsComponents {
  /** `workerKey`'s router has a new session: destroy its streams for which `isDead` holds. */
  onRestart(workerKey: string, isDead: (stream: Duplex) => boolean): void
}

export function createPeerSessions(components: PeerSessionsComponents): PeerSessions {
  const tokenOf = new WeakMap<Duplex, string>()
  const newest = new Map<string, string>()
  return {
    reached(workerKey, stream, token) {
      if (token === undefined) return
      tokenOf.set(stream, token)
      const before = newest.get(workerKey)
      newest.set(workerKey, token)
      if (before === undefined || before === token) return
      components.onRestart(workerKey, (s) => tokenOf.get(s) !== token)
    },
  }
}
