/** What /v1/status and /v1/peers answer: a snapshot of the daemon's parts, as plain JSON. */
import type { Registry } from '../registry/index.js'
import type { BuiltTunnel, DestinationTunnels } from '../router/console.js'
import type { Inbound } from '../proxy/inbound.js'
import type { Outbound } from '../proxy/outbound.js'
import type { PeerCounters, PeerMeter } from '../metering/peer-meter.js'
import type { Metering, MeteringStatus } from './metering.js'
import type { DaemonConfig } from './config-types.js'
import type { Publisher, PublisherStatus } from './publisher.js'
import type { RouterLink, RouterLinkStatus } from './router-link.js'
import type { SessionKeeper, SessionState } from './session-keeper.js'
import type { WarmPeer, Warmer } from './warmer.js'
import type { RegistryReseedResult } from './registry-reseed.js'
import type { RouterInfoPublication } from './router-info-publisher.js'

/** How the router bootstrapped from the registry, and the last RouterInfo publication. */
export interface BootstrapStatus {
  reseed: RegistryReseedResult | undefined
  routerInfo: RouterInfoPublication | undefined
}

/** One direction's tunnels: as asked for, and (managed router) as built. */
export interface TunnelSideStatus {
  hops: number
  quantity: number
  lengthVariance: 0
  /** Tunnels up now (managed routers). */
  established?: number
  /** Hop count of each tunnel up (managed routers). */
  builtHops?: number[]
}

/** What GET /v1/status answers. */
export interface DaemonStatus {
  workerKey: string
  b32: string
  endpoint: string
  uptimeMs: number
  router: RouterLinkStatus
  session: { state: SessionState; since: string; generation: number }
  tunnels: { inbound: TunnelSideStatus; outbound: TunnelSideStatus }
  binding: PublisherStatus & { registry: string }
  bootstrap: BootstrapStatus
  peers: {
    /** Other workers in the registry (undefined: the registry did not answer). */
    known: number | undefined
    warm: number
    streamsOut: number
    streamsIn: number
  }
  metering: MeteringStatus
  /** The local API's URL. */
  api: string
}

/** A peer's counters as /v1/peers shows them: no histogram buckets, the mean latency each way instead. */
export interface PeerTrafficView extends Omit<PeerCounters, 'peer' | 'latencyIn' | 'latencyOut'> {
  errors: number
  meanMsIn: number | undefined
  meanMsOut: number | undefined
}

/** One peer in GET /v1/peers: known from the registry, from traffic, or both. */
export interface PeerStatus {
  workerKey: string
  endpoints: readonly string[]
  signingTime: string | undefined
  warm: WarmPeer | undefined
  streamsOut: number
  traffic: PeerTrafficView | undefined
}

/** What GET /v1/peers answers. */
export interface PeerList {
  peers: PeerStatus[]
}

export interface StatusSources {
  config: Readonly<DaemonConfig>
  workerKey: string
  b32: string
  endpoint: string
  startedAt: number
  apiUrl: string
  router: RouterLink
  session: SessionKeeper
  publisher: Publisher
  warmer: Warmer
  registry: Registry
  peers: PeerMeter
  metering: Metering
  outbound: Outbound
  inbound: Inbound
  bootstrap: BootstrapStatus
}

export async function daemonStatus(s: StatusSources): Promise<DaemonStatus> {
  const router = await s.router.status()
  const built = await s.router.tunnels(s.b32).catch(() => undefined)
  const known = await s.registry.list().then(
    (all) => all.filter((b) => b.workerKey !== s.workerKey).length,
    () => undefined,
  )
  const warm = [...s.warmer.peers.values()]
  const streams = streamsOpen(s.outbound, s.inbound)
  return {
    workerKey: s.workerKey,
    b32: s.b32,
    endpoint: s.endpoint,
    uptimeMs: Date.now() - s.startedAt,
    router,
    session: {
      state: s.session.state,
      since: new Date(s.session.since).toISOString(),
      generation: s.session.generation,
    },
    tunnels: effectiveTunnels(s.config, built),
    binding: { ...s.publisher.status, registry: s.registry.backend.kind },
    bootstrap: s.bootstrap,
    peers: {
      known,
      warm: warm.filter((p) => p.ok).length,
      streamsOut: streams.out,
      streamsIn: streams.in,
    },
    metering: s.metering.status(),
    api: s.apiUrl,
  }
}

/**
 * Hops and tunnel counts as the session asked for them (lengthVariance pinned to 0, so i2pd neither
 * lengthens nor shortens them), and — for a managed router — the tunnels it has actually built, read from
 * its console: `established` is how many are up, `builtHops` the hop count of each.
 */
function effectiveTunnels(
  c: Readonly<DaemonConfig>,
  built: DestinationTunnels | undefined,
): DaemonStatus['tunnels'] {
  const side = (
    h: { length: number; quantity: number },
    tunnels: BuiltTunnel[] | undefined,
  ): TunnelSideStatus => {
    const up = tunnels?.filter((t) => t.state === 'established')
    return {
      hops: h.length,
      quantity: h.quantity,
      lengthVariance: 0,
      ...(up === undefined ? {} : { established: up.length, builtHops: up.map((t) => t.hops) }),
    }
  }
  return {
    inbound: side(c.tunnels.inbound, built?.inbound),
    outbound: side(c.tunnels.outbound, built?.outbound),
  }
}

export async function peerList(s: StatusSources): Promise<PeerList> {
  s.metering.streams.flush() // the bytes of open streams up to now
  const bindings = await s.registry.list().catch(() => [])
  const open = s.outbound.openStreams()
  const keys = new Set([...bindings.map((b) => b.workerKey), ...s.peers.all().map((p) => p.peer)])
  keys.delete(s.workerKey)
  const byKey = new Map(bindings.map((b) => [b.workerKey, b]))
  const peers = [...keys].map((workerKey): PeerStatus => {
    const b = byKey.get(workerKey)
    return {
      workerKey,
      endpoints: b?.endpoints ?? [],
      signingTime: b === undefined ? undefined : new Date(b.signingTime).toISOString(),
      warm: s.warmer.peers.get(workerKey),
      streamsOut: open.get(workerKey) ?? 0,
      traffic: trafficView(s.peers.get(workerKey)),
    }
  })
  return { peers }
}

/** A peer's counters without the histograms' buckets: mean latency each way instead. */
function trafficView(p: PeerCounters | undefined): PeerTrafficView | undefined {
  if (p === undefined) return undefined
  const { latencyIn, latencyOut, peer: _peer, ...counts } = p
  const mean = (h: PeerCounters['latencyIn']) =>
    h.count === 0 ? undefined : Math.round((h.sum / h.count) * 10) / 10
  const errors = counts.errorsIn + counts.errorsOut
  return { ...counts, errors, meanMsIn: mean(latencyIn), meanMsOut: mean(latencyOut) }
}

/** I2P streams open now, each way. */
export function streamsOpen(outbound: Outbound, inbound: Inbound): { in: number; out: number } {
  let out = 0
  for (const n of outbound.openStreams().values()) out += n
  return { in: inbound.open, out }
}
