/** Writing a file whole: readers see the old contents or the new, never half, and the mode asked for. */
import { randomBytes } from 'node:crypto'
import { chmod, rename, rm, writeFile } from 'node:fs/promises'

/**
 * Write to a fresh temporary file in the same folder (exclusive, so two writers never share one), set `mode`
 * exactly (whatever the umask), then rename over `path`. A failed write leaves no temporary file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' })
    await chmod(tmp, mode)
    await rename(tmp, path)
  } finally {
    await rm(tmp, { force: true }) // gone after the rename
  }
}
