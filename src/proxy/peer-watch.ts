/**
 * Requests in flight per worker, and one liveness probe per worker at a time. A pooled stream to a worker
 * whose router died gives no sign: i2pd neither closes nor resets it, it retransmits for minutes (see
 * docs/reliability.md, "Proxy faults"). So when a request's answer is late (`stalled`), the worker is pinged
 * on a fresh stream under a short deadline; if that fails for want of an answer, every request waiting on it
 * fails at once with ERR_PEER_LOST and its idle pooled streams are dropped. A worker that answers the ping is
 * alive (its service is slow): its requests keep waiting, under the idle and total limits.
 */
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { deadlineSignal, isTimeoutReason } from '../signals.js'

export interface PeerWatchInit {
  /** How long an answer may be late before the worker is probed; a worker that answered is not probed
   * again for three times this. */
  probeAfter: number
  /** Deadline of one probe. */
  probeTimeout: number
}

export interface PeerWatchComponents {
  logger: Logger
  /** Ping `workerKey` on a fresh stream; rejects when it does not answer. */
  probe: (workerKey: string, signal: AbortSignal) => Promise<void>
  /** Called when a probe found `workerKey` gone (drop its pooled streams). */
  onLost: (workerKey: string) => void
}

export interface PeerWatch {
  /** Watch a request to `workerKey`: `lost` is aborted with ERR_PEER_LOST if the worker is found gone. */
  add(workerKey: string, lost: AbortController): () => void
  /** A request to `workerKey` waits long for its answer: probe the worker unless a probe runs already. */
  stalled(workerKey: string): void
  close(): void
}

export function createPeerWatch(init: PeerWatchInit, components: PeerWatchComponents): PeerWatch {
  const log = components.logger.child({ component: 'peer-watch' })
  const waiting = new Map<string, Set<AbortController>>()
  const probing = new Set<string>()
  /** When each worker last answered a probe: it is not probed again for `quietAfterAnswer`. */
  const answered = new Map<string, number>()
  const quietAfterAnswer = 3 * init.probeAfter
  const lifetime = new AbortController()

  const lose = (workerKey: string, cause: unknown, ms: number): void => {
    const message = `worker ${workerKey} stopped answering: no answer to a ping within ${ms} ms`
    const err = new PRouterError('ERR_PEER_LOST', message, { cause })
    const requests = waiting.get(workerKey) ?? new Set()
    log.warn({ workerKey, requests: requests.size, err: cause }, 'worker lost: failing its requests')
    components.onLost(workerKey)
    for (const lost of requests) lost.abort(err)
  }

  const probe = async (workerKey: string): Promise<void> => {
    const started = performance.now()
    const deadline = deadlineSignal(init.probeTimeout, lifetime.signal)
    try {
      await components.probe(workerKey, deadline.signal)
      answered.set(workerKey, performance.now())
      log.debug({ workerKey, ms: Math.round(performance.now() - started) }, 'probe answered')
    } catch (err) {
      if (lifetime.signal.aborted) return
      if (isGone(err)) lose(workerKey, err, init.probeTimeout)
      else log.debug({ workerKey, err }, 'probe failed, but not for want of an answer: requests keep waiting')
    } finally {
      deadline.dispose()
      probing.delete(workerKey)
    }
  }

  return {
    add(workerKey, lost) {
      const set = waiting.get(workerKey) ?? new Set()
      waiting.set(workerKey, set.add(lost))
      return () => {
        set.delete(lost)
        if (set.size === 0 && waiting.get(workerKey) === set) waiting.delete(workerKey)
      }
    },
    stalled(workerKey) {
      if (probing.has(workerKey) || lifetime.signal.aborted) return
      const last = answered.get(workerKey)
      if (last !== undefined && performance.now() - last < quietAfterAnswer) return
      answered.delete(workerKey)
      probing.add(workerKey)
      void probe(workerKey)
    },
    close() {
      lifetime.abort()
    },
  }
}

/**
 * The probe found no worker: no answer in time, or the stream closed unanswered. A refusal the worker's
 * PRouter sends (e.g. its stream limit) is an answer; a local router failure says nothing about the worker.
 */
function isGone(err: unknown): boolean {
  if (isTimeoutReason(err)) return true
  if (!(err instanceof PRouterError)) return false
  return err.code === 'ERR_PEER_UNREACHABLE' || err.code === 'ERR_PEER_CLOSED'
}
