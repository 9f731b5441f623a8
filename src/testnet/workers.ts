/**
 * A local PRouter network, as a library (the demo and the tests use it): a private I2P testnet, the local
 * registry served over loopback HTTP, and workers — each with keys, a sample service and a daemon. By default
 * three: alice and bob each supervise their own router (which joins the testnet from the registry alone: the
 * testnet's RouterInfos are published there, and each daemon builds its router a signed reseed bundle);
 * charlie attaches to a testnet router that publishes no address, so it is reachable only through its tunnels.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { routerInfoPath } from '../router/data-dir.js'
import type { Logger } from '../logger.js'
import { invalidOption } from '../errors.js'
import type { I2pdBinary } from '../router/binary.js'
import { freePort } from '../router/free-port.js'
import { initKeyStore } from '../identity/index.js'
import { openLocalStore, type LocalStore } from '../registry/local/store.js'
import { localStorePath } from '../registry/open.js'
import { createRegistryServer, type RegistryServer } from '../registry/local/server.js'
import { loadDaemonConfig, mergeConfigInput, type DaemonConfigInput } from '../daemon/config.js'
import { createDaemon, type Daemon } from '../daemon/daemon.js'
import { createTestnet, type Testnet } from './testnet.js'
import { loopbackPrefix } from './ports.js'
import type { RouterRecord } from './state.js'
import { startSampleService, type SampleService } from './sample-service.js'
import { NETNS_PORTS } from './nat-network.js'
import type { Host } from './netns/topology.js'
import type { WanProfile } from './wan/profile.js'

export interface WorkerSpec {
  name: string
  /** Secret URI of the worker key (`//Alice` …). */
  suri: string
  /**
   * 'managed': the daemon runs its own router; else the testnet router (by index) it attaches to. On a NAT
   * network a managed worker gets a host of its own behind NAT (`WorkerNode.netns`) and must be `start: false`:
   * its `prouter run` runs inside that namespace (`ip netns exec`), its i2pd with it.
   */
  router: 'managed' | { attach: number }
  /** Extra daemon options (limits, inbound policy …). */
  config?: DaemonConfigInput
  /** false: only prepare keys, service and config (the caller runs the daemon, e.g. as a process). */
  start?: boolean
}

export interface WorkerNetInit {
  dir: string
  binary: I2pdBinary
  /** Tunnel length, both directions (default 1). */
  hops?: number
  /**
   * 'loopback' (default): 4 testnet routers on loopback IPs, the last one publishing no address.
   * 'nat' (root): 6 routers each in its own network namespace, the last one behind a NAT (see testnet.ts);
   * workers can then only attach to testnet routers.
   */
  network?: 'loopback' | 'nat'
  /** NAT network: the links between hosts (testnet.ts `wan`; default 'lan'). */
  wan?: WanProfile
  /** NAT network: how many testnet routers (default 6; the last one behind NAT). */
  routers?: number
  workers?: readonly WorkerSpec[]
  cacheDir?: string
}

export interface WorkerNode {
  readonly name: string
  readonly workerKey: string
  readonly service: SampleService
  /** The daemon's options (what `prouter run --config` would take). */
  readonly input: DaemonConfigInput
  /** Undefined for a worker with `start: false`. */
  readonly daemon: Daemon | undefined
  /** A managed worker on a NAT network: its host behind NAT, where its `prouter run` must run. */
  readonly host?: Host
}

export interface WorkerNet {
  readonly testnet: Testnet
  readonly registryUrl: string
  readonly registryToken: string
  readonly workers: readonly WorkerNode[]
  worker(name: string): WorkerNode
  destroy(): Promise<void>
}

export const DEFAULT_WORKERS: readonly WorkerSpec[] = [
  { name: 'alice', suri: '//Alice', router: 'managed' },
  { name: 'bob', suri: '//Bob', router: 'managed' },
  { name: 'charlie', suri: '//Charlie', router: { attach: 3 } },
]

/**
 * On a NAT network: alice on a public router; charlie, as deployed, behind his own NAT with his own i2pd —
 * his `prouter run` is the caller's to start in his namespace (worker-process.ts).
 */
export const DEFAULT_NAT_WORKERS: readonly WorkerSpec[] = [
  { name: 'alice', suri: '//Alice', router: { attach: 4 } },
  { name: 'charlie', suri: '//Charlie', router: 'managed', start: false },
]

export async function createWorkerNet(
  init: WorkerNetInit,
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<WorkerNet> {
  const nat = init.network === 'nat'
  const specs = init.workers ?? (nat ? DEFAULT_NAT_WORKERS : DEFAULT_WORKERS)
  const natManaged = nat ? specs.filter((w) => w.router === 'managed') : []
  if (natManaged.some((w) => w.start !== false)) {
    throw invalidOption(
      'workers',
      'a managed worker on a NAT network runs as a process in its namespace: start: false',
    )
  }
  const testnet = await createTestnet(
    {
      dir: join(init.dir, 'testnet'),
      binary: init.binary,
      routers: nat ? (init.routers ?? 6) : 4,
      floodfills: 2,
      unreachable: 1,
      network: init.network ?? 'loopback',
      ...(nat ? { workerHosts: natManaged.length } : {}),
      ...(init.wan === undefined ? {} : { wan: init.wan }),
      ...(init.cacheDir === undefined ? {} : { cacheDir: init.cacheDir }),
    },
    components,
    options,
  )
  const cleanup: Array<() => Promise<void>> = [() => testnet.destroy()]
  const destroy = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined)
  }
  try {
    const registry = await serveRegistry(init.dir, components.logger)
    cleanup.push(() => registry.close())
    await publishRouterInfos(registry.store, testnet.state.routers)
    const ctx = { init, testnet, registryUrl: registry.url, registryToken: registry.token }
    const hosts = [...(testnet.nat?.topology.workerHosts ?? [])]
    const workers = await Promise.all(
      specs.map((spec, i) => {
        const host = nat && spec.router === 'managed' ? hosts.shift() : undefined
        return prepareWorker(
          { ...ctx, ...(host === undefined ? {} : { host }) },
          spec,
          i,
          cleanup,
          components,
        )
      }),
    )
    await Promise.all(workers.map((w) => w.daemon?.start(options) ?? Promise.resolve()))
    const worker = (name: string): WorkerNode => {
      const found = workers.find((w) => w.name === name)
      if (found === undefined) throw new Error(`no worker ${name}`)
      return found
    }
    return { testnet, registryUrl: registry.url, registryToken: registry.token, workers, worker, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

async function serveRegistry(
  dir: string,
  logger: Logger,
): Promise<{ url: string; token: string; store: LocalStore; close: () => Promise<void> }> {
  const store: LocalStore = openLocalStore({ path: localStorePath(join(dir, 'registry')) }, { logger })
  const token = randomBytes(16).toString('hex')
  const server: RegistryServer = createRegistryServer({ store, token }, { logger })
  const url = await server.listen()
  return {
    url,
    token,
    store,
    close: async () => {
      await server.close()
      await store.close()
    },
  }
}

/**
 * The testnet's reachable routers go into the registry as their operators' daemons would put them, so a
 * worker's own router can bootstrap from the registry alone.
 */
async function publishRouterInfos(store: LocalStore, routers: readonly RouterRecord[]): Promise<void> {
  for (const r of routers.filter((rec) => rec.reachable)) {
    await store.routerInfos.publish(await readFile(routerInfoPath(r.dataDir)))
  }
}

interface NetContext {
  init: WorkerNetInit
  testnet: Testnet
  registryUrl: string
  registryToken: string
  /** A managed worker's own host behind NAT. */
  host?: Host
}

async function prepareWorker(
  ctx: NetContext,
  spec: WorkerSpec,
  index: number,
  cleanup: Array<() => Promise<void>>,
  components: { logger: Logger },
): Promise<WorkerNode> {
  const dataDir = join(ctx.init.dir, 'workers', spec.name)
  const keys = await initKeyStore(join(dataDir, 'keys'), { suri: spec.suri, force: true })
  const service = await startSampleService(spec.name)
  cleanup.push(() => service.close())
  const base =
    ctx.host === undefined
      ? await baseInput(ctx, spec, index, dataDir, service.url)
      : await natManagedInput(ctx, ctx.host, dataDir, service.url)
  const input = mergeConfigInput(base, spec.config ?? {})
  let daemon: Daemon | undefined
  if (spec.start !== false) {
    const logger = components.logger.child({ worker: spec.name })
    const cacheDir = ctx.init.cacheDir
    daemon = await createDaemon(await loadDaemonConfig({ flags: input }), {
      logger,
      ...(cacheDir === undefined ? {} : { cacheDir }),
    })
    const d = daemon
    cleanup.push(() => d.stop())
  }
  const host = ctx.host === undefined ? {} : { host: ctx.host }
  return { name: spec.name, workerKey: keys.worker.workerKey, service, input, daemon, ...host }
}

async function baseInput(
  ctx: NetContext,
  spec: WorkerSpec,
  index: number,
  dataDir: string,
  serviceUrl: string,
): Promise<DaemonConfigInput> {
  const hops = ctx.init.hops ?? 1
  return {
    dataDir,
    router:
      spec.router === 'managed'
        ? await managedRouter(ctx, index, dataDir)
        : attachedRouter(ctx, spec.router.attach),
    tunnels: { inbound: { length: hops }, outbound: { length: hops } },
    registry: { kind: 'http', url: ctx.registryUrl, token: ctx.registryToken },
    api: { host: '127.0.0.1', port: 0 },
    service: { url: serviceUrl },
    warm: { interval: 10_000 },
  }
}

/** A router of the worker's own that joins the testnet: its own loopback IP, the testnet's netid and reseed. */
async function managedRouter(
  ctx: NetContext,
  index: number,
  dataDir: string,
): Promise<DaemonConfigInput['router']> {
  const host = `${loopbackPrefix(ctx.testnet.dir)}.${31 + index}`
  return {
    mode: 'managed',
    dataDir: join(dataDir, 'router'),
    ...sameI2pd(ctx.init.binary),
    host,
    port: await freePort(host),
    netId: ctx.testnet.state.netId,
    published: true,
    floodfill: false,
    bandwidth: 'X',
    reservedRange: false,
    nat: false,
    ssu2: false,
    reseed: { fromRegistry: true, threshold: ctx.testnet.state.routers.length },
  }
}

/** The testnet's own i2pd for a worker's router: an explicit binary as it is, a provisioned one by its launcher. */
function sameI2pd(binary: I2pdBinary): { i2pd?: string } {
  if (binary.source === 'explicit') return { i2pd: binary.command }
  return binary.launcher === undefined ? {} : { i2pd: binary.launcher }
}

/**
 * A worker behind NAT running its own i2pd, as deployed: no fixed address (i2pd binds every address and
 * learns from its peers that it is firewalled), NTCP2 and SSU2, bootstrapped from the registry. The registry
 * and its service are reached at loopback addresses inside its namespace (agent `expose`).
 */
async function natManagedInput(
  ctx: NetContext,
  host: Host,
  dataDir: string,
  serviceUrl: string,
): Promise<DaemonConfigInput> {
  const nat = ctx.testnet.nat
  if (nat === undefined) throw new Error('no NAT network')
  const hops = ctx.init.hops ?? 1
  const registry = await nat.expose(host.name, hostPort(ctx.registryUrl))
  const service = await nat.expose(host.name, hostPort(serviceUrl))
  return {
    dataDir,
    router: {
      mode: 'managed',
      dataDir: join(dataDir, 'router'),
      ...sameI2pd(ctx.init.binary),
      port: NETNS_PORTS.transport,
      netId: ctx.testnet.state.netId,
      bandwidth: 'X',
      reservedRange: false,
      reseed: { fromRegistry: true, threshold: ctx.testnet.state.routers.length },
    },
    tunnels: { inbound: { length: hops }, outbound: { length: hops } },
    registry: { kind: 'http', url: `http://${registry.host}:${registry.port}`, token: ctx.registryToken },
    api: { host: '127.0.0.1', port: 0 },
    service: { url: `http://${service.host}:${service.port}${new URL(serviceUrl).pathname}` },
    warm: { interval: 10_000 },
  }
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port) }
}

function attachedRouter(ctx: NetContext, index: number): DaemonConfigInput['router'] {
  const rec: RouterRecord | undefined = ctx.testnet.state.routers[index]
  if (rec === undefined) throw new Error(`the testnet has no router ${index}`)
  return {
    mode: 'attach',
    sam: rec.sam,
    i2pcontrol: { ...rec.i2pcontrol, certFile: join(rec.dataDir, 'i2pcontrol.crt.pem') },
  }
}
