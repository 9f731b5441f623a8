/**
 * A private I2P network on loopback, as a library: `createTestnet()` returns running routers and a
 * `destroy()`. The CLI (`prouter testnet up|status|down`) and the tests both use it.
 *
 * Bring-up: (1) start each reachable router once with no peers so it writes its router.info; (2) zip those
 * RouterInfos into a reseed bundle; (3) start every router reseeding from that zip; (4) wait until every
 * router's client tunnels are built.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { invalidOption, PRouterError } from '../errors.js'
import {
  DEFAULT_TESTNET_FLOODFILLS,
  DEFAULT_TESTNET_NETID,
  DEFAULT_TESTNET_ROUTERS,
  DEFAULT_TESTNET_UP_TIMEOUT,
  READINESS_POLL_INTERVAL,
} from '../constants.js'
import type { Logger } from '../logger.js'
import type { I2pdBinary } from '../router/binary.js'
import type { ReseedConfig } from '../router/config.js'
import { routerInfoPath } from '../router/data-dir.js'
import { writeFileAtomic } from '../files.js'
import type { ReadinessProbe, Router } from '../router/router.js'
import { createRouter } from '../router/router.js'
import { buildReseedZip } from '../reseed/zip.js'
import { samHello } from '../sam/index.js'
import { deadlineSignal, isTimeoutReason, sleep } from '../signals.js'
import type { RouterRecord, TestnetState } from './state.js'
import { writeState } from './state.js'
import { assertNoLiveTestnet } from './control.js'
import { planNatRouters, planRouters, routerConfig } from './plan.js'
import { createNatNetwork, type NatNetwork } from './nat-network.js'
import { ensureWanlink } from './wan/helper.js'
import { profileName, type WanProfile } from './wan/profile.js'
import { defaultCacheDir } from '../router/binary.js'

export interface TestnetInit {
  dir: string
  binary: I2pdBinary
  routers?: number
  floodfills?: number
  unreachable?: number
  netId?: number
  /**
   * 'loopback' (default): one loopback IP per router, `unreachable` routers publish no address.
   * 'nat' (root): each router in its own network namespace on a bridge; the `unreachable` ones each behind a
   * masquerading gateway (see nat-network.ts). Lives only as long as this process: not with `detached`.
   */
  network?: 'loopback' | 'nat'
  /**
   * With network 'nat': the links between the namespaces. 'lan' (default) is a bridge with no delay;
   * 'continental', 'lossy' or a custom table run every packet through the user-space WAN forwarder
   * (wan/forwarder.ts) with each link's delay, jitter, loss and rate.
   */
  wan?: WanProfile
  /** With network 'nat': hosts behind NAT with no testnet router, for workers running their own (`nat.topology.workerHosts`). */
  workerHosts?: number
  /** Where the WAN forwarder is built (default: the i2pd cache folder). */
  cacheDir?: string
  /** Routers outlive this process (CLI `up`); stop them with `stopTestnet(dir)`. */
  detached?: boolean
  upTimeout?: number
}

export type TestnetProgress =
  | { step: 'keys'; router: string }
  | { step: 'reseed'; routers: number; bytes: number }
  | { step: 'started'; router: string; pid: number }
  | { step: 'tunnels'; ready: number; of: number }
  | { step: 'up'; ms: number }

export interface TestnetComponents {
  logger: Logger
  onProgress?: (p: TestnetProgress) => void
}

export interface Testnet {
  readonly dir: string
  readonly state: TestnetState
  readonly routers: readonly Router[]
  /** The namespaces, agents and forwards of a 'nat' testnet. */
  readonly nat?: NatNetwork
  /** Stop every router (by its supervisor) and wait for each to exit. Idempotent. */
  destroy(): Promise<void>
}

export async function createTestnet(
  init: TestnetInit,
  components: TestnetComponents,
  options: { signal?: AbortSignal } = {},
): Promise<Testnet> {
  const spec = validate(init)
  const started = Date.now()
  await mkdir(init.dir, { recursive: true, mode: 0o700 })
  await assertNoLiveTestnet(init.dir)
  const nat = init.network === 'nat' ? await natNetwork(init, spec, components.logger) : undefined
  const records =
    nat === undefined
      ? await planRouters({ dir: init.dir, ...spec })
      : planNatRouters(init.dir, spec.floodfills, nat)
  const state: TestnetState = {
    dir: init.dir,
    netId: spec.netId,
    version: init.binary.version,
    createdAt: new Date().toISOString(),
    ...(nat === undefined ? {} : { wan: profileName(init.wan ?? 'lan') }),
    routers: records,
  }
  const routers: Router[] = []
  const destroy = async (): Promise<void> => {
    await Promise.all(routers.map((r) => r.stop()))
    await nat?.destroy()
  }
  try {
    const reseed = await makeReseed(init, spec.netId, records, components, options.signal)
    for (const rec of records) routers.push(makeRouter(init, spec.netId, rec, reseed, components.logger))
    await startAll(routers, records, components, options.signal)
    await writeState(state)
    const deadline = deadlineSignal(init.upTimeout ?? DEFAULT_TESTNET_UP_TIMEOUT, options.signal)
    try {
      await waitForTunnels(routers, components, deadline.signal)
    } finally {
      deadline.dispose()
    }
  } catch (err) {
    await destroy()
    throw err
  }
  state.upMs = Date.now() - started
  await writeState(state)
  components.onProgress?.({ step: 'up', ms: state.upMs })
  return { dir: init.dir, state, routers, destroy, ...(nat === undefined ? {} : { nat }) }
}

async function natNetwork(
  init: TestnetInit,
  spec: { routers: number; unreachable: number },
  logger: Logger,
): Promise<NatNetwork> {
  if (init.detached === true) {
    throw invalidOption('network', 'a NAT testnet lives as long as its process: it cannot be detached')
  }
  const profile = init.wan ?? 'lan'
  const helper = profile === 'lan' ? '' : await ensureWanlink(init.cacheDir ?? defaultCacheDir())
  return createNatNetwork(
    {
      dir: init.dir,
      publicHosts: spec.routers - spec.unreachable,
      nattedHosts: spec.unreachable,
      workerHosts: init.workerHosts ?? 0,
      ...(profile === 'lan' ? {} : { wan: { helper, profile } }),
    },
    logger,
  )
}

function validate(init: TestnetInit): {
  routers: number
  floodfills: number
  unreachable: number
  netId: number
} {
  const routers = init.routers ?? DEFAULT_TESTNET_ROUTERS
  const floodfills = init.floodfills ?? DEFAULT_TESTNET_FLOODFILLS
  const unreachable = init.unreachable ?? 0
  const netId = init.netId ?? DEFAULT_TESTNET_NETID
  if (!Number.isInteger(routers) || routers < 3 || routers > 40)
    throw invalidOption('routers', 'must be 3..40')
  if (!Number.isInteger(floodfills) || floodfills < 1) throw invalidOption('floodfills', 'must be >= 1')
  if (!Number.isInteger(unreachable) || unreachable < 0 || unreachable + floodfills + 1 > routers) {
    throw invalidOption('unreachable', 'needs floodfills + 1 reachable routers beside the unreachable ones')
  }
  if (init.wan !== undefined && init.wan !== 'lan' && init.network !== 'nat')
    throw invalidOption('wan', "emulated WAN links need network 'nat' (routers in namespaces)")
  if (netId === 2) throw invalidOption('netId', '2 is the public I2P network; a testnet needs its own')
  return { routers, floodfills, unreachable, netId }
}

function makeRouter(
  init: TestnetInit,
  netId: number,
  rec: RouterRecord,
  reseed: ReseedConfig,
  logger: Logger,
) {
  const probe: ReadinessProbe = async (signal) => {
    await samHello(rec.sam, { signal })
  }
  return createRouter(
    {
      name: rec.name,
      binary: init.binary,
      config: routerConfig(rec, netId, reseed, init.binary.certsDir),
      ...(init.detached === true ? { detached: true } : {}),
      ...(rec.netns === undefined ? {} : { netns: rec.netns, i2pcontrolAddress: rec.i2pcontrol }),
    },
    { logger, probes: [probe] },
  )
}

/** First start of each reachable router, only to have it write its router.info; then the reseed zip. */
async function makeReseed(
  init: TestnetInit,
  netId: number,
  records: readonly RouterRecord[],
  components: TestnetComponents,
  signal?: AbortSignal,
): Promise<ReseedConfig> {
  const reachable = records.filter((r) => r.reachable)
  const noPeers: ReseedConfig = { urls: [], verify: false, threshold: 0 }
  await Promise.all(
    reachable.map(async (rec) => {
      const router = makeRouter({ ...init, detached: false }, netId, rec, noPeers, components.logger)
      try {
        await router.start({ signal })
      } finally {
        await router.stop()
      }
      components.onProgress?.({ step: 'keys', router: rec.name })
    }),
  )
  const entries = await Promise.all(
    reachable.map(async (r) => ({
      name: `routerInfo-${r.name}.dat`,
      data: await readFile(routerInfoPath(r.dataDir)),
    })),
  )
  const zip = buildReseedZip(entries)
  const zipFile = join(init.dir, 'reseed.zip')
  await writeFileAtomic(zipFile, zip, 0o644)
  components.onProgress?.({ step: 'reseed', routers: entries.length, bytes: zip.length })
  return { zipFile, urls: [], verify: false, threshold: records.length }
}

async function startAll(
  routers: readonly Router[],
  records: RouterRecord[],
  components: TestnetComponents,
  signal?: AbortSignal,
): Promise<void> {
  await Promise.all(
    routers.map(async (router, i) => {
      await router.start({ signal })
      const rec = records[i]
      if (rec !== undefined) rec.pid = router.pid
      components.onProgress?.({ step: 'started', router: router.name, pid: router.pid ?? 0 })
    }),
  )
}

/** Until every router reports its client tunnels built (i2pd's shared client destination is ready). */
async function waitForTunnels(
  routers: readonly Router[],
  components: TestnetComponents,
  signal: AbortSignal,
) {
  let last = -1
  for (;;) {
    const stats = await Promise.all(routers.map((r) => r.stats({ signal }).catch(() => undefined)))
    const ready = stats.filter((s) => s?.clientTunnelsReady === true).length
    if (ready !== last) components.onProgress?.({ step: 'tunnels', ready, of: routers.length })
    last = ready
    if (ready === routers.length) return
    try {
      await sleep(READINESS_POLL_INTERVAL * 5, signal)
    } catch (cause) {
      if (!isTimeoutReason(cause)) throw cause
      throw new PRouterError(
        'ERR_TESTNET_TIMEOUT',
        `client tunnels built on ${ready} of ${routers.length} routers`,
        {
          cause,
        },
      )
    }
  }
}
