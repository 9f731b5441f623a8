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
import { streamWindowOptions, type SamSessionInit } from '../sam/index.js'
import type { DaemonConfig } from './config-types.js'
import { createRouterLink, type RouterHealth, type RouterLink } from './router-link.js'
import { createSessionKeeper, type SessionKeeper } from './session-keeper.js'
import { createPublisher, type Publisher } from './publisher.js'
import { createWarmer, type Warmer } from './warmer.js'
import { prepareRegistryReseed, type RegistryReseedResult } from './registry-reseed.js'
import { createRouterInfoPublisher, type RouterInfoPublisher } from './router-info-publisher.js'
import { daemonStatus, peerList, streamsOpen, type DaemonStatus, type PeerList } from './status.js'
import { createLifecycle, type Lifecycle, type Part } from '../lifecycle.js'
import { createMetering, type Metering } from './metering.js'
import { createMessaging, type Messaging } from './messaging.js'
import { ANONYMOUS_PEER } from '../metering/report.js'
import { createWebPages } from '../web/pages.js'
import { defaultCacheDir } from '../router/binary.js'
import { deadlineSignal, sleep } from '../signals.js'
import {
  DEFAULT_ROUTER_STOP_TIMEOUT,
  DEFAULT_SESSION_START_TIMEOUT,
  ROUTER_INFO_PUBLISH_INTERVAL,
  SECOND,
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
  /**
   * Stop everything this daemon started, in reverse order (idempotent). Bounded: each part's stop has its own
   * bound, all of them DEFAULT_DAEMON_STOP_TIMEOUT; a managed router that overruns is killed (SIGKILL).
   * Stopping while `start()` runs aborts the start (it rejects with ERR_DAEMON_STOPPED).
   */
  stop(): Promise<void>
  status(): Promise<DaemonStatus>
  peers(): Promise<PeerList>
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
  private readonly messaging: Messaging | undefined
  private readonly routerInfo: RouterInfoPublisher | undefined
  private reseed: RegistryReseedResult | undefined
  private readonly startedAt = Date.now()
  private readonly lifecycle: Lifecycle
  private sessionTimeout = DEFAULT_SESSION_START_TIMEOUT
  private stopped: Promise<void> | undefined

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
    this.outbound = createOutbound(
      { ...config.outbound, ...config.limits, self },
      {
        ...shared,
        routerHealthy: () => this.routerHealthy(),
        datagrams: () => (this.messaging?.isUp === true ? this.messaging.requests : undefined),
      },
    )
    this.inbound = createInbound(this.inboundInit(), shared)
    this.messaging = config.messages.enabled
      ? createMessaging(
          { config, keys, sam: () => router.sam },
          {
            logger: log,
            registry,
            onAcknowledged: (peer, bytes) => {
              this.metering.peers.addMessage(peer, 'out', bytes)
            },
            onReceived: (peer, bytes) => {
              this.metering.peers.addMessage(peer ?? ANONYMOUS_PEER, 'in', bytes)
            },
            serve: (request, caller) => this.inbound.serve(request, caller),
            onRequestBytes: (peer, bytesIn, bytesOut) => {
              this.metering.peers.addBytes(peer ?? ANONYMOUS_PEER, bytesIn, bytesOut)
            },
          },
        )
      : undefined
    this.publisher = createPublisher(
      {
        worker: keys.worker,
        b32: this.b32,
        datagramB32: this.messaging?.b32,
        refreshInterval: config.publish.refreshInterval,
      },
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
    this.lifecycle = createLifecycle(this.parts(), { logger: log })
  }

  async start(options: { signal?: AbortSignal; sessionTimeout?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.sessionTimeout = options.sessionTimeout ?? this.sessionTimeout
    await this.lifecycle.start(options.signal)
    this.log.info({ workerKey: this.workerKey, b32: this.b32, api: this.apiUrl }, 'daemon ready')
  }

  /**
   * The daemon's parts in start order; stop goes the other way. Metering's books are opened last, once every
   * step that can fail is behind: a failed start never touches the saved period. Its final sample and save
   * come after everything that carries traffic has stopped, and before the session and the router go.
   */
  private parts(): Part[] {
    const noop = (): void => undefined
    const publish = this.config.publish.enabled
    return [
      { name: 'registry', start: noop, stop: () => this.registry.close() },
      {
        name: 'router',
        start: async (signal) => {
          await this.prepareReseed(signal)
          await this.router.start(signal)
        },
        stop: () => this.router.stop(),
        stopTimeout: DEFAULT_ROUTER_STOP_TIMEOUT + SECOND, // its own SIGTERM, then SIGKILL after 10 s
        destroy: () => {
          this.killRouter()
        },
      },
      ...this.routerInfoPart(),
      {
        name: 'session',
        start: () => {
          this.session.start()
        },
        stop: () => this.closeSession(),
      },
      ...this.messagingPart(),
      { name: 'metering', start: noop, stop: () => this.metering.stop() },
      {
        name: 'outbound',
        start: noop,
        stop: () => {
          this.outbound.close()
        },
      },
      {
        name: 'api',
        start: async () => {
          this.apiUrl = await this.api.listen().catch((cause: unknown) => {
            const { host, port } = this.config.api
            const why = (cause as NodeJS.ErrnoException).code ?? String(cause)
            throw new PRouterError(
              'ERR_API_LISTEN',
              `the local API cannot listen on ${host}:${port}: ${why}`,
              {
                cause,
              },
            )
          })
        },
        stop: () => this.api.close(),
      },
      {
        name: 'publisher',
        start: async (signal) => {
          if (!publish) return
          await this.publisher.publishNow(signal)
          this.publisher.start()
        },
        stop: () => this.publisher.stop(),
      },
      {
        name: 'inbound',
        start: () => {
          this.inbound.start()
        },
        stop: () => this.inbound.stop(),
      },
      { name: 'session up', start: (signal) => this.waitSession(this.sessionTimeout, signal), stop: noop },
      { name: 'books', start: () => this.metering.open(), stop: noop },
      {
        name: 'warmer',
        start: () => {
          this.warmer.start()
          this.session.on('up', this.warmAgain) // peers again after a restart
        },
        stop: async () => {
          this.session.off('up', this.warmAgain)
          await this.warmer.stop()
        },
      },
    ]
  }

  /** Publishing the RouterInfo helps others bootstrap; in the background, never fatal. */
  private routerInfoPart(): Part[] {
    const publisher = this.routerInfo
    if (publisher === undefined) return []
    const start = (): void => {
      publisher.start()
    }
    return [{ name: 'router-info', start, stop: () => publisher.stop() }]
  }

  /** Messages: its datagram session comes up in the background, like the stream session. */
  private messagingPart(): Part[] {
    const messaging = this.messaging
    if (messaging === undefined) return []
    return [{ name: 'messaging', start: () => messaging.start(), stop: () => messaging.stop() }]
  }

  private readonly warmAgain = (): void => {
    void this.warmer.round().catch(() => undefined)
  }

  /** Let the router send the close of every stream to its peer before the destination goes away; without it
   * a peer keeps a dead kept-alive stream and its next request waits for its idle timeout. */
  private async closeSession(): Promise<void> {
    if (this.session.isUp) await sleep(STREAM_CLOSE_GRACE)
    await this.session.stop()
  }

  /** A managed router whose stop overran the daemon's bound. */
  private killRouter(): void {
    const pid = this.router.router?.pid
    if (pid === undefined) return
    try {
      process.kill(pid, 'SIGKILL')
      this.log.warn({ pid }, 'router killed: its stop overran the bound')
    } catch {
      // gone already
    }
  }

  /** A managed router told to bootstrap from the registry gets its signed bundle before every daemon start. */
  private async prepareReseed(signal?: AbortSignal): Promise<void> {
    const r = this.config.router
    if (r.mode !== 'managed' || !r.reseed.fromRegistry) return
    const init = { netId: r.netId, routerDataDir: r.dataDir, keyDir: join(this.config.dataDir, 'reseed') }
    this.reseed = await prepareRegistryReseed(init, { registry: this.registry, logger: this.log }, { signal })
  }

  async stop(): Promise<void> {
    const first = this.stopped === undefined
    this.stopped ??= this.lifecycle.stop()
    await this.stopped
    if (first) this.log.info('daemon stopped')
  }

  status(): Promise<DaemonStatus> {
    return daemonStatus(this.statusSources())
  }

  peers(): Promise<PeerList> {
    return peerList(this.statusSources())
  }

  private async waitSession(timeout: number, signal?: AbortSignal): Promise<void> {
    const deadline = deadlineSignal(timeout, signal)
    try {
      await this.session.whenUp(deadline.signal)
    } catch (cause) {
      if (signal?.aborted === true) throw cause
      throw new PRouterError('ERR_SESSION_START_TIMEOUT', `no SAM session within ${timeout} ms`, { cause })
    } finally {
      deadline.dispose()
    }
  }

  private sessionInit(): SamSessionInit {
    const { inbound, outbound, maxStreamWindow } = this.config.tunnels
    return {
      sam: this.router.sam,
      destination: this.keys.i2p.privateKey,
      tunnels: {
        inbound: { ...inbound, lengthVariance: 0 },
        outbound: { ...outbound, lengthVariance: 0 },
      },
      options: streamWindowOptions(maxStreamWindow),
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
        messaging: this.messaging,
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
  /**
   * False only while a running router does not answer its liveness probe (hung): new requests then fail at
   * once (ERR_ROUTER_UNRESPONSIVE). A managed router that is restarting is down, not hung: ERR_ROUTER_UNAVAILABLE.
   */
  private routerHealthy(): boolean {
    const managed = this.router.router
    return this.router.health().responsive || (managed !== undefined && managed.state !== 'ready')
  }

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
