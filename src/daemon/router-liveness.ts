/**
 * Is the router answering? A router that is stopped (SIGSTOP), deadlocked or starved keeps its sockets
 * open: the SAM session stays "up" while every request waits. So the link asks it, every `interval`, for a
 * SAM HELLO on a new connection with a `timeout`; one missed deadline makes it unresponsive, one answer
 * responsive again. Probes never overlap; the timer is unref()ed and owned (stop() clears it and aborts a
 * probe in flight).
 */
import { EventEmitter } from 'node:events'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { samHello, type SamAddress } from '../sam/index.js'

export interface RouterHealth {
  /** The router answered its last probe within the deadline. */
  responsive: boolean
  /** When `responsive` last changed (ms since the epoch). */
  since: number
  /** When the last probe ended (ms since the epoch). */
  checkedAt: number
  /** Why the last probe failed: `ERR_ROUTER_UNRESPONSIVE: …` with the cause. */
  error?: string
}

export interface RouterLivenessEvents {
  change: [RouterHealth]
}

export interface RouterLiveness extends EventEmitter<RouterLivenessEvents> {
  health(): RouterHealth
  start(): void
  stop(): void
}

export interface RouterLivenessInit {
  sam: SamAddress
  interval: number
  timeout: number
}

/** A probe: resolves when the router answered. The default is a SAM HELLO on a new connection. */
export type LivenessProbe = (signal: AbortSignal, timeout: number) => Promise<void>

export function createRouterLiveness(
  init: RouterLivenessInit,
  components: { logger: Logger; probe?: LivenessProbe },
): RouterLiveness {
  return new Liveness(init, components.logger, components.probe ?? helloProbe(init.sam))
}

function helloProbe(sam: SamAddress): LivenessProbe {
  return async (signal, timeout) => {
    await samHello(sam, { signal, timeout })
  }
}

class Liveness extends EventEmitter<RouterLivenessEvents> implements RouterLiveness {
  private current: RouterHealth
  private timer: NodeJS.Timeout | undefined
  private controller: AbortController | undefined

  constructor(
    private readonly init: RouterLivenessInit,
    private readonly log: Logger,
    private readonly probe: LivenessProbe,
  ) {
    super()
    const now = Date.now()
    this.current = { responsive: true, since: now, checkedAt: now } // started after the router answered
  }

  health(): RouterHealth {
    return { ...this.current }
  }

  start(): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.schedule()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.controller?.abort()
    this.controller = undefined
  }

  private schedule(): void {
    const controller = this.controller
    if (controller === undefined) return
    this.timer = setTimeout(() => {
      void this.check(controller).then(() => {
        if (this.controller === controller) this.schedule()
      })
    }, this.init.interval)
    this.timer.unref()
  }

  /** One probe; never rejects. */
  private async check(controller: AbortController): Promise<void> {
    const { timeout } = this.init
    try {
      await this.probe(controller.signal, timeout)
      if (!controller.signal.aborted) this.record(undefined)
    } catch (cause) {
      if (controller.signal.aborted) return
      const why = cause instanceof Error ? cause.message : String(cause)
      const err = new PRouterError(
        'ERR_ROUTER_UNRESPONSIVE',
        `router at ${this.init.sam.host}:${this.init.sam.port} did not answer a SAM HELLO within ${timeout} ms: ${why}`,
        { cause },
      )
      this.record(err)
    }
  }

  private record(err: PRouterError | undefined): void {
    const now = Date.now()
    const responsive = err === undefined
    const changed = responsive !== this.current.responsive
    this.current = {
      responsive,
      since: changed ? now : this.current.since,
      checkedAt: now,
      ...(err === undefined ? {} : { error: `${err.code}: ${err.message}` }),
    }
    if (!changed) return
    if (responsive) this.log.info({ since: now }, 'router responsive again')
    else this.log.warn({ err }, 'router unresponsive')
    this.emit('change', this.health())
  }
}
