/**
 * Warm paths: for the peers the daemon expects to call (every registry peer, or a list), keep a stream open
 * in the outbound pool and the peer's LeaseSet fresh in the router, by a ping through the pool every
 * interval. A first request to a warm peer then pays neither a LeaseSet lookup nor a stream set-up.
 */
import type { Logger } from '../logger.js'
import type { Registry } from '../registry/index.js'
import type { Outbound } from '../proxy/outbound.js'
import { SECOND } from '../constants.js'
import { createLoop } from '../lifecycle.js'

export interface WarmPeer {
  workerKey: string
  ok: boolean
  rttMs: number | undefined
  error: string | undefined
  at: number
}

export interface WarmerInit {
  peers: 'all' | 'none' | readonly string[]
  interval: number
  max: number
  self: string
}

export interface Warmer {
  readonly peers: ReadonlyMap<string, WarmPeer>
  /** One round now (also what the loop runs). */
  round(signal?: AbortSignal): Promise<void>
  start(): void
  stop(): Promise<void>
}

const CONCURRENCY = 8

export function createWarmer(
  init: WarmerInit,
  components: { logger: Logger; registry: Registry; outbound: Outbound },
): Warmer {
  const log = components.logger.child({ component: 'warmer' })
  const peers = new Map<string, WarmPeer>()

  const targets = async (signal?: AbortSignal): Promise<string[]> => {
    if (init.peers === 'none') return []
    const keys =
      init.peers === 'all'
        ? (await components.registry.list(signal === undefined ? {} : { signal })).map((b) => b.workerKey)
        : [...init.peers]
    return keys.filter((k) => k !== init.self).slice(0, init.max)
  }

  const inflight = new Map<string, Promise<void>>()
  const warmOne = (workerKey: string, signal?: AbortSignal): Promise<void> => {
    const running =
      inflight.get(workerKey) ?? pingPeer(workerKey, signal).finally(() => inflight.delete(workerKey))
    inflight.set(workerKey, running)
    return running
  }

  const pingPeer = async (workerKey: string, signal?: AbortSignal): Promise<void> => {
    try {
      const rttMs = await components.outbound.ping(workerKey, signal === undefined ? {} : { signal })
      peers.set(workerKey, { workerKey, ok: true, rttMs, error: undefined, at: Date.now() })
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      peers.set(workerKey, { workerKey, ok: false, rttMs: undefined, error, at: Date.now() })
      components.outbound.forget(workerKey) // streams that carried no answer are not reused
      log.debug({ workerKey, err }, 'warm ping failed')
    }
  }

  const round = async (signal?: AbortSignal): Promise<void> => {
    const queue = await targets(signal)
    const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await warmOne(key, signal)
    })
    await Promise.all(workers)
  }

  const wanted = (workerKey: string): boolean =>
    workerKey !== init.self &&
    (init.peers === 'all' || (init.peers !== 'none' && init.peers.includes(workerKey)))

  /** A peer that publishes (or refreshes) its binding is warmed at once, not at the next round. */
  const follow = (signal: AbortSignal): Promise<void> =>
    components.registry.watch(
      (b) => {
        if (wanted(b.workerKey) && peers.get(b.workerKey)?.ok !== true) void warmOne(b.workerKey, signal)
      },
      { signal },
    )

  const loops = [
    createLoop(
      {
        name: 'warm rounds',
        run: round,
        every: init.interval,
        backoff: { min: SECOND, max: init.interval },
        onError: (err) => {
          log.debug({ err }, 'warm round failed')
        },
      },
      { logger: log },
    ),
    createLoop(
      {
        name: 'registry watch',
        run: follow,
        every: SECOND,
        backoff: { min: SECOND, max: 30 * SECOND },
        onError: (err) => {
          log.debug({ err }, 'registry watch failed; retrying')
        },
      },
      { logger: log },
    ),
  ]

  return {
    peers,
    round,
    start: () => {
      if (init.peers !== 'none') for (const loop of loops) loop.start()
    },
    stop: async () => {
      await Promise.all(loops.map((loop) => loop.stop()))
    },
  }
}
