/**
 * Publishes the worker's signed binding `worker key -> i2p://<b32>.b32.i2p` and keeps it fresh: signed anew
 * (with a later signing time, so registries take it over the old one) every refresh interval, well inside
 * the 4 h window; retried with capped backoff while the registry is unreachable.
 */
import { MINUTE, SECOND } from '../constants.js'
import type { Logger } from '../logger.js'
import { datagramEndpoint, i2pEndpoint, signBinding, type WorkerKeyPair } from '../identity/index.js'
import type { PublishedBinding, Registry } from '../registry/index.js'
import { createLoop } from '../lifecycle.js'
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
  /** The datagram destination's b32, published as `i2p-datagram://…` when messaging is on. */
  datagramB32?: string
  refreshInterval: number
}

export function createPublisher(
  init: PublisherInit,
  components: { logger: Logger; registry: Registry },
): Publisher {
  const log = components.logger.child({ component: 'publisher' })
  const status: PublisherStatus = { signingTime: undefined, ref: undefined, lastError: undefined }

  const publishNow = async (signal?: AbortSignal): Promise<PublishedBinding> => {
    const signingTime = Math.max(signingTimeFor(components.registry.backend), (status.signingTime ?? 0) + 1)
    const binding = signBinding(init.worker, endpointsOf(init), signingTime)
    const published = await components.registry.publish(binding, signal === undefined ? {} : { signal })
    Object.assign(status, { signingTime, ref: published.ref, lastError: undefined })
    log.info({ workerKey: init.worker.workerKey, signingTime }, 'binding published')
    return published
  }

  const loop = createLoop(
    {
      name: 'binding refresh',
      run: async (signal) => {
        await publishNow(signal)
      },
      every: init.refreshInterval,
      backoff: { min: 5 * SECOND, max: 5 * MINUTE },
      delayFirst: true, // the first publish is publishNow, at start
      onError: (err, failures) => {
        const { code, message } = errorFields(err) // not { err }: its cause may spell out an RPC URL's key
        status.lastError = message
        log.warn({ code, failures }, `binding refresh failed; retrying: ${message}`)
      },
    },
    { logger: log },
  )

  return {
    status,
    publishNow,
    start: () => {
      loop.start()
    },
    stop: () => loop.stop(),
  }
}

/** The stream endpoint first: older resolvers take the first `i2p://` one and ignore the rest. */
function endpointsOf(init: PublisherInit): string[] {
  const stream = i2pEndpoint(init.b32)
  return init.datagramB32 === undefined ? [stream] : [stream, datagramEndpoint(init.datagramB32)]
}
