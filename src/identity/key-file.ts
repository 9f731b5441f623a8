/**
 * Reading and writing one key file. Written atomically: a temporary file in the same folder (created
 * exclusively, mode 0600, flushed), then renamed over the target, or hard-linked to it when the target must
 * not exist yet (link fails if it does, so two writers cannot both win). Read through one open handle:
 * its mode is checked on that handle, so the file checked is the file read.
 */
import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MAX_KEY_FILE_BYTES } from '../constants.js'
import { PRouterError } from '../errors.js'

export const KEY_FILE_MODE = 0o600
export const KEY_DIR_MODE = 0o700

export async function writeKeyFile(
  path: string,
  text: string,
  options: { overwrite: boolean },
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  const file = await open(tmp, 'wx', KEY_FILE_MODE)
  try {
    try {
      await file.chmod(KEY_FILE_MODE) // exact, whatever the umask
      await file.writeFile(text)
      await file.sync()
    } finally {
      await file.close()
    }
    if (options.overwrite) await rename(tmp, path)
    else await linkNew(tmp, path)
    await syncFolder(dirname(path))
  } finally {
    await unlink(tmp).catch(() => undefined) // gone after a rename; the extra name after a link
  }
}

/** Make the new directory entry durable (Linux allows fsync on a folder opened read-only). */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function linkNew(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw fileExists(path)
    throw err
  }
}

export function fileExists(path: string): PRouterError {
  return new PRouterError(
    'ERR_KEY_FILE_EXISTS',
    `${path} exists: keep it, or pass force (--force) to replace`,
    {
      detail: { path },
    },
  )
}

/** The file's text, refused when missing, not a regular file, too big, or open to group or others. */
export async function readKeyFile(path: string): Promise<string> {
  const file = await openExisting(path)
  try {
    const info = await file.stat()
    if (!info.isFile()) throw malformedKeyFile(path, 'not a regular file')
    const loose = info.mode & 0o077
    if (loose !== 0) throw badMode(path, info.mode & 0o777)
    if (info.size > MAX_KEY_FILE_BYTES) {
      throw malformedKeyFile(path, `larger than ${MAX_KEY_FILE_BYTES} bytes`)
    }
    return await file.readFile('utf8')
  } finally {
    await file.close()
  }
}

async function openExisting(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  try {
    return await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PRouterError('ERR_KEY_FILE_MISSING', `${path} is missing: run \`prouter keys init\``, {
        detail: { path },
      })
    }
    throw err
  }
}

function badMode(path: string, mode: number): PRouterError {
  const octal = `0${mode.toString(8).padStart(3, '0')}`
  return new PRouterError(
    'ERR_KEY_FILE_MODE',
    `${path} has mode ${octal}: a key file must not be accessible by group or others; run: chmod 600 ${path}`,
    { detail: { path, mode: octal } },
  )
}

/** Never with the parse error as cause or text: JSON.parse's message quotes the file, secret included. */
export function malformedKeyFile(path: string, why: string): PRouterError {
  return new PRouterError('ERR_KEY_FILE_MALFORMED', `${path}: ${why}`, { detail: { path } })
}
