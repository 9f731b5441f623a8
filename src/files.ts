/**
 * Writing a file whole: readers see the old contents or the new, never half, and the mode asked for (and,
 * durably, still after a crash); reading one that may not be there.
 */
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

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

/**
 * As writeFileAtomic, mode 0600, and durable once resolved: temp file (exclusive) -> write -> fsync ->
 * rename -> fsync the folder.
 */
export async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  try {
    const file = await open(tmp, 'wx', 0o600)
    try {
      await file.writeFile(data)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, path)
    const folder = await open(dirname(path), 'r')
    await folder.sync().finally(() => folder.close())
  } finally {
    await rm(tmp, { force: true })
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
