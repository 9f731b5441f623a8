/**
 * Keeps the daemon's one SAM session open: created with the worker's persistent destination (so its b32
 * address never changes), re-created whenever it closes (the router crashed, restarted or was restarted),
 * with capped backoff while the bridge does not answer. The proxy asks it for the session (`StreamSource`).
 */
import { EventEmitter } from 'node:events'
import { SESSION_CLOSE_WAIT, SESSION_RETRY_MAX, SESSION_RETRY_MIN } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { createSamSession, type SamSession, type SamSessionInit } from '../sam/index.js'
import type { StreamSource } from '../proxy/stream-source.js'
import { createLoop, type Loop } from '../lifecycle.js'
import { isAborted, sleep } from '../signals.js'

export type SessionState = 'idle' | 'opening' | 'up' | 'down' | 'stopped'

export interface SessionKeeperEvents {
  up: [{ session: SamSession; ms: number; attempt: number }]
  down: [{ upMs: number }]
}

export interface SessionKeeper extends StreamSource, EventEmitter<SessionKeeperEvents> {
  readonly state: SessionState
  /** When the current state began (ms since the epoch). */
  readonly since: number
  /** Sessions opened so far (1 = never lost). */
  readonly generation: number
  start(): void
  stop(): Promise<void>
}

export function createSessionKeeper(
  init: () => SamSessionInit,
  components: { logger: Logger },
): SessionKeeper {
  return new Keeper(init, components.logger.child({ component: 'session' }))
}

class Keeper extends EventEmitter<SessionKeeperEvents> implements SessionKeeper {
  state: SessionState = 'idle'
  since = Date.now()
  generation = 0
  private current: SamSession | undefined
  private readonly loop: Loop

  constructor(
    private readonly init: () => SamSessionInit,
    private readonly log: Logger,
  ) {
    super()
    this.setMaxListeners(0)
    this.loop = createLoop(
      {
        name: 'SAM session',
        run: (signal) => this.keepOpen(signal),
        every: 0, // a session that was up and closed is reopened at once
        backoff: { min: SESSION_RETRY_MIN, max: SESSION_RETRY_MAX },
        onError: () => undefined, // logged by open()
      },
      { logger: log },
    )
  }

  get isUp(): boolean {
    return this.state === 'up'
  }

  session(): SamSession {
    if (this.current === undefined || this.state !== 'up') {
      throw new PRouterError('ERR_ROUTER_UNAVAILABLE', `the local router's SAM session is ${this.state}`)
    }
    return this.current
  }

  async whenUp(signal: AbortSignal): Promise<SamSession> {
    signal.throwIfAborted()
    if (this.isUp && this.current !== undefined) return this.current
    const [event] = (await EventEmitter.once(this, 'up', { signal })) as [{ session: SamSession }]
    return event.session
  }

  async settle(ms: number): Promise<void> {
    const current = this.current
    if (current === undefined) return
    await Promise.race([current.closed, sleep(ms)])
  }

  start(): void {
    this.loop.start()
  }

  async stop(): Promise<void> {
    const ended = this.loop.stop() // aborts at once: a session that closes now is not reopened
    const session = this.current
    if (session !== undefined) {
      // i2pd can take seconds to close its side after ours (seen: a 5 s wait on stop): a moment, then cut it
      await Promise.race([session.close(), sleep(SESSION_CLOSE_WAIT)])
      session.destroy()
    }
    await ended
    this.setState('stopped')
  }

  /** One round of the loop: open a session and hold it until it closes; a failed open counts a failure. */
  private async keepOpen(signal: AbortSignal): Promise<void> {
    const session = await this.open(signal, this.loop.failures)
    const upAt = Date.now()
    await session.closed
    this.current = undefined
    if (isAborted(signal)) return
    this.setState('down')
    this.log.warn({ upMs: Date.now() - upAt }, 'SAM session lost: reopening')
    this.emit('down', { upMs: Date.now() - upAt })
  }

  private async open(signal: AbortSignal, attempt: number): Promise<SamSession> {
    this.setState('opening')
    const started = Date.now()
    try {
      const session = await createSamSession(this.init(), { logger: this.log }, { signal })
      this.current = session
      this.generation++
      this.setState('up')
      this.log.info({ b32: session.b32, ms: Date.now() - started }, 'SAM session up')
      this.emit('up', { session, ms: Date.now() - started, attempt })
      return session
    } catch (err) {
      if (!signal.aborted) this.log.debug({ err, attempt }, 'SAM session not open yet')
      this.setState('down')
      throw err
    }
  }

  private setState(state: SessionState): void {
    if (this.state === state) return
    this.state = state
    this.since = Date.now()
  }
}
