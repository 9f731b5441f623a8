/**
 * Which i2pd PRouter runs, in order: an explicit path (config or PROUTER_I2PD), an i2pd >= the minimum
 * version on PATH, one already provisioned in the cache folder, else provision one now (see provision.ts).
 */
import { execFile } from 'node:child_process'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PRouterError } from '../errors.js'
import { MIN_I2PD_VERSION } from '../constants.js'
import type { Logger } from '../logger.js'
import { compareVersions, parseI2pdVersion } from './version.js'
import { provisionI2pd, readProvisioned } from './provision.js'

const execFileAsync = promisify(execFile)

/** `$XDG_CACHE_HOME/prouter`, else `~/.cache/prouter`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prouter')
}

export type I2pdSource = 'explicit' | 'path' | 'cache' | 'provisioned'

/** How to run one i2pd: `command` then `args` then i2pd's own arguments. */
export interface I2pdBinary {
  command: string
  args: readonly string[]
  version: string
  source: I2pdSource
  /** Folder of i2pd's bundled certificates (reseed/family), when known. */
  certsDir?: string
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

export async function i2pdVersion(command: string, args: readonly string[] = []): Promise<string> {
  let out: string
  try {
    const { stdout } = await execFileAsync(command, [...args, '--version'], { timeout: 10_000 })
    out = stdout
  } catch (cause) {
    throw new PRouterError('ERR_ROUTER_NOT_FOUND', `cannot run ${command} --version`, { cause })
  }
  const version = parseI2pdVersion(out)
  if (version === undefined) {
    throw new PRouterError('ERR_ROUTER_NOT_FOUND', `${command} --version printed no i2pd version`, {
      detail: { output: out.slice(0, 200) },
    })
  }
  return version
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
