/** What the proxy needs of the daemon's SAM session: the session if it is up, and a way to wait for one. */
import type { SamSession } from '../sam/index.js'

export interface StreamSource {
  /** Whether a session is open now. */
  readonly isUp: boolean
  /** The open session; throws ERR_ROUTER_UNAVAILABLE when the router or its session is down. */
  session(): SamSession
  /** The open session, waiting for one if the router is restarting; rejects with `signal.reason`. */
  whenUp(signal: AbortSignal): Promise<SamSession>
  /** Resolves after `ms` or as soon as the current session is found closed, whichever is first. */
  settle(ms: number): Promise<void>
}
