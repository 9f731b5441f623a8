/** Writing a router's data folder: i2pd.conf (mode 0600: it holds passwords), tunnels.conf, tunnels.d. */
import { mkdir } from 'node:fs/promises'
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
  await writeFileAtomic(confPath(config.dataDir), renderI2pdConf(config), 0o600)
  await writeFileAtomic(join(config.dataDir, 'tunnels.conf'), '', 0o600)
}
