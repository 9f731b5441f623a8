/** Writing a router's data folder: i2pd.conf (mode 0600: it holds passwords), tunnels.conf, tunnels.d. */
import { rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { RouterConfig } from './config.js'
import { renderI2pdConf } from './config.js'
import { writeFileAtomic } from '../files.js'

export function confPath(dataDir: string): string {
  return join(dataDir, 'i2pd.conf')
}

export function routerInfoPath(dataDir: string): string {
  return join(dataDir, 'router.info')
}

export function certPath(dataDir: string): string {
  return join(dataDir, 'i2pcontrol.crt.pem')
}

export async function prepareDataDir(config: RouterConfig): Promise<void> {
  await mkdir(join(config.dataDir, 'tunnels.d'), { recursive: true, mode: 0o700 })
  await forgetDestinationKeys(config.dataDir)
  await writeFileAtomic(confPath(config.dataDir), renderI2pdConf(config), 0o600)
  await writeFileAtomic(join(config.dataDir, 'tunnels.conf'), '', 0o600)
}

/**
 * i2pd keeps the LeaseSet encryption keys of its public destinations (SAM sessions among them) in
 * `destinations/<b32>.<type>.dat` across restarts. A peer's router then goes on encrypting to a restarted
 * destination with the end-to-end (ratchet) session of the instance that died, which the new one cannot read
 * ("Can't handle ECIES-X25519-AEAD-Ratchet message"), and i2pd replaces a session for the same static key only
 * once it is two minutes old: calls between the two failed for 60-110 s after a restart. Removed before every
 * start, the keys are new, the peer's router finds no session for the new key and opens one at once. The
 * destination itself (its b32, the worker's binding) does not change; see docs/decisions.md.
 */
async function forgetDestinationKeys(dataDir: string): Promise<void> {
  await rm(join(dataDir, 'destinations'), { recursive: true, force: true })
}
