/**
 * Writing a file whole: readers see the old contents or the new, never half, and the mode asked for; reading
 * one that may not be there.
 */
import { randomBytes } from 'node:crypto'
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'

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

/** The file's text, or undefined when there is no such file (any other failure is thrown). */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
