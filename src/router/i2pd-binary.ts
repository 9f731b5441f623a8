/**
 * What one i2pd binary is (how to run it, its version, where it came from) and how its version is read.
 * A leaf of the router folder: binary.ts (which i2pd) and provision.ts (fetch one) both use it.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { PRouterError } from '../errors.js'
import { parseI2pdVersion } from './version.js'

const execFileAsync = promisify(execFile)

export type I2pdSource = 'explicit' | 'path' | 'cache' | 'provisioned'

/** How to run one i2pd: `command` then `args` then i2pd's own arguments. */
export interface I2pdBinary {
  command: string
  args: readonly string[]
  version: string
  source: I2pdSource
  /** Folder of i2pd's bundled certificates (reseed/family), when known. */
  certsDir?: string
  /** A provisioned i2pd's launcher script (`<root>/i2pd`), which runs it as one command (e.g. PROUTER_I2PD). */
  launcher?: string
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
