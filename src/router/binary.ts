/**
 * Which i2pd PRouter runs, in order: an explicit path (config or PROUTER_I2PD), an i2pd >= the minimum
 * version on PATH, one already provisioned in the cache folder, else provision one now (see provision.ts).
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { PRouterError } from '../errors.js'
import { MIN_I2PD_VERSION } from '../constants.js'
import type { Logger } from '../logger.js'
import { compareVersions } from './version.js'
import { i2pdVersion, type I2pdBinary } from './i2pd-binary.js'
import { provisionI2pd, readProvisioned } from './provision.js'

export { i2pdVersion, type I2pdBinary, type I2pdSource } from './i2pd-binary.js'

/** `$XDG_CACHE_HOME/prouter`, else `~/.cache/prouter`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prouter')
}

export interface ResolveI2pdInit {
  /** An explicit i2pd binary: used as is, even if older than the minimum (a warning is logged). */
  explicitPath?: string
  cacheDir: string
  /** Download and unpack one when none is found (default true). */
  provision?: boolean
}

export async function resolveI2pd(
  init: ResolveI2pdInit,
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<I2pdBinary> {
  options.signal?.throwIfAborted()
  const { logger } = components
  if (init.explicitPath !== undefined) return explicitBinary(init.explicitPath, logger)
  const onPath = await binaryOnPath()
  if (onPath !== undefined) return onPath
  const cached = await readProvisioned(init.cacheDir)
  if (cached !== undefined) return cached
  if (init.provision === false) {
    throw new PRouterError(
      'ERR_ROUTER_NOT_FOUND',
      `no i2pd >= ${MIN_I2PD_VERSION} on PATH or in ${init.cacheDir}; run "prouter router provision" or set PROUTER_I2PD`,
    )
  }
  return provisionI2pd({ cacheDir: init.cacheDir }, { logger }, options)
}

async function explicitBinary(path: string, logger: Logger): Promise<I2pdBinary> {
  const version = await i2pdVersion(path)
  if (compareVersions(version, MIN_I2PD_VERSION) < 0) {
    logger.warn(
      { path, version },
      `i2pd ${version} is older than ${MIN_I2PD_VERSION}: private networks may not form`,
    )
  }
  return { command: path, args: [], version, source: 'explicit' }
}

async function binaryOnPath(): Promise<I2pdBinary | undefined> {
  try {
    const version = await i2pdVersion('i2pd')
    if (compareVersions(version, MIN_I2PD_VERSION) < 0) return undefined
    return { command: 'i2pd', args: [], version, source: 'path' }
  } catch {
    return undefined
  }
}
