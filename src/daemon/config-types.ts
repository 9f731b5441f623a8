/**
 * The daemon's configuration, as every module receives it: validated once (config.ts) from defaults, a JSON
 * file, `PROUTER_*` environment variables and command-line flags (later layers win), then frozen.
 * Durations are milliseconds, sizes bytes.
 */
import type { RegistrySpec } from '../registry/index.js'
import type { RouterConfig } from '../router/config.js'
import type { OutboundInit } from '../proxy/outbound.js'
import type { RelayLimits } from '../proxy/relay.js'
import type { I2pdRelease } from '../router/releases.js'

export interface HopConfig {
  /** Hops, 0..7. */
  length: number
  /** Tunnels, 1..16. */
  quantity: number
}

/** The i2pd options an operator sets as they are (documented in src/router/config.ts and docs/config.md). */
export type RouterOptions = Pick<
  RouterConfig,
  | 'dataDir'
  | 'host'
  | 'port'
  | 'netId'
  | 'published'
  | 'floodfill'
  | 'bandwidth'
  | 'reservedRange'
  | 'nat'
  | 'ssu2'
  | 'ipv6'
  | 'transit'
>

/** PRouter starts and supervises its own i2pd (config, keys, restart). */
export interface ManagedRouterConfig extends RouterOptions {
  mode: 'managed'
  /** An explicit i2pd binary; default: PATH, the cache, else provision Debian forky's (DEFAULT_I2PD_RELEASE). */
  i2pd: string | undefined
  /** Run this Debian release's i2pd (cached or provisioned, PATH not searched); ignored with `i2pd`. */
  i2pdRelease: I2pdRelease | undefined
  /** Loopback ports of the router's own SAM, I2PControl and web console; 0 = choose a free one at start. */
  samPort: number
  i2pcontrolPort: number
  consolePort: number
  reseed: {
    zipFile: string | undefined
    su3File: string | undefined
    urls: string[]
    verify: boolean
    threshold: number
    /**
     * Build the router's reseed bundle from the RouterInfos in the registry before each start (SU3 signed by
     * the daemon's reseed key, verified by i2pd); excludes zipFile and su3File.
     */
    fromRegistry: boolean
  }
  /** Publish the router's RouterInfo to the registry when others can use it (floodfill or reachable). */
  publishRouterInfo: boolean
}

/** PRouter uses an i2pd someone else runs. */
export interface AttachedRouterConfig {
  mode: 'attach'
  sam: { host: string; port: number }
  /** Router stats for /v1/status; optional (status then shows SAM only). */
  i2pcontrol: { host: string; port: number; password: string; certFile: string } | undefined
  /** The attached router's router.info, to publish to the registry (optional). */
  routerInfoFile: string | undefined
}

export interface DaemonConfig {
  /** Folder of the daemon's state (default `.prouter`). */
  dataDir: string
  /** Worker key and I2P key files (default `<dataDir>/keys`). */
  keysDir: string
  router: ManagedRouterConfig | AttachedRouterConfig
  tunnels: {
    inbound: HopConfig
    outbound: HopConfig
    /** Most packets one I2P stream keeps unacknowledged (i2pd's `i2p.streaming.maxWindowSize`, >= 2.58). */
    maxStreamWindow: number
  }
  registry: RegistrySpec
  api: {
    /** Must be a loopback address. */
    host: string
    /** 0 = any free port (read it back from the daemon). */
    port: number
    /** Bearer token of the local API (from apiTokenFile, else generated into `<dataDir>/api.token`, 0600). */
    token: string
  }
  /** Where inbound requests go: the worker's own service (e.g. pRuntime), `http://host:port[/base]`. */
  service: { url: string | undefined }
  inbound: {
    allowAnonymous: boolean
    /** Exact paths, or prefixes ending in `*`; undefined = every path. */
    allowPaths: string[] | undefined
    maxStreams: number
    /** Streams one caller address (source b32) may hold at once; more are refused (ERR_TOO_MANY_STREAMS). */
    maxStreamsPerCaller: number
    /** An anonymous caller's stream with no request in progress is closed after this (ms). */
    anonymousIdleTimeout: number
    /** Per calling worker (anonymous callers share one bucket). */
    rateLimit: { perSecond: number; burst: number }
  }
  /** The outbound relay's own options (src/proxy/outbound.ts); its byte and time limits are `limits`. */
  outbound: Omit<OutboundInit, keyof RelayLimits | 'self'>
  limits: { maxHeaderBytes: number; maxBodyBytes: number; idleTimeout: number; requestTimeout: number }
  /** Keep streams to these peers open and their LeaseSets fresh: 'all' registry peers, none, or a list of keys. */
  warm: { peers: 'all' | 'none' | string[]; interval: number; max: number }
  publish: { enabled: boolean; refreshInterval: number }
  /** Messages between workers (docs/messages.md): a datagram session of its own, POST /v1/messages. */
  messages: {
    enabled: boolean
    /** Received messages are POSTed to `service.url` + this path. */
    path: string
    /** Deliver messages whose sender has no binding (x-prouter-caller: anonymous). */
    allowAnonymous: boolean
    /** How long POST /v1/messages waits for the receiver's ACK (ms). */
    sendTimeout: number
    /** The SAM bridge's UDP port; undefined: the SAM TCP port - 1 (i2pd's default). */
    samUdpPort: number | undefined
    /** Messages taken from one sender (its key; an anonymous one by its datagram destination). */
    rateLimit: { perSecond: number; burst: number }
  }
  metering: {
    /** Length of a usage report's period (aligned to the epoch). */
    period: number
    /** How often router counters are read and the plots get a point. */
    sampleInterval: number
    /** How often the open period is saved (what a crash can lose). */
    checkpointInterval: number
    /** Named peers counted apart; more share the row `other`. */
    maxPeers: number
    /** Publish each closed period's signed report to the registry. */
    publishReports: boolean
  }
}
