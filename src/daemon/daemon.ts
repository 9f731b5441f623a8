/**
 * The PRouter daemon: one worker's keys, its router (managed or attached), one SAM session kept open with
 * the worker's persistent destination, the signed binding published and refreshed, inbound streams relayed
 * to the worker's service, outbound requests relayed to other workers by key, warm paths, and the local API.
 */
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { loadKeyStore, i2pEndpoint, type KeyStore } from '../identity/index.js'
import { createRegistry, type Registry } from '../registry/resolver.js'
import { openRegistryBackend } from '../registry/open.js'
import { createOutbound, type Outbound } from '../proxy/outbound.js'
import { createInbound, type Inbound } from '../proxy/inbound.js'
import { createApiServer, type ApiServer } from '../api/server.js'
import type { SamSessionInit } from '../sam/index.js'
import type { DaemonConfig } from './config-types.js'
import { createRouterLink, type RouterHealth, type RouterLink } from './router-link.js'
import { createSessionKeeper, type SessionKeeper } from './session-keeper.js'
import { createPublisher, type Publisher } from './publisher.js'
import { createWarmer, type Warmer } from './warmer.js'
import { prepareRegistryReseed, type RegistryReseedResult } from './registry-reseed.js'
import { createRouterInfoPublisher, type RouterInfoPublisher } from './router-info-publisher.js'
import { daemonStatus, peerList, streamsOpen } from './status.js'
import { createMetering, type Metering } from './metering.js'
import { createWebPages } from '../web/pages.js'
import { defaultCacheDir } from '../router/binary.js'
import { deadlineSignal, sleep } from '../signals.js'
import {
  DEFAULT_SESSION_START_TIMEOUT,
  ROUTER_INFO_PUBLISH_INTERVAL,
  STREAM_CLOSE_GRACE,
} from '../constants.js'
import { join } from 'node:path'

export interface DaemonComponents {
  logger: Logger
  /** Where provisioned i2pd lives (default ~/.cache/prouter). */
  cacheDir?: string
}

export interface Daemon {
  readonly config: Readonly<DaemonConfig>
  readonly workerKey: string
  readonly b32: string
  /** The local API's URL, once started. */
  readonly apiUrl: string
  readonly router: RouterLink
  readonly session: SessionKeeper
  /** Start everything; resolves when the API listens, the binding is published and the session is up. */
  start(options?: { signal?: AbortSignal; sessionTimeout?: number }): Promise<void>
  /** Stop everything this daemon started (idempotent). */
  stop(): Promise<void>
  status(): Promise<object>
  peers(): Promise<object>
}

export async function createDaemon(
  config: Readonly<DaemonConfig>,
  components: DaemonComponents,
): Promise<Daemon> {
  const logger = components.logger.child({ component: 'daemon' })
  const keys = await loadKeyStore(config.keysDir)
  const registry = createRegistry(
    { backend: await openRegistryBackend(config.registry, components) },
    components,
  )
  const link = await createRouterLink(config.router, {
    logger: components.logger,
    cacheDir: components.cacheDir ?? defaultCacheDir(),
  })
  return new PRouterDaemon(config, keys, registry, link, logger)
}

class PRouterDaemon implements Daemon {
  readonly workerKey: string
  readonly b32: string
  readonly session: SessionKeeper
  apiUrl = ''
  private readonly metering: Metering
  private readonly outbound: Outbound
  private readonly inbound: Inbound
  private readonly publisher: Publisher
  private readonly warmer: Warmer
  private readonly api: ApiServer
  private readonly routerInfo: RouterInfoPublisher | undefined
  private reseed: RegistryReseedResult | undefined
  private readonly startedAt = Date.now()
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  constructor(
    readonly config: Readonly<DaemonConfig>,
    private readonly keys: KeyStore,
    private readonly registry: Registry,
    readonly router: RouterLink,
    private readonly log: Logger,
  ) {
    this.workerKey = keys.worker.workerKey
    this.b32 = keys.i2p.b32
    this.session = createSessionKeeper(() => this.sessionInit(), { logger: log })
    this.metering = createMetering(
      { config: config.metering, dataDir: config.dataDir, worker: keys.worker },
      {
        logger: log,
        registry,
        router,
        sessionUp: () => this.session.isUp,
        streams: () => streamsOpen(this.outbound, this.inbound),
      },
    )
    const shared = {
      logger: log,
      streams: this.session,
      registry,
      peers: this.metering.peers,
      meter: this.metering.streams,
    }
    const self = { worker: keys.worker, b32: this.b32 } // signs the caller proof of each outbound stream
    this.outbound = createOutbound({ ...config.outbound, ...config.limits, self }, shared)
    this.inbound = createInbound(this.inboundInit(), shared)
    this.publisher = createPublisher(
      { worker: keys.worker, b32: this.b32, refreshInterval: config.publish.refreshInterval },
      { logger: log, registry },
    )
    this.warmer = createWarmer(
      { ...config.warm, self: this.workerKey },
      { logger: log, registry, outbound: this.outbound },
    )
    this.api = this.createApi()
    this.routerInfo =
      router.routerInfoFile === undefined
        ? undefined
        : createRouterInfoPublisher(
            { file: router.routerInfoFile, interval: ROUTER_INFO_PUBLISH_INTERVAL },
            { logger: log, registry },
          )
  }

  start(options: { signal?: AbortSignal; sessionTimeout?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.stopping !== undefined) {
      return Promise.reject(
        new PRouterError('ERR_ROUTER_NOT_RUNNING', 'this daemon was stopped: create a new one'),
      )
    }
    this.starting ??= this.startAll(options)
    return this.starting
  }

  private async startAll(options: { signal?: AbortSignal; sessionTimeout?: number }): Promise<void> {
    const { signal } = options
    try {
      await this.prepareReseed(signal)
      await this.router.start(signal)
      this.routerInfo?.start() // helps others bootstrap; in the background, never fatal
      this.session.start()
      this.apiUrl = await this.api.listen()
      if (this.config.publish.enabled) {
        await this.publisher.publishNow(signal)
        this.publisher.start()
      }
      this.inbound.start()
      await this.metering.start()
      await this.waitSession(options.sessionTimeout ?? DEFAULT_SESSION_START_TIMEOUT, signal)
      this.warmer.start()
      this.session.on('up', () => void this.warmer.round().catch(() => undefined)) // peers again after a restart
      this.log.info({ workerKey: this.workerKey, b32: this.b32, api: this.apiUrl }, 'daemon ready')
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** A managed router told to bootstrap from the registry gets its signed bundle before every daemon start. */
  private async prepareReseed(signal?: AbortSignal): Promise<void> {
    const r = this.config.router
    if (r.mode !== 'managed' || !r.reseed.fromRegistry) return
    const init = { netId: r.netId, routerDataDir: r.dataDir, keyDir: join(this.config.dataDir, 'reseed') }
    this.reseed = await prepareRegistryReseed(init, { registry: this.registry, logger: this.log }, { signal })
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll()
    return this.stopping
  }

  status(): Promise<object> {
    return daemonStatus(this.statusSources())
  }

  peers(): Promise<object> {
    return peerList(this.statusSources())
  }

  private async stopAll(): Promise<void> {
    await Promise.all([this.warmer.stop(), this.publisher.stop(), this.routerInfo?.stop()])
    await this.api.close()
    await this.inbound.stop()
    this.outbound.close()
    await this.metering.stop() // the streams' last bytes, then the open period is saved
    // let the router send the close of every stream to its peer before the destination goes away; without it
    // a peer keeps a dead kept-alive stream and its next request waits for its idle timeout
    if (this.session.isUp) await sleep(STREAM_CLOSE_GRACE)
    await this.session.stop()
    await this.router.stop()
    await this.registry.close()
    this.log.info('daemon stopped')
  }

  private async waitSession(timeout: number, signal?: AbortSignal): Promise<void> {
    const deadline = deadlineSignal(timeout, signal)
    try {
      await this.session.whenUp(deadline.signal)
    } catch (cause) {
      if (signal?.aborted === true) throw cause
      throw new PRouterError('ERR_ROUTER_START_TIMEOUT', `no SAM session within ${timeout} ms`, { cause })
    } finally {
      deadline.dispose()
    }
  }

  private sessionInit(): SamSessionInit {
    const { inbound, outbound } = this.config.tunnels
    return {
      sam: this.router.sam,
      destination: this.keys.i2p.privateKey,
      tunnels: {
        inbound: { ...inbound, lengthVariance: 0 },
        outbound: { ...outbound, lengthVariance: 0 },
      },
    }
  }

  private inboundInit() {
    const c = this.config
    return {
      ...c.limits,
      ...c.inbound,
      serviceUrl: c.service.url,
      self: { workerKey: this.workerKey, b32: this.b32 },
    }
  }

  private createApi(): ApiServer {
    const c = this.config
    return createApiServer(
      { ...c.api, maxHeaderBytes: c.limits.maxHeaderBytes, requestTimeout: c.limits.requestTimeout },
      {
        logger: this.log,
        outbound: this.outbound,
        status: () => this.status(),
        peers: () => this.peers(),
        health: () => this.health(),
        history: () => this.metering.history(),
        reports: (query) => this.metering.reports(query),
        metrics: () => this.metering.metrics(),
        web: createWebPages(),
      },
    )
  }

  /** /healthz: a router that does not answer is named first (its SAM session may still look up). */
  private health(): { ok: boolean; state: string; router: RouterHealth } {
    const router = this.router.health()
    if (!router.responsive) return { ok: false, state: 'router-unresponsive', router }
    return { ok: this.session.isUp, state: this.session.state, router }
  }

  private statusSources() {
    return {
      config: this.config,
      workerKey: this.workerKey,
      b32: this.b32,
      endpoint: i2pEndpoint(this.b32),
      startedAt: this.startedAt,
      apiUrl: this.apiUrl,
      router: this.router,
      session: this.session,
      publisher: this.publisher,
      warmer: this.warmer,
      registry: this.registry,
      peers: this.metering.peers,
      metering: this.metering,
      outbound: this.outbound,
      inbound: this.inbound,
      bootstrap: { reseed: this.reseed, routerInfo: this.routerInfo?.last },
    }
  }
}
