/** Writing a router's data folder: i2pd.conf (mode 0600: it holds passwords), tunnels.conf, tunnels.d. */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RouterConfig } from './config.js'
import { renderI2pdConf } from './config.js'

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

/** Write to a temporary file in the same folder, then rename: readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}
