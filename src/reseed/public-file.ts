/** Writing a file anyone may read (a certificate, a bundle): temporary file, mode 0644 whatever the umask, rename. */
import { randomBytes } from 'node:crypto'
import { chmod, rename, rm, writeFile } from 'node:fs/promises'

export const PUBLIC_FILE_MODE = 0o644

export async function writePublicFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, data, { mode: PUBLIC_FILE_MODE, flag: 'wx' })
    await chmod(tmp, PUBLIC_FILE_MODE)
    await rename(tmp, path)
  } finally {
    await rm(tmp, { force: true }) // gone after the rename
  }
}
