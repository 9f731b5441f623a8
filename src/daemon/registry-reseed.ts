/**
 * Bootstrapping a managed router from the registry (`router.reseed.fromRegistry`): before i2pd starts, the
 * daemon takes the RouterInfos the registry holds, verifies each one's self-signature, keeps the usable ones
 * of its network (select.ts), signs them into an SU3 bundle with its own reseed key and installs that key's
 * certificate as the only one its router trusts. i2pd then reseeds from the file with `verify = true`: no
 * reseed server, no files copied by hand, and a bundle altered on disk is refused by the router itself.
 * `prouter reseed build` builds the same bundle with buildRegistryBundle, for inspection or other routers.
 */
import { dirname, join } from 'node:path'
import { mkdir, readFile } from 'node:fs/promises'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { readRouterInfo } from '../i2p/router-info.js'
import type { RouterInfo } from '../i2p/router-info.js'
import { routerInfoPath } from '../router/data-dir.js'
import { writeFileAtomic } from '../files.js'
import type { Registry } from '../registry/resolver.js'
import { buildReseedBundle, installReseedCertificate, loadOrCreateReseedKey } from '../reseed/index.js'
import type { ReseedKey } from '../reseed/index.js'
import { selectForReseed } from '../reseed/select.js'
import { RESEED_BUNDLE_MAX_ROUTERS } from '../constants.js'

/** Where a managed router's registry bundle and trusted certificates live. */
export function registryReseedFiles(routerDataDir: string): { su3File: string; certsDir: string } {
  return {
    su3File: join(routerDataDir, 'reseed', 'registry.su3'),
    certsDir: join(routerDataDir, 'certificates'),
  }
}

export interface RegistryBundleInit {
  netId: number
  /** Most RouterInfos in the bundle. */
  max: number
  /** A router's own id, left out. */
  exclude?: string
  /** Folder of the reseed key (0600) and certificate; the key is made there on first use. */
  keyDir: string
}

export interface RegistryBundle {
  /** The signed SU3 bytes. */
  su3: Buffer
  /** The RouterInfos in it, in bundle order (floodfills first, then newest). */
  routers: RouterInfo[]
  /** How many RouterInfos of the registry verified, before selection. */
  verified: number
  key: ReseedKey
}

/**
 * The registry's verified RouterInfos, selected (selectForReseed) and signed into an SU3 bundle with the
 * key in `keyDir`. ERR_RESEED_EMPTY when none is usable; the key is loaded (or made) only after that check.
 */
export async function buildRegistryBundle(
  registry: Pick<Registry, 'verifiedRouterInfos'>,
  init: RegistryBundleInit,
  options: { signal?: AbortSignal } = {},
): Promise<RegistryBundle> {
  const infos = await registry.verifiedRouterInfos(options)
  const { keyDir, ...selection } = init
  const routers = selectForReseed(infos, selection)
  if (routers.length === 0) {
    throw new PRouterError(
      'ERR_RESEED_EMPTY',
      `the registry holds no usable RouterInfo for network ${init.netId} (${infos.length} verified in all)`,
      { detail: { netId: init.netId, verified: infos.length } },
    )
  }
  const key = await loadOrCreateReseedKey(keyDir, options)
  return { su3: buildReseedBundle(routers, key), routers, verified: infos.length, key }
}

export interface RegistryReseedInit {
  netId: number
  routerDataDir: string
  /** Folder of the daemon's reseed key (0600) and certificate. */
  keyDir: string
}

export interface RegistryReseedResult {
  routers: number
  floodfills: number
  file: string
  signerId: string
}

export async function prepareRegistryReseed(
  init: RegistryReseedInit,
  components: { registry: Registry; logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<RegistryReseedResult> {
  const bundle = await buildRegistryBundle(
    components.registry,
    {
      netId: init.netId,
      max: RESEED_BUNDLE_MAX_ROUTERS,
      keyDir: init.keyDir,
      ...(await ownId(init.routerDataDir)),
    },
    options,
  )
  const files = registryReseedFiles(init.routerDataDir)
  await mkdir(dirname(files.su3File), { recursive: true, mode: 0o700 })
  await writeFileAtomic(files.su3File, bundle.su3, 0o644)
  await installReseedCertificate(files.certsDir, bundle.key.signerId, bundle.key.certificatePem, options)
  const result = {
    routers: bundle.routers.length,
    floodfills: bundle.routers.filter((ri) => ri.floodfill).length,
    file: files.su3File,
    signerId: bundle.key.signerId,
  }
  components.logger.info(result, 'reseed bundle built from the registry')
  return result
}

/** After the first start the router has an identity: it is not put in its own bundle. */
async function ownId(routerDataDir: string): Promise<{ exclude?: string }> {
  try {
    return { exclude: readRouterInfo(await readFile(routerInfoPath(routerDataDir))).id }
  } catch {
    return {}
  }
}
