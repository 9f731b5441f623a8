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
 * The outside probe routes every LAN to its gateway: it is the attacker who knows the private address and
 * still cannot connect. Deleting a namespace removes its interfaces, its veth peers and its nft rules, so
 * `destroy()` leaves nothing behind. Nothing is added to the namespace of the process that builds it.
 */
import { PRouterError } from '../../errors.js'
import { natRuleset } from './nat-rules.js'
import { inNamespace, ip, run } from './shell.js'

export interface TopologyInit {
  /** Namespace name prefix, unique per testnet (at most 8 characters). */
  prefix: string
  /** Hosts on the bridge, each in its own namespace. */
  publicHosts: number
  /** Hosts each behind its own masquerading gateway. */
  nattedHosts: number
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
  /** The outside probe's namespace: on the bridge, with a route to every LAN through its gateway. */
  readonly outside: Host
  /** Every namespace created, in creation order. */
  readonly namespaces: readonly string[]
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
  const destroy = () => deleteNamespaces(namespaces)
  try {
    const wan = await addNamespace(namespaces, `${init.prefix}-wan`)
    await ip(wan, 'link', 'add', 'br0', 'type', 'bridge')
    await ip(wan, 'link', 'set', 'br0', 'up')
    const hosts: Host[] = []
    for (let i = 0; i < init.publicHosts; i++) {
      const netns = await addNamespace(namespaces, `${init.prefix}-h${i}`)
      hosts.push({
        name: `h${i}`,
        netns,
        address: await plugIntoWan(wan, netns, `v-h${i}`, publicAddress(i)),
      })
    }
    for (let i = 0; i < init.nattedHosts; i++)
      hosts.push(await addNattedHost(namespaces, wan, init.prefix, i))
    const outside = await addOutside(namespaces, wan, init.prefix, hosts)
    return { hosts, outside, namespaces, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

function checkInit(init: TopologyInit): void {
  if (process.getuid?.() !== 0) {
    throw new PRouterError('ERR_NETNS', 'a NAT network needs root (network namespaces, veth pairs, nftables)')
  }
  if (!/^[a-z0-9]{1,8}$/.test(init.prefix)) throw new PRouterError('ERR_NETNS', `bad prefix "${init.prefix}"`)
  if (init.publicHosts + init.nattedHosts > 90) throw new PRouterError('ERR_NETNS', 'at most 90 hosts')
}

async function addNamespace(created: string[], name: string): Promise<string> {
  await ip(undefined, 'netns', 'add', name)
  created.push(name)
  await ip(name, 'link', 'set', 'lo', 'up')
  return name
}

/** A veth from the bridge into `netns` (as its eth0, or `inner`), addressed on the WAN; returns the address. */
async function plugIntoWan(wan: string, netns: string, outer: string, address: string, inner = 'eth0') {
  await ip(wan, 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', netns)
  await ip(wan, 'link', 'set', outer, 'master', 'br0', 'up')
  await ip(netns, 'addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', inner)
  await ip(netns, 'link', 'set', inner, 'up')
  return address
}

async function addNattedHost(created: string[], wan: string, prefix: string, i: number): Promise<Host> {
  const gw = await addNamespace(created, `${prefix}-g${i}`)
  const wanAddress = await plugIntoWan(wan, gw, `v-g${i}`, `${WAN}.${200 + i}`, 'wan0')
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

async function addOutside(created: string[], wan: string, prefix: string, hosts: readonly Host[]) {
  const netns = await addNamespace(created, `${prefix}-x`)
  const address = await plugIntoWan(wan, netns, 'v-x', `${WAN}.2`)
  for (const h of hosts) {
    if (h.gateway === undefined) continue
    await ip(netns, 'route', 'add', `${h.address}/32`, 'via', h.gateway.wanAddress)
  }
  return { name: 'x', netns, address }
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
