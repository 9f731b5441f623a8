/**
 * Provisioning i2pd without touching the system: Debian trixie's i2pd (>= 2.51, which can form a private
 * network on loopback; bookworm's 2.45.1 cannot) and its runtime libraries are fetched with `apt-get download`
 * under a private apt state (own sources list, lists and cache folders below the cache folder), unpacked with
 * `dpkg-deb -x`, and run through the unpacked dynamic loader. The result is stamped, so a second call is a
 * file read. Unpacking goes to a temporary folder renamed into place, so concurrent provisioners do not mix.
 */
import { execFile } from 'node:child_process'
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { i2pdVersion, type I2pdBinary } from './i2pd-binary.js'

const execFileAsync = promisify(execFile)

export const PROVISION_SUITE = 'trixie'
export const PROVISION_MIRROR = 'http://deb.debian.org/debian'
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
/** i2pd and the runtime libraries it links against (from i2pd's Depends in trixie, plus the C runtime). */
export const PROVISION_PACKAGES = [
  'i2pd',
  'libc6',
  'libstdc++6',
  'libgcc-s1',
  'libboost-program-options1.83.0',
  'libssl3t64',
  'libminiupnpc18',
  'zlib1g',
] as const

const STAMP = 'prouter-provisioned.json'
const ROOT_DIR = `i2pd-${PROVISION_SUITE}`

interface Multiarch {
  triplet: string
  loader: string
}

const MULTIARCH: Record<string, Multiarch> = {
  amd64: { triplet: 'x86_64-linux-gnu', loader: 'ld-linux-x86-64.so.2' },
  arm64: { triplet: 'aarch64-linux-gnu', loader: 'ld-linux-aarch64.so.1' },
}

interface Stamp {
  version: string
  arch: string
  suite: string
}

/** The provisioned i2pd in `cacheDir`, or undefined when there is none (or it no longer runs). */
export async function readProvisioned(cacheDir: string): Promise<I2pdBinary | undefined> {
  const root = join(cacheDir, ROOT_DIR)
  let stamp: Stamp
  try {
    stamp = JSON.parse(await readFile(join(root, STAMP), 'utf8')) as Stamp
  } catch {
    return undefined
  }
  const arch = MULTIARCH[stamp.arch]
  if (arch === undefined) return undefined
  return { ...binaryAt(root, arch), version: stamp.version, source: 'cache' }
}

export async function provisionI2pd(
  init: { cacheDir: string },
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<I2pdBinary> {
  const { signal } = options
  signal?.throwIfAborted()
  const existing = await readProvisioned(init.cacheDir)
  if (existing !== undefined) return existing
  const log = components.logger.child({ component: 'provision' })
  await requireTools()
  const archName = await debianArch()
  const arch = MULTIARCH[archName]
  if (arch === undefined) throw provisionError(`no loader layout known for architecture ${archName}`)
  const started = Date.now()
  const debs = await downloadDebs(init.cacheDir, log, signal)
  const root = join(init.cacheDir, ROOT_DIR)
  const tmp = `${root}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  for (const deb of debs) await run('dpkg-deb', ['-x', deb, tmp], signal)
  const probe = binaryAt(tmp, arch)
  const version = await i2pdVersion(probe.command, probe.args)
  await writeFile(join(tmp, STAMP), JSON.stringify({ version, arch: archName, suite: PROVISION_SUITE }))
  await moveIntoPlace(tmp, root)
  log.info({ version, ms: Date.now() - started, root }, 'provisioned i2pd')
  return { ...binaryAt(root, arch), version, source: 'provisioned' }
}

function binaryAt(root: string, arch: Multiarch): Omit<I2pdBinary, 'version' | 'source'> {
  const libDir = join(root, 'usr', 'lib', arch.triplet)
  return {
    command: join(libDir, arch.loader),
    args: ['--library-path', libDir, join(root, 'usr', 'bin', 'i2pd')],
    certsDir: join(root, 'usr', 'share', 'i2pd', 'certificates'),
  }
}

async function downloadDebs(cacheDir: string, log: Logger, signal?: AbortSignal): Promise<string[]> {
  const apt = join(cacheDir, 'apt')
  const debDir = join(apt, 'debs')
  for (const dir of ['lists/partial', 'cache/archives/partial', 'debs']) {
    await mkdir(join(apt, dir), { recursive: true })
  }
  const sources = `deb [signed-by=${DEBIAN_KEYRING}] ${PROVISION_MIRROR} ${PROVISION_SUITE} main\n`
  await writeFile(join(apt, 'sources.list'), sources)
  await writeFile(join(apt, 'status'), '')
  const opts = privateAptOptions(apt)
  log.info({ suite: PROVISION_SUITE }, 'apt-get update (private state)')
  await run('apt-get', [...opts, 'update'], signal)
  await rm(debDir, { recursive: true, force: true })
  await mkdir(debDir)
  log.info({ packages: PROVISION_PACKAGES }, 'apt-get download')
  await run('apt-get', [...opts, 'download', ...PROVISION_PACKAGES], signal, debDir)
  return (await readdir(debDir)).filter((f) => f.endsWith('.deb')).map((f) => join(debDir, f))
}

/** apt options that keep every piece of state under `dir`: the system's apt is neither read nor changed. */
export function privateAptOptions(dir: string): string[] {
  const o = {
    'Dir::Etc::SourceList': join(dir, 'sources.list'),
    'Dir::Etc::SourceParts': '/dev/null',
    'Dir::Etc::Preferences': '/dev/null',
    'Dir::Etc::PreferencesParts': '/dev/null',
    'Dir::State::Lists': join(dir, 'lists'),
    'Dir::State::Status': join(dir, 'status'),
    'Dir::Cache': join(dir, 'cache'),
    'Debug::NoLocking': '1',
    'APT::Sandbox::User': 'root',
    'Acquire::Languages': 'none',
  }
  return Object.entries(o).flatMap(([k, v]) => ['-o', `${k}=${v}`])
}

async function requireTools(): Promise<void> {
  for (const tool of ['apt-get', 'dpkg-deb']) {
    try {
      await execFileAsync(tool, ['--version'])
    } catch {
      throw provisionError(
        `${tool} not found: this machine cannot provision i2pd itself. Install i2pd >= 2.51 ` +
          'and put it on PATH, or point PROUTER_I2PD (or --i2pd) at the binary',
      )
    }
  }
  try {
    await access(DEBIAN_KEYRING)
  } catch {
    throw provisionError(`${DEBIAN_KEYRING} missing: install the debian-archive-keyring package`)
  }
}

async function debianArch(): Promise<string> {
  const { stdout } = await execFileAsync('dpkg', ['--print-architecture'])
  return stdout.trim()
}

async function moveIntoPlace(tmp: string, root: string): Promise<void> {
  try {
    await rename(tmp, root)
  } catch (cause) {
    // Another provisioner won the race: keep its copy.
    await rm(tmp, { recursive: true, force: true })
    if (
      (cause as NodeJS.ErrnoException).code !== 'ENOTEMPTY' &&
      (cause as NodeJS.ErrnoException).code !== 'EEXIST'
    ) {
      throw provisionError(`cannot move ${tmp} to ${root}`, cause)
    }
  }
}

async function run(command: string, args: string[], signal?: AbortSignal, cwd?: string): Promise<void> {
  try {
    await execFileAsync(command, args, { signal, cwd, maxBuffer: 16 * 1024 * 1024 })
  } catch (cause) {
    signal?.throwIfAborted()
    const { stderr } = cause as { stderr?: unknown }
    const tail = typeof stderr === 'string' ? stderr.slice(-500) : ''
    throw provisionError(
      `${command} ${args.filter((a) => !a.startsWith('-') && !a.includes('=')).join(' ')} failed: ${tail}`,
      cause,
    )
  }
}

function provisionError(message: string, cause?: unknown): PRouterError {
  return new PRouterError('ERR_ROUTER_PROVISION', message, { cause })
}
