/**
 * The daemon's router: one it supervises (managed: i2pd found or provisioned, its config written from the
 * daemon's, started, restarted after a crash), or one someone else runs (attach: SAM address, and I2PControl
 * for stats if given). Either way the daemon sees a SAM address, a state, router stats, and whether the
 * router answers (a liveness probe, router-liveness.ts, started and stopped with the link).
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { ROUTER_PROBE_INTERVAL, ROUTER_PROBE_TIMEOUT, ROUTER_STATS_TTL } from '../constants.js'
import type { Logger } from '../logger.js'
import { resolveI2pd, type I2pdBinary } from '../router/binary.js'
import type { RouterConfig } from '../router/config.js'
import { createI2pControlClient, type I2pControlClient, type RouterStats } from '../router/i2pcontrol.js'
import { createRouter, type Router, type RouterState } from '../router/router.js'
import { consoleTraffic, destinationTunnels, type DestinationTunnels } from '../router/console.js'
import type { RouterReading } from '../metering/router-meter.js'
import { PRouterError } from '../errors.js'
import { samHello, type SamAddress } from '../sam/index.js'
import { freePort } from '../router/free-port.js'
import { routerInfoPath } from '../router/data-dir.js'
import type { AttachedRouterConfig, ManagedRouterConfig } from './config-types.js'
import { registryReseedFiles } from './registry-reseed.js'
import { createRouterLiveness, type RouterHealth, type RouterLiveness } from './router-liveness.js'

export type { RouterHealth } from './router-liveness.js'

export interface RouterLinkStatus {
  mode: 'managed' | 'attach'
  state: RouterState | 'attached'
  version: string | undefined
  pid: number | undefined
  sam: SamAddress
  stats: RouterStats | undefined
  statsError: string | undefined
  /** Whether the router answers its liveness probe (a SAM HELLO with a deadline). */
  health: RouterHealth
}

export interface RouterLink {
  readonly sam: SamAddress
  /** The supervised router (managed mode only). */
  readonly router: Router | undefined
  /** The router's router.info to publish to the registry, if the config asks for it. */
  readonly routerInfoFile: string | undefined
  start(signal?: AbortSignal): Promise<void>
  stop(): Promise<void>
  status(): Promise<RouterLinkStatus>
  /** The liveness probe's last verdict. */
  health(): RouterHealth
  /** Emits `change` with the new RouterHealth when the router stops or starts answering. */
  readonly liveness: RouterLiveness
  /**
   * The router's traffic counters now (I2PControl, and the console's transit total for a managed router);
   * rejects when the router cannot tell (down, no I2PControl configured).
   */
  traffic(): Promise<RouterReading>
  /** The tunnels the router has built for destination `b32` (managed routers: read from i2pd's console). */
  tunnels(b32: string): Promise<DestinationTunnels | undefined>
}

export interface RouterLinkComponents {
  logger: Logger
  /** Where provisioned i2pd lives. */
  cacheDir: string
  /** The liveness probe's period and deadline (default ROUTER_PROBE_INTERVAL, ROUTER_PROBE_TIMEOUT). */
  probeTiming?: { interval: number; timeout: number }
}

export async function createRouterLink(
  config: ManagedRouterConfig | AttachedRouterConfig,
  components: RouterLinkComponents,
  options: { signal?: AbortSignal } = {},
): Promise<RouterLink> {
  if (config.mode === 'attach') return attached(config, livenessOf(config.sam, components))
  const binary = await resolveI2pd(
    {
      cacheDir: components.cacheDir,
      ...(config.i2pd === undefined ? {} : { explicitPath: config.i2pd }),
      ...(config.i2pdRelease === undefined ? {} : { release: config.i2pdRelease }),
    },
    components,
    options,
  )
  const rc = await routerConfigOf(config, binary)
  return managed(config, binary, rc, components.logger, livenessOf(rc.sam, components))
}

function livenessOf(sam: SamAddress, c: RouterLinkComponents): RouterLiveness {
  const timing = c.probeTiming ?? { interval: ROUTER_PROBE_INTERVAL, timeout: ROUTER_PROBE_TIMEOUT }
  return createRouterLiveness({ sam, ...timing }, { logger: c.logger })
}

async function routerConfigOf(c: ManagedRouterConfig, binary: I2pdBinary): Promise<RouterConfig> {
  const local = '127.0.0.1'
  const port = async (p: number): Promise<number> => (p === 0 ? freePort(local) : p)
  const secret = (): string => randomBytes(16).toString('hex')
  const { mode, i2pd, samPort, i2pcontrolPort, consolePort, reseed, publishRouterInfo, ...options } = c // as i2pd takes them
  const fromRegistry = registryReseedFiles(c.dataDir)
  return {
    ...options,
    sam: { host: local, port: await port(samPort) },
    i2pcontrol: { host: local, port: await port(i2pcontrolPort), password: secret() },
    console: { host: local, port: await port(consolePort), user: 'prouter', password: secret() },
    reseed: reseed.fromRegistry
      ? { su3File: fromRegistry.su3File, urls: [], verify: true, threshold: reseed.threshold }
      : {
          urls: publicDefaults(c) ? undefined : c.reseed.urls,
          verify: reseed.verify,
          threshold: reseed.threshold,
          ...(reseed.zipFile === undefined ? {} : { zipFile: reseed.zipFile }),
          ...(reseed.su3File === undefined ? {} : { su3File: reseed.su3File }),
        },
    exploratory: { length: 2, quantity: 3 },
    logLevel: 'warn',
    ...certsDirOf(c, binary),
  }
}

/** A registry bundle is trusted through the daemon's own certificate only; else i2pd's bundled ones. */
function certsDirOf(c: ManagedRouterConfig, binary: I2pdBinary): { certsDir?: string } {
  if (c.reseed.fromRegistry) return { certsDir: registryReseedFiles(c.dataDir).certsDir }
  return binary.certsDir === undefined ? {} : { certsDir: binary.certsDir }
}

/** On the public network with no reseed source given, i2pd's own list of public reseed servers is used. */
function publicDefaults(c: ManagedRouterConfig): boolean {
  const r = c.reseed
  return c.netId === 2 && r.urls.length === 0 && r.zipFile === undefined && r.su3File === undefined
}

function managed(
  c: ManagedRouterConfig,
  binary: I2pdBinary,
  rc: RouterConfig,
  logger: Logger,
  liveness: RouterLiveness,
): RouterLink {
  const probe = async (signal: AbortSignal): Promise<void> => {
    await samHello(rc.sam, { signal })
  }
  const router = createRouter({ name: 'i2pd', binary, config: rc }, { logger, probes: [probe] })
  router.on('restartFailed', (err) => {
    logger.warn({ err }, 'i2pd restart failed; retrying')
  })
  const stats = cachedStats(() => router.stats())
  return {
    sam: rc.sam,
    router,
    routerInfoFile: c.publishRouterInfo ? routerInfoPath(c.dataDir) : undefined,
    tunnels: (b32) => destinationTunnels(rc.console, b32),
    traffic: async () => {
      const [stats, console] = await Promise.all([router.stats(), consoleTraffic(rc.console)])
      return readingOf(stats, console.transitBytes)
    },
    liveness,
    health: () => liveness.health(),
    start: async (signal) => {
      await router.start(signal === undefined ? {} : { signal })
      liveness.start()
    },
    stop: async () => {
      liveness.stop()
      await router.stop()
    },
    status: async () => ({
      mode: c.mode,
      state: router.state,
      version: binary.version,
      pid: router.pid,
      sam: rc.sam,
      ...(await stats()),
      health: liveness.health(),
    }),
  }
}

function attached(c: AttachedRouterConfig, liveness: RouterLiveness): RouterLink {
  let client: I2pControlClient | undefined
  const getClient = async (): Promise<I2pControlClient | undefined> => {
    if (c.i2pcontrol === undefined) return undefined
    if (client !== undefined) return client
    const certPem = await readFile(c.i2pcontrol.certFile, 'utf8')
    client = createI2pControlClient({ ...c.i2pcontrol, certPem })
    return client
  }
  const stats = cachedStats(async () => {
    const cl = await getClient()
    if (cl === undefined) throw noI2pControl()
    return cl.routerInfo()
  })
  return {
    sam: c.sam,
    router: undefined,
    routerInfoFile: c.routerInfoFile,
    tunnels: () => Promise.resolve(undefined), // someone else's router: its console is not ours to read
    traffic: async () => {
      const cl = await getClient()
      if (cl === undefined) throw noI2pControl()
      return readingOf(await cl.routerInfo(), undefined) // no console: no transit total
    },
    liveness,
    health: () => liveness.health(),
    start: async (signal) => {
      await samHello(c.sam, signal === undefined ? {} : { signal })
      liveness.start()
    },
    stop: () => {
      liveness.stop()
      return Promise.resolve()
    },
    status: async () => {
      const s = await stats()
      return {
        mode: 'attach',
        state: 'attached',
        version: s.stats?.version,
        pid: undefined,
        sam: c.sam,
        ...s,
        health: liveness.health(),
      }
    },
  }
}

function noI2pControl(): PRouterError {
  return new PRouterError('ERR_I2PCONTROL', 'no router.i2pcontrol configured: no router stats or counters')
}

function readingOf(stats: RouterStats, transitBytes: number | undefined): RouterReading {
  return {
    at: Date.now(),
    uptimeMs: stats.uptimeMs,
    sentBytes: stats.sentBytes,
    receivedBytes: stats.receivedBytes,
    transitBytes,
    participatingTunnels: stats.participatingTunnels,
    inboundBps: stats.inboundBps,
    outboundBps: stats.outboundBps,
  }
}

/** Router stats at most every ROUTER_STATS_TTL ms, whatever the rate of status requests. */
function cachedStats(fetch: () => Promise<RouterStats>) {
  let at = 0
  let last: { stats: RouterStats | undefined; statsError: string | undefined } = {
    stats: undefined,
    statsError: 'not read yet',
  }
  return async (): Promise<typeof last> => {
    if (Date.now() - at < ROUTER_STATS_TTL) return last
    at = Date.now()
    try {
      last = { stats: await fetch(), statsError: undefined }
    } catch (err) {
      last = { stats: undefined, statsError: err instanceof Error ? err.message : String(err) }
    }
    return last
  }
}
