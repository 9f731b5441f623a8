/**
 * Publishes the worker's signed binding `worker key -> i2p://<b32>.b32.i2p` and keeps it fresh: signed anew
 * (with a later signing time, so registries take it over the old one) every refresh interval, well inside
 * the 4 h window; retried with capped backoff while the registry is unreachable.
 */
import { MINUTE, SECOND } from '../constants.js'
import type { Logger } from '../logger.js'
import { i2pEndpoint, signBinding, type WorkerKeyPair } from '../identity/index.js'
import type { PublishedBinding, Registry } from '../registry/index.js'
import { backoffDelay } from '../backoff.js'
import { isAborted, sleep } from '../signals.js'
import { signingTimeFor } from '../registry/backend.js'
import { errorFields } from '../redact.js'

export interface PublisherStatus {
  signingTime: number | undefined
  ref: string | undefined
  lastError: string | undefined
}

export interface Publisher {
  readonly status: PublisherStatus
  /** Publish now; resolves once the registry took it (or rejects with its error). */
  publishNow(signal?: AbortSignal): Promise<PublishedBinding>
  /** Refresh every `refreshInterval` until stopped (the first publish is `publishNow`). */
  start(): void
  stop(): Promise<void>
}

export interface PublisherInit {
  worker: WorkerKeyPair
  b32: string
  refreshInterval: number
}

export function createPublisher(
  init: PublisherInit,
  components: { logger: Logger; registry: Registry },
): Publisher {
  const log = components.logger.child({ component: 'publisher' })
  const status: PublisherStatus = { signingTime: undefined, ref: undefined, lastError: undefined }
  const lifetime = new AbortController()
  let loop: Promise<void> | undefined

  const publishNow = async (signal?: AbortSignal): Promise<PublishedBinding> => {
    const signingTime = Math.max(signingTimeFor(components.registry.backend), (status.signingTime ?? 0) + 1)
    const binding = signBinding(init.worker, [i2pEndpoint(init.b32)], signingTime)
    const published = await components.registry.publish(binding, signal === undefined ? {} : { signal })
    Object.assign(status, { signingTime, ref: published.ref, lastError: undefined })
    log.info({ workerKey: init.worker.workerKey, signingTime }, 'binding published')
    return published
  }

  const refresh = async (signal: AbortSignal): Promise<void> => {
    for (let failures = 0; !signal.aborted;) {
      const wait = failures === 0 ? init.refreshInterval : backoffDelay(failures - 1, 5 * SECOND, 5 * MINUTE)
      await sleep(wait, signal).catch(() => undefined)
      if (isAborted(signal)) return
      try {
        await publishNow(signal)
        failures = 0
      } catch (err) {
        failures++
        const { code, message } = errorFields(err) // not { err }: its cause may spell out an RPC URL's key
        status.lastError = message
        log.warn({ code, failures }, `binding refresh failed; retrying: ${message}`)
      }
    }
  }

  return {
    status,
    publishNow,
    start: () => {
      loop ??= refresh(lifetime.signal)
    },
    stop: async () => {
      lifetime.abort(new Error('publisher stopped'))
      await loop
    },
  }
}
