/**
 * The forwarder is a small C program (native/wanlink.c: Node has no ioctl, so it cannot open a TUN device)
 * built on first use with the machine's C compiler (`$CC`, else `cc`) into the cache folder, keyed by the
 * source's hash: an edited source gets a fresh build, an unchanged one is built once. See docs/decisions.md.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PRouterError } from '../../errors.js'

/** src/testnet/wan and dist/testnet/wan are both three levels under the package root. */
export const WANLINK_SOURCE = fileURLToPath(new URL('../../../native/wanlink.c', import.meta.url))

export async function ensureWanlink(cacheDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const source = await readFile(WANLINK_SOURCE).catch((cause: unknown) => {
    throw new PRouterError('ERR_WANLINK', `cannot read ${WANLINK_SOURCE}`, { cause })
  })
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16)
  const dir = join(cacheDir, 'wanlink', hash)
  const binary = join(dir, 'wanlink')
  if (await exists(binary)) return binary
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = `${binary}.${process.pid}.tmp`
  await compile(env.CC ?? 'cc', ['-O2', '-Wall', '-o', tmp, WANLINK_SOURCE])
  await rename(tmp, binary)
  return binary
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

function compile(cc: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cc, args, { timeout: 120_000 }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve()
        return
      }
      const why = stderr.trim() || err.message
      reject(
        new PRouterError('ERR_WANLINK', `building the WAN forwarder with ${cc} failed: ${why}`, {
          cause: err,
        }),
      )
    })
  })
}
