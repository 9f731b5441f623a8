/** Planning a testnet: which router is which (floodfill, reachable), its addresses and its i2pd config. */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { RouterConfig } from '../router/config.js'
import type { RouterRecord } from './state.js'
import { freePort, loopbackPrefix, routerHost } from './ports.js'

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
  return {
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
}

function secret(): string {
  return randomBytes(12).toString('hex')
}
