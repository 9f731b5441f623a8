/** Planning a testnet: which router is which (floodfill, reachable), its addresses and its i2pd config. */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { RouterConfig } from '../router/config.js'
import type { RouterRecord } from './state.js'
import { freePort, loopbackPrefix, routerHost } from './ports.js'
import { NETNS_PORTS, type NatNetwork } from './nat-network.js'

export interface PlanInit {
  dir: string
  routers: number
  floodfills: number
  /** How many routers (the last ones) publish no address: reachable only through their own tunnels. */
  unreachable: number
}

export async function planRouters(init: PlanInit): Promise<RouterRecord[]> {
  const prefix = loopbackPrefix(init.dir)
  const records: RouterRecord[] = []
  for (let i = 0; i < init.routers; i++) {
    const host = routerHost(prefix, i)
    records.push({
      name: `r${i}`,
      dataDir: join(init.dir, `r${i}`),
      host,
      ntcp2Port: await freePort(host),
      reachable: i < init.routers - init.unreachable,
      floodfill: i < init.floodfills,
      sam: { host, port: await freePort(host) },
      i2pcontrol: { host, port: await freePort(host), password: secret() },
      console: { host, port: await freePort(host), user: 'prouter', password: secret() },
    })
  }
  return records
}

export function routerConfig(
  r: RouterRecord,
  netId: number,
  reseed: RouterConfig['reseed'],
  certsDir?: string,
): RouterConfig {
  const config: RouterConfig = {
    dataDir: r.dataDir,
    host: r.host,
    port: r.ntcp2Port,
    netId,
    published: r.reachable,
    floodfill: r.floodfill,
    bandwidth: 'X',
    reservedRange: false,
    nat: false,
    ssu2: false,
    ipv6: false,
    transit: true,
    sam: r.sam,
    i2pcontrol: r.i2pcontrol,
    console: r.console,
    reseed,
    exploratory: { length: 1, quantity: 2 },
    logLevel: 'warn',
    ...(certsDir === undefined ? {} : { certsDir }),
  }
  return r.netns === undefined ? config : netnsRouterConfig(r, config)
}

function secret(): string {
  return randomBytes(12).toString('hex')
}

/** A NAT testnet's routers: one per host of `net`, in topology order (the NAT'ed ones last). */
export function planNatRouters(dir: string, floodfills: number, net: NatNetwork): RouterRecord[] {
  return net.topology.hosts.map((host, i) => {
    const forwards = net.forwards[i]
    if (forwards === undefined) throw new Error(`no forwards for ${host.name}`)
    const behindNat = host.gateway !== undefined
    return {
      name: `r${i}`,
      dataDir: join(dir, `r${i}`),
      host: host.address,
      ntcp2Port: NETNS_PORTS.transport,
      reachable: !behindNat,
      floodfill: i < floodfills,
      sam: forwards.sam,
      i2pcontrol: { ...forwards.i2pcontrol, password: secret() },
      console: { ...forwards.console, user: 'prouter', password: secret() },
      netns: host.netns,
      behindNat,
    }
  })
}

/**
 * A router in its own namespace runs as on a real host: NTCP2 and SSU2 on, its control ports on the
 * namespace's loopback. A public one publishes its address; one behind NAT binds every address, publishes
 * nothing fixed and finds out from its peers (SSU2 peer tests) that it is firewalled.
 */
function netnsRouterConfig(r: RouterRecord, base: RouterConfig): RouterConfig {
  const inside = '127.0.0.1'
  const { host: _host, ...rest } = base
  return {
    ...rest,
    ...(r.behindNat === true ? {} : { host: r.host }),
    port: NETNS_PORTS.transport,
    published: true,
    nat: r.behindNat === true,
    ssu2: true,
    sam: { host: inside, port: NETNS_PORTS.sam },
    i2pcontrol: { ...r.i2pcontrol, host: inside, port: NETNS_PORTS.i2pcontrol },
    console: { ...r.console, host: inside, port: NETNS_PORTS.console },
  }
}
