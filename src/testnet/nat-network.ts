/**
 * The namespaces side of a NAT testnet: a topology (netns/topology.ts) with one router per host, an agent in
 * each host's namespace, and loopback forwards here to each router's SAM, I2PControl and web console (bound
 * inside its namespace). Routers keep their transports inside the namespaces: only their control ports are
 * reachable from this process, through the file system, never through a network path.
 */
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostPort } from '../router/config.js'
import type { Logger } from '../logger.js'
import { startAgent, type Agent, type ProbeResult } from './netns/agent.js'
import { linkTable, type WanProfile } from './wan/profile.js'
import { createTopology, type Host, type Topology } from './netns/topology.js'

/** Ports every router binds inside its own namespace (each namespace has its own port space). */
export const NETNS_PORTS = { transport: 20_000, sam: 7656, i2pcontrol: 7650, console: 7070 } as const
const INSIDE = '127.0.0.1'

export interface ControlForwards {
  sam: HostPort
  i2pcontrol: HostPort
  console: HostPort
}

export interface NatNetwork {
  readonly topology: Topology
  /** Per router host, in topology order: where this process reaches its control ports. */
  readonly forwards: readonly ControlForwards[]
  /** A loopback port here whose connections reach `target` inside host `name`'s namespace. */
  forward(name: string, target: HostPort): Promise<HostPort>
  /** A loopback address inside host `name`'s namespace whose connections reach `target` here. */
  expose(name: string, target: HostPort): Promise<HostPort>
  /** Try a TCP connection from inside `from` (a host name, or 'outside' for the outside probe). */
  probe(from: string, target: HostPort, timeoutMs?: number): Promise<ProbeResult>
  destroy(): Promise<void>
}

/** The namespace prefix a testnet in `dir` uses (so a crashed run's namespaces are found again). */
export function netnsPrefix(dir: string): string {
  return `p${createHash('sha256').update(dir).digest('hex').slice(0, 5)}`
}

export async function createNatNetwork(
  init: {
    dir: string
    publicHosts: number
    nattedHosts: number
    workerHosts?: number
    wan?: { helper: string; profile: WanProfile }
  },
  logger: Logger,
): Promise<NatNetwork> {
  const { wan, ...hosts } = init
  const topology = await createTopology({
    prefix: netnsPrefix(init.dir),
    ...hosts,
    ...(wan === undefined || wan.profile === 'lan'
      ? {}
      : { wan: { helper: wan.helper, links: (eps) => linkTable(wan.profile, eps), logger } }),
  })
  const agents = new Map<string, Agent>()
  const destroy = async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()))
    await topology.destroy()
  }
  try {
    const socketDir = join(init.dir, 'agents')
    await mkdir(socketDir, { recursive: true, mode: 0o700 })
    for (const host of [...topology.hosts, ...topology.workerHosts, topology.outside]) {
      agents.set(host.name, await startAgent(host.netns, join(socketDir, `${host.name}.sock`), logger))
    }
    const forwards = await Promise.all(topology.hosts.map((h) => forwardControl(agentOf(agents, h))))
    const probe = (from: string, target: HostPort, timeoutMs = 3000) =>
      agentOf(agents, { name: from }).probe(target, timeoutMs)
    const forward = (name: string, target: HostPort) => agentOf(agents, { name }).forward(target)
    const expose = (name: string, target: HostPort) => agentOf(agents, { name }).expose(target)
    return { topology, forwards, probe, forward, expose, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

function agentOf(agents: ReadonlyMap<string, Agent>, host: Pick<Host, 'name'>): Agent {
  const agent = agents.get(host.name)
  if (agent === undefined) throw new Error(`no agent for host ${host.name}`)
  return agent
}

async function forwardControl(agent: Agent): Promise<ControlForwards> {
  return {
    sam: await agent.forward({ host: INSIDE, port: NETNS_PORTS.sam }),
    i2pcontrol: await agent.forward({ host: INSIDE, port: NETNS_PORTS.i2pcontrol }),
    console: await agent.forward({ host: INSIDE, port: NETNS_PORTS.console }),
  }
}
