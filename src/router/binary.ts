/**
 * Which i2pd PRouter runs, in order: an explicit path (config or PROUTER_I2PD), an i2pd >= the minimum
 * version on PATH, one already provisioned in the cache folder, else provision one now (see provision.ts).
 * A chosen release (trixie, forky, sid) skips PATH: the cache's i2pd of that release, else it is provisioned.
 */
import { homedir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { invalidOption, PRouterError } from '../errors.js'
import { MIN_I2PD_VERSION } from '../constants.js'
import type { Logger } from '../logger.js'
import { compareVersions } from './version.js'
import { i2pdVersion, type I2pdBinary } from './i2pd-binary.js'
import {
  isProvisionedRoot,
  LAUNCHER,
  provisionedCertsDir,
  provisionI2pd,
  readProvisioned,
} from './provision.js'
import type { I2pdRelease } from './releases.js'

export { i2pdVersion, type I2pdBinary, type I2pdSource } from './i2pd-binary.js'

/**
 * `$XDG_CACHE_HOME/prouter`, else `$HOME/.cache/prouter`, else the passwd entry's home; with no home at all
 * (HOME unset and a uid with no passwd entry, as in containers and systemd's DynamicUser): root gets
 * `/var/cache/prouter`, anyone else a clear `ERR_INVALID_OPTION` naming `--cache-dir`. Called only when the
 * cache is needed, never at option definition.
 */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  system: { home?: () => string; uid?: number } = {},
): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'prouter')
  const home = env.HOME || passwdHome(system.home ?? homedir)
  if (home !== undefined) return join(home, '.cache', 'prouter')
  if ((system.uid ?? process.getuid?.()) === 0) return SYSTEM_CACHE_DIR
  throw invalidOption(
    '--cache-dir',
    'no home folder (HOME unset, no passwd entry): set PROUTER_CACHE_DIR or XDG_CACHE_HOME',
  )
}

export const SYSTEM_CACHE_DIR = '/var/cache/prouter'

function passwdHome(home: () => string): string | undefined {
  try {
    return home() || undefined
  } catch {
    return undefined // os.homedir() throws when the uid has no passwd entry
  }
}

export interface ResolveI2pdInit {
  /** An explicit i2pd binary: used as is, even if older than the minimum (a warning is logged). */
  explicitPath?: string
  cacheDir: string
  /** Download and unpack one when none is found (default true). */
  provision?: boolean
  /**
   * Run this Debian release's i2pd, from the cache or provisioned; PATH is not searched. Unset: PATH, then
   * the cache's i2pd of DEFAULT_I2PD_RELEASE, then provision that release.
   */
  release?: I2pdRelease
}

export async function resolveI2pd(
  init: ResolveI2pdInit,
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<I2pdBinary> {
  options.signal?.throwIfAborted()
  const { logger } = components
  if (init.explicitPath !== undefined) return explicitBinary(init.explicitPath, logger)
  const { cacheDir, release } = init
  if (release === undefined) {
    const onPath = await binaryOnPath()
    if (onPath !== undefined) return onPath
  }
  const cached = await readProvisioned(cacheDir, release)
  if (cached !== undefined) return cached
  if (init.provision === false) throw notFound(cacheDir, release)
  return provisionI2pd({ cacheDir, ...(release === undefined ? {} : { release }) }, { logger }, options)
}

function notFound(cacheDir: string, release: I2pdRelease | undefined): PRouterError {
  const message =
    release === undefined
      ? `no i2pd >= ${MIN_I2PD_VERSION} on PATH or in ${cacheDir}; run "prouter router provision" or set PROUTER_I2PD`
      : `no ${release} i2pd in ${cacheDir}; run "prouter router provision --release ${release}"`
  return new PRouterError('ERR_ROUTER_NOT_FOUND', message)
}

async function explicitBinary(path: string, logger: Logger): Promise<I2pdBinary> {
  const version = await i2pdVersion(path)
  if (compareVersions(version, MIN_I2PD_VERSION) < 0) {
    logger.warn(
      { path, version },
      `i2pd ${version} is older than ${MIN_I2PD_VERSION}: private networks may not form`,
    )
  }
  const certsDir = await launcherCertsDir(path)
  return {
    command: path,
    args: [],
    version,
    source: 'explicit',
    ...(certsDir === undefined ? {} : { certsDir }),
  }
}

/** The certificates beside a provisioned folder's launcher (`<cache>/i2pd-sid/i2pd`), when `path` is one. */
async function launcherCertsDir(path: string): Promise<string | undefined> {
  const root = dirname(path)
  if (basename(path) !== LAUNCHER || !(await isProvisionedRoot(root))) return undefined
  return provisionedCertsDir(root)
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
