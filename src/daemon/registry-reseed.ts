/**
 * Bootstrapping a managed router from the registry (`router.reseed.fromRegistry`): before i2pd starts, the
 * daemon takes the RouterInfos the registry holds, verifies each one's self-signature, keeps the usable ones
 * of its network (select.ts), signs them into an SU3 bundle with its own reseed key and installs that key's
 * certificate as the only one its router trusts. i2pd then reseeds from the file with `verify = true`: no
 * reseed server, no files copied by hand, and a bundle altered on disk is refused by the router itself.
 */
import { dirname, join } from 'node:path'
import { mkdir, readFile } from 'node:fs/promises'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { readRouterInfo } from '../i2p/router-info.js'
import { routerInfoPath, writeFileAtomic } from '../router/data-dir.js'
import type { Registry } from '../registry/resolver.js'
import { buildReseedBundle, installReseedCertificate, loadOrCreateReseedKey } from '../reseed/index.js'
import { selectForReseed } from '../reseed/select.js'
import { RESEED_BUNDLE_MAX_ROUTERS } from '../constants.js'

/** Where a managed router's registry bundle and trusted certificates live. */
export function registryReseedFiles(routerDataDir: string): { su3File: string; certsDir: string } {
  return {
    su3File: join(routerDataDir, 'reseed', 'registry.su3'),
    certsDir: join(routerDataDir, 'certificates'),
  }
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
  const infos = await components.registry.verifiedRouterInfos(options)
  const chosen = selectForReseed(infos, {
    netId: init.netId,
    max: RESEED_BUNDLE_MAX_ROUTERS,
    ...(await ownId(init.routerDataDir)),
  })
  if (chosen.length === 0) {
    throw new PRouterError(
      'ERR_RESEED_EMPTY',
      `the registry holds no usable RouterInfo for network ${init.netId} (${infos.length} verified in all)`,
    )
  }
  const key = await loadOrCreateReseedKey(init.keyDir, options)
  const files = registryReseedFiles(init.routerDataDir)
  await mkdir(dirname(files.su3File), { recursive: true, mode: 0o700 })
  await writeFileAtomic(files.su3File, buildReseedBundle(chosen, key), 0o644)
  await installReseedCertificate(files.certsDir, key.signerId, key.certificatePem, options)
  const result = {
    routers: chosen.length,
    floodfills: chosen.filter((ri) => ri.floodfill).length,
    file: files.su3File,
    signerId: key.signerId,
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
