/**
 * Publishing the router's RouterInfo to the registry, so new routers of a private network can bootstrap
 * from it (registry-reseed.ts). The daemon reads the router.info file i2pd keeps up to date, verifies it,
 * and publishes it when it changed — at start and every ROUTER_INFO_PUBLISH_INTERVAL — but only for a router
 * others can use: a floodfill or one with a reachable address (a firewalled router's RouterInfo helps no
 * one bootstrap). A registry that keeps no RouterInfos (evm) is asked once.
 */
import { readFile } from 'node:fs/promises'
import { isPRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { readRouterInfo } from '../i2p/router-info.js'
import type { Registry } from '../registry/resolver.js'
import { createLoop } from '../lifecycle.js'

export interface RouterInfoPublisher {
  /** The outcome of the last attempt (undefined before the first). */
  readonly last: RouterInfoPublication | undefined
  /** Publish if the RouterInfo changed since the last time; resolves with what happened. */
  publishNow(signal?: AbortSignal): Promise<RouterInfoPublication>
  /** Publish now in the background (start-up does not wait for the registry), then every interval. */
  start(): void
  /** No more attempts; resolves once an attempt under way has ended. */
  stop(): Promise<void>
}

export type RouterInfoPublication =
  | { state: 'published'; id: string; published: number }
  | { state: 'unchanged' | 'not-usable' | 'unsupported' | 'missing'; id?: string }
  | { state: 'failed'; error: string }

export function createRouterInfoPublisher(
  init: { file: string; interval: number },
  components: { registry: Registry; logger: Logger },
): RouterInfoPublisher {
  const log = components.logger.child({ component: 'router-info-publisher' })
  let last: Buffer | undefined
  let unsupported = false

  let outcome: RouterInfoPublication | undefined
  const attempt = async (signal?: AbortSignal): Promise<RouterInfoPublication> => {
    if (unsupported) return { state: 'unsupported' }
    const bytes = await readFile(init.file).catch(() => undefined)
    if (bytes === undefined) return { state: 'missing' }
    const info = readRouterInfo(bytes)
    if (last?.equals(bytes) === true) return { state: 'unchanged', id: info.id }
    if (!info.floodfill && !info.reachable) return { state: 'not-usable', id: info.id }
    try {
      const receipt = await components.registry.publishRouterInfo(
        bytes,
        signal === undefined ? {} : { signal },
      )
      last = bytes
      log.info({ id: info.id, caps: info.caps }, 'RouterInfo published')
      return { state: 'published', ...receipt }
    } catch (err) {
      if (!isPRouterError(err) || err.code !== 'ERR_REGISTRY_UNSUPPORTED') throw err
      unsupported = true
      log.info('the registry keeps no RouterInfos: not publishing ours')
      return { state: 'unsupported' }
    }
  }
  const publishNow = async (signal?: AbortSignal): Promise<RouterInfoPublication> => {
    try {
      const result = await attempt(signal)
      if (result.state !== 'unchanged') outcome = result
      return result
    } catch (err) {
      outcome = { state: 'failed', error: err instanceof Error ? err.message : String(err) }
      throw err
    }
  }
  const loop = createLoop(
    {
      name: 'RouterInfo publication',
      run: async (signal) => {
        await publishNow(signal)
      },
      every: init.interval,
      backoff: { min: init.interval, max: init.interval },
      onError: (err) => {
        log.warn({ err }, 'RouterInfo not published; retrying at the next interval')
      },
    },
    { logger: log },
  )
  return {
    get last() {
      return outcome
    },
    publishNow,
    start: () => {
      loop.start()
    },
    stop: () => loop.stop(),
  }
}
