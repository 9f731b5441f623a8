/**
 * A small internet in network namespaces, built with `ip` and `nft` (root only):
 *
 *                       <p>-wan: bridge br0 (198.18.0.0/24, the RFC 2544 benchmarking range)
 *        ┌──────────────┬──────┴───────┬────────────────────────┐
 *   <p>-h0 .10     <p>-h1 .11    …   <p>-x .2 (outside probe)   <p>-g0 .200 (home gateway: masquerade,
 *   (public host)  (public host)                                  │        forward only replies inwards)
 *                                                                 <p>-n0 192.168.100.2 (behind the NAT)
 *
 * Each host has its own namespace with only `lo` and `eth0`, so a process in it sees exactly one address.
 * With `wan` set there is no bridge: each host's `eth0` (a gateway's `wan0`) is a TUN device of one forwarder
 * process (../wan/forwarder.ts) that gives every link between two hosts its own delay, jitter and loss.
 * The outside probe routes every LAN to its gateway: it is the attacker who knows the private address and
 * still cannot connect. Deleting a namespace removes its interfaces, its veth peers and its nft rules, so
 * `destroy()` leaves nothing behind. Nothing is added to the namespace of the process that builds it.
 */
import { PRouterError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { startWanLinks, type WanLinks, type WanPort } from '../wan/forwarder.js'
import type { ResolvedLink } from '../wan/profile.js'
import { natRuleset } from './nat-rules.js'
import { inNamespace, ip, run } from './shell.js'

export interface TopologyInit {
  /** Namespace name prefix, unique per testnet (at most 8 characters). */
  prefix: string
  /** Hosts on the bridge, each in its own namespace. */
  publicHosts: number
  /** Hosts each behind its own masquerading gateway. */
  nattedHosts: number
  /** Further hosts each behind its own gateway, with no testnet router: for workers that run their own. */
  workerHosts?: number
  /** Emulated WAN links instead of a bridge: the forwarder binary and the link table (endpoints r0…, x). */
  wan?: { helper: string; links: (endpoints: readonly string[]) => ResolvedLink[]; logger: Logger }
}

export interface Host {
  readonly name: string
  readonly netns: string
  /** The host's only address (a private one for a NAT'ed host). */
  readonly address: string
  /** For a NAT'ed host: its gateway's namespace and the public address its traffic leaves with. */
  readonly gateway?: { readonly netns: string; readonly wanAddress: string }
}

export interface Topology {
  readonly hosts: readonly Host[]
  /** The `workerHosts`, behind NAT (WAN link names w0, w1 …). */
  readonly workerHosts: readonly Host[]
  /** The outside probe's namespace: on the bridge, with a route to every LAN through its gateway. */
  readonly outside: Host
  /** Every namespace created, in creation order. */
  readonly namespaces: readonly string[]
  /** The WAN forwarder, when the topology was built with `wan`. */
  readonly wan?: WanLinks
  destroy(): Promise<void>
}

const WAN = '198.18.0'
const PREFIX_LENGTH = 24

export function publicAddress(i: number): string {
  return `${WAN}.${10 + i}`
}

export async function createTopology(init: TopologyInit): Promise<Topology> {
  checkInit(init)
  await removeStale(init.prefix)
  const namespaces: string[] = []
  let wan: WanLinks | undefined
  const destroy = async () => {
    await wan?.stop()
    await deleteNamespaces(namespaces)
  }
  try {
    const ports: WanPort[] = []
    const hosts: Host[] = []
    for (let i = 0; i < init.publicHosts; i++) {
      const netns = await addNamespace(namespaces, `${init.prefix}-h${i}`)
      hosts.push({ name: `h${i}`, netns, address: publicAddress(i) })
      ports.push(port(`r${i}`, netns, 'eth0', publicAddress(i)))
    }
    for (let i = 0; i < init.nattedHosts; i++) {
      const host = await addNattedHost(namespaces, init.prefix, i)
      hosts.push(host)
      const gw = host.gateway as NonNullable<Host['gateway']>
      ports.push(port(`r${init.publicHosts + i}`, gw.netns, 'wan0', gw.wanAddress, [`${host.address}/24`]))
    }
    const workerHosts: Host[] = []
    for (let j = 0; j < (init.workerHosts ?? 0); j++) {
      const host = await addNattedHost(namespaces, init.prefix, init.nattedHosts + j)
      workerHosts.push(host)
      const gw = host.gateway as NonNullable<Host['gateway']>
      ports.push(port(`w${j}`, gw.netns, 'wan0', gw.wanAddress, [`${host.address}/24`]))
    }
    const outside = {
      name: 'x',
      netns: await addNamespace(namespaces, `${init.prefix}-x`),
      address: `${WAN}.2`,
    }
    ports.push(port('x', outside.netns, 'eth0', outside.address))
    if (init.wan === undefined) await bridge(namespaces, init.prefix, ports)
    else wan = await emulated(init.wan, ports)
    await routeLansViaGateways(outside.netns, [...hosts, ...workerHosts])
    return { hosts, workerHosts, outside, namespaces, destroy, ...(wan === undefined ? {} : { wan }) }
  } catch (err) {
    await destroy()
    throw err
  }
}

function port(name: string, netns: string, ifname: string, address: string, routes: string[] = []): WanPort {
  return { name, netns, ifname, address, routes }
}

/** Today's LAN: one bridge in its own namespace, a veth from it to each port. */
async function bridge(created: string[], prefix: string, ports: readonly WanPort[]): Promise<void> {
  const wan = await addNamespace(created, `${prefix}-wan`)
  await ip(wan, 'link', 'add', 'br0', 'type', 'bridge')
  await ip(wan, 'link', 'set', 'br0', 'up')
  for (const p of ports) {
    await ip(wan, 'link', 'add', `v-${p.name}`, 'type', 'veth', 'peer', 'name', p.ifname, 'netns', p.netns)
    await ip(wan, 'link', 'set', `v-${p.name}`, 'master', 'br0', 'up')
    await addressPort(p)
  }
}

/** The emulated WAN: the forwarder opens a TUN device in each port's namespace; then each is addressed. */
async function emulated(wan: NonNullable<TopologyInit['wan']>, ports: readonly WanPort[]): Promise<WanLinks> {
  const links = await startWanLinks(
    { helper: wan.helper, ports, links: wan.links(ports.map((p) => p.name)) },
    wan.logger,
  )
  try {
    for (const p of ports) await addressPort(p)
    return links
  } catch (err) {
    await links.stop()
    throw err
  }
}

async function addressPort(p: WanPort): Promise<void> {
  await ip(p.netns, 'addr', 'add', `${p.address}/${PREFIX_LENGTH}`, 'dev', p.ifname)
  await ip(p.netns, 'link', 'set', p.ifname, 'up')
}

function checkInit(init: TopologyInit): void {
  if (process.getuid?.() !== 0) {
    throw new PRouterError('ERR_NETNS', 'a NAT network needs root (network namespaces, veth pairs, nftables)')
  }
  if (!/^[a-z0-9]{1,8}$/.test(init.prefix)) throw new PRouterError('ERR_NETNS', `bad prefix "${init.prefix}"`)
  if (init.publicHosts + init.nattedHosts + (init.workerHosts ?? 0) > 90)
    throw new PRouterError('ERR_NETNS', 'at most 90 hosts')
}

async function addNamespace(created: string[], name: string): Promise<string> {
  await ip(undefined, 'netns', 'add', name)
  created.push(name)
  await ip(name, 'link', 'set', 'lo', 'up')
  return name
}

/** A host behind its own gateway; the gateway's WAN side (`wan0`) is plugged in later, with the others. */
async function addNattedHost(created: string[], prefix: string, i: number): Promise<Host> {
  const gw = await addNamespace(created, `${prefix}-g${i}`)
  const wanAddress = `${WAN}.${200 + i}`
  const netns = await addNamespace(created, `${prefix}-n${i}`)
  const lan = `192.168.${100 + i}`
  await ip(gw, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns)
  await ip(gw, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan0')
  await ip(gw, 'link', 'set', 'lan0', 'up')
  await ip(netns, 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0')
  await ip(netns, 'link', 'set', 'eth0', 'up')
  await ip(netns, 'route', 'add', 'default', 'via', `${lan}.1`)
  await run('ip', [...inNamespace(gw), 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  await run('ip', [...inNamespace(gw), 'nft', '-f', '-'], natRuleset('wan0', 'lan0'))
  return { name: `n${i}`, netns, address: `${lan}.2`, gateway: { netns: gw, wanAddress } }
}

/** The outside probe routes every LAN to its gateway: it knows the private address and still cannot connect. */
async function routeLansViaGateways(outside: string, hosts: readonly Host[]): Promise<void> {
  for (const h of hosts) {
    if (h.gateway === undefined) continue
    await ip(outside, 'route', 'add', `${h.address}/32`, 'via', h.gateway.wanAddress)
  }
}

/** Namespaces left by a run that died: removed when nothing runs in them, else refused. */
async function removeStale(prefix: string): Promise<void> {
  const stale = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))
  for (const name of stale) {
    const pids = (await ip(undefined, 'netns', 'pids', name)).trim()
    if (pids !== '') {
      throw new PRouterError('ERR_NETNS', `namespace ${name} is in use by pids ${pids.split('\n').join(',')}`)
    }
  }
  await deleteNamespaces(stale)
}

export async function listNamespaces(): Promise<string[]> {
  const out = await ip(undefined, 'netns', 'list')
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((n) => n !== '')
}

async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (const name of [...names].reverse()) {
    await ip(undefined, 'netns', 'del', name).catch(() => undefined)
  }
}
