/**
 * Typed router options -> i2pd.conf. Every option PRouter depends on is written out explicitly, so a
 * router's behaviour never rests on a version's defaults; booleans go to the file because i2pd's command
 * line cannot set them to false.
 */
import { invalidOption } from '../errors.js'

export interface HostPort {
  host: string
  port: number
}

export interface RouterConfig {
  dataDir: string
  /**
   * Address i2pd binds its transports to and publishes (NTCP2). Undefined: i2pd binds every address and
   * learns its public one from peers (SSU2) — what a router behind NAT needs.
   */
  host?: string
  /** NTCP2 port (0: let i2pd choose). */
  port: number
  netId: number
  /** Publish a reachable NTCP2 address. false: the router is unreachable (only outbound connections). */
  published: boolean
  floodfill: boolean
  /** Bandwidth class letter (L, O, P, X) or KB/s. Non-floodfills of class L are never chosen as hops. */
  bandwidth: string
  /** Refuse peers in reserved ranges (true on the public network; false on a loopback testnet). */
  reservedRange: boolean
  /** Assume NAT (true: wait for peer tests before publishing as reachable). */
  nat: boolean
  ssu2: boolean
  ipv6: boolean
  /** Accept transit tunnels. */
  transit: boolean
  sam: HostPort
  i2pcontrol: HostPort & { password: string }
  /** Web console (transit tunnel bytes live only there); always basic-auth protected. */
  console: HostPort & { user: string; password: string }
  reseed: ReseedConfig
  exploratory: { length: number; quantity: number }
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'none'
  certsDir?: string
}

export interface ReseedConfig {
  /** A zip of router.info files (private networks). */
  zipFile?: string
  /** An SU3 file or URL. */
  su3File?: string
  /** HTTPS reseed URLs; empty for private networks so nothing is fetched from the internet; undefined: i2pd's own list. */
  urls: readonly string[] | undefined
  verify: boolean
  threshold: number
}

export function validateRouterConfig(c: RouterConfig): RouterConfig {
  checkPort('port', c.port, true)
  checkPort('sam.port', c.sam.port, false)
  checkPort('i2pcontrol.port', c.i2pcontrol.port, false)
  checkPort('console.port', c.console.port, false)
  if (!Number.isInteger(c.netId) || c.netId < 1 || c.netId > 255)
    throw invalidOption('netId', 'must be 1..255')
  if (!/^([LOPX]|\d+)$/.test(c.bandwidth)) throw invalidOption('bandwidth', 'must be L, O, P, X or KB/s')
  if (c.i2pcontrol.password.length === 0) throw invalidOption('i2pcontrol.password', 'must not be empty')
  if (c.console.password.length === 0) throw invalidOption('console.password', 'must not be empty')
  const texts = {
    ...(c.host === undefined ? {} : { host: c.host }),
    'sam.host': c.sam.host,
    dataDir: c.dataDir,
  }
  for (const [k, v] of Object.entries(texts)) {
    if (/[\s#=]/.test(v) || v.length === 0)
      throw invalidOption(k, `"${v}" must be non-empty without spaces, # or =`)
  }
  return c
}

function checkPort(name: string, port: number, zeroOk: boolean): void {
  if (!Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) {
    throw invalidOption(name, `${port} is not a TCP port`)
  }
}

type Section = Record<string, string | number | boolean>

/** The i2pd.conf text for `c` (validated). */
export function renderI2pdConf(c: RouterConfig): string {
  const sections: Array<[string, Section]> = [
    ['', mainSection(c)],
    ['ntcp2', { enabled: true, published: c.published, port: c.port }],
    ['ssu2', { enabled: c.ssu2, published: c.ssu2 && c.published, port: c.port }],
    ['http', consoleSection(c)],
    ['httpproxy', { enabled: false }],
    ['socksproxy', { enabled: false }],
    ['sam', { enabled: true, address: c.sam.host, port: c.sam.port, singlethread: false }],
    ['bob', { enabled: false }],
    ['i2cp', { enabled: false }],
    ['i2pcontrol', i2pcontrolSection(c)],
    ['upnp', { enabled: false }],
    ['reseed', reseedSection(c.reseed)],
    ['addressbook', { enabled: false }],
    ['nettime', { enabled: false }],
    ['exploratory', exploratorySection(c)],
  ]
  return sections.map(([name, s]) => renderSection(name, s)).join('\n')
}

function mainSection(c: RouterConfig): Section {
  const s: Section = {
    log: 'stdout',
    loglevel: c.logLevel,
    datadir: c.dataDir,
    tunconf: `${c.dataDir}/tunnels.conf`,
    tunnelsdir: `${c.dataDir}/tunnels.d`,
    pidfile: `${c.dataDir}/i2pd.pid`,
    port: c.port,
    ipv4: true,
    ipv6: c.ipv6,
    nat: c.nat,
    netid: c.netId,
    reservedrange: c.reservedRange,
    floodfill: c.floodfill,
    bandwidth: c.bandwidth,
    notransit: !c.transit,
    daemon: false,
  }
  if (c.host !== undefined) Object.assign(s, { host: c.host, address4: c.host })
  if (c.certsDir !== undefined) s.certsdir = c.certsDir
  return s
}

function consoleSection(c: RouterConfig): Section {
  return {
    enabled: true,
    address: c.console.host,
    port: c.console.port,
    auth: true,
    user: c.console.user,
    pass: c.console.password,
    strictheaders: false,
  }
}

function i2pcontrolSection(c: RouterConfig): Section {
  return {
    enabled: true,
    address: c.i2pcontrol.host,
    port: c.i2pcontrol.port,
    password: c.i2pcontrol.password,
    cert: `${c.dataDir}/i2pcontrol.crt.pem`,
    key: `${c.dataDir}/i2pcontrol.key.pem`,
  }
}

function reseedSection(r: ReseedConfig): Section {
  const s: Section = { verify: r.verify, threshold: r.threshold, yggurls: '' }
  if (r.urls !== undefined) s.urls = r.urls.join(',')
  if (r.zipFile !== undefined) s.zipfile = r.zipFile
  if (r.su3File !== undefined) s.file = r.su3File
  return s
}

function exploratorySection(c: RouterConfig): Section {
  const { length, quantity } = c.exploratory
  return {
    'inbound.length': length,
    'outbound.length': length,
    'inbound.quantity': quantity,
    'outbound.quantity': quantity,
  }
}

function renderSection(name: string, s: Section): string {
  const head = name === '' ? '' : `[${name}]\n`
  const lines = Object.entries(s).map(([k, v]) => `${k} = ${String(v)}`)
  return `${head}${lines.join('\n')}\n`
}
