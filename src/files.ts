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
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/**
 * As writeFileAtomic, mode 0600, and durable once resolved: temp file (exclusive) -> write -> fsync ->
 * rename -> fsync the folder (shared with the writes to the same folder at the same time: syncFolder).
 */
export async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx', flush: true })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await syncFolder(dirname(path))
}

/** Per folder: the fsync that has not started yet (callers join it), and the last one started. */
const nextSync = new Map<string, Promise<void>>()
const lastSync = new Map<string, Promise<void>>()

/**
 * fsync a folder, so that what was renamed into it before the call survives a crash. The fsync a caller
 * waits for starts after its call; callers that come while one runs share the next (a group commit): a
 * burst of writes to one folder costs a few folder fsyncs, not one each.
 */
function syncFolder(dir: string): Promise<void> {
  const queued = nextSync.get(dir)
  if (queued !== undefined) return queued
  const sync = (lastSync.get(dir) ?? Promise.resolve())
    .catch(() => undefined) // the previous one's failure was its own callers'
    .then(() => {
      nextSync.delete(dir) // callers from now on need a later fsync
      return fsyncFolder(dir)
    })
  nextSync.set(dir, sync)
  lastSync.set(dir, sync)
  const forget = (): void => {
    if (lastSync.get(dir) === sync) lastSync.delete(dir)
  }
  sync.then(forget, forget)
  return sync
}

async function fsyncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r')
  await folder.sync().finally(() => folder.close())
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
