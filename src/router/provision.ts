/**
 * Provisioning i2pd without touching the system: a Debian release's i2pd (trixie: 2.56, forky and sid: 2.59;
 * all >= 2.51, which can form a private network on loopback; bookworm's 2.45.1 cannot) and the runtime libraries
 * it needs are fetched with `apt-get download` under a private apt state (own sources list, lists and cache
 * folders below the cache folder, one per release), unpacked with `dpkg-deb -x`, checked to load every library
 * from the unpacked tree, and run through the unpacked dynamic loader. The result is stamped, so a second call
 * is a file read. Unpacking goes to a temporary folder renamed into place, so concurrent provisioners do not
 * mix. Releases live side by side (releases.ts names the folders).
 */
import { execFile } from 'node:child_process'
import { access, chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DEFAULT_I2PD_RELEASE } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { i2pdVersion, type I2pdBinary } from './i2pd-binary.js'
import {
  debianSuite,
  librariesOutside,
  parseDependsClosure,
  releaseAptDir,
  releaseRoot,
  type I2pdRelease,
} from './releases.js'

const execFileAsync = promisify(execFile)

export const PROVISION_MIRROR = 'http://deb.debian.org/debian'
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
/**
 * What is downloaded: i2pd and everything it Depends on, recursively (libraries, their C runtime, and a few
 * small data packages such as gcc-*-base), read from the release's own package lists: each release has its own
 * library versions (sid: libboost 1.92, libminiupnpc21, and a libssl3t64 that needs libzstd1).
 */
const ROOT_PACKAGE = 'i2pd'
const DEPENDS_ONLY = [
  '--recurse',
  '--no-recommends',
  '--no-suggests',
  '--no-conflicts',
  '--no-breaks',
  '--no-replaces',
  '--no-enhances',
  '--no-pre-depends', // i2pd pre-depends on adduser, for its system service: not needed to run it
]

const STAMP = 'prouter-provisioned.json'
/** A script in the provisioned folder that runs its i2pd: usable as an explicit binary (`PROUTER_I2PD`). */
export const LAUNCHER = 'i2pd'

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

/** The provisioned i2pd of `release` in `cacheDir`, or undefined when there is none. */
export async function readProvisioned(
  cacheDir: string,
  release: I2pdRelease = DEFAULT_I2PD_RELEASE,
): Promise<I2pdBinary | undefined> {
  const root = releaseRoot(cacheDir, release)
  let stamp: Stamp
  try {
    stamp = JSON.parse(await readFile(join(root, STAMP), 'utf8')) as Stamp
  } catch {
    return undefined
  }
  const arch = MULTIARCH[stamp.arch]
  if (arch === undefined || stamp.suite !== debianSuite(release)) return undefined
  const launcher = join(root, LAUNCHER)
  const withLauncher = (await exists(launcher)) ? { launcher } : {} // folders from before launchers have none
  return { ...binaryAt(root, arch), version: stamp.version, source: 'cache', ...withLauncher }
}

/** Whether `dir` is a provisioned i2pd folder (its stamp is there). */
export function isProvisionedRoot(dir: string): Promise<boolean> {
  return exists(join(dir, STAMP))
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

export interface ProvisionInit {
  cacheDir: string
  /** Which Debian release's i2pd (default DEFAULT_I2PD_RELEASE). */
  release?: I2pdRelease
}

export async function provisionI2pd(
  init: ProvisionInit,
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<I2pdBinary> {
  const { signal } = options
  signal?.throwIfAborted()
  const release = init.release ?? DEFAULT_I2PD_RELEASE
  const existing = await readProvisioned(init.cacheDir, release)
  if (existing !== undefined) return existing
  const log = components.logger.child({ component: 'provision' })
  await requireTools()
  const archName = await debianArch()
  const arch = MULTIARCH[archName]
  if (arch === undefined) throw provisionError(`no loader layout known for architecture ${archName}`)
  const started = Date.now()
  const debs = await downloadDebs(init.cacheDir, release, log, signal)
  const root = releaseRoot(init.cacheDir, release)
  const tmp = `${root}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  let version: string
  try {
    version = await unpack(debs, tmp, arch, signal)
    const stamp: Stamp = { version, arch: archName, suite: debianSuite(release) }
    await writeFile(join(tmp, STAMP), JSON.stringify(stamp))
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  await moveIntoPlace(tmp, root)
  log.info({ release, version, ms: Date.now() - started, root }, 'provisioned i2pd')
  return { ...binaryAt(root, arch), version, source: 'provisioned', launcher: join(root, LAUNCHER) }
}

/** Unpack `debs` into `root`, check the result runs on its own libraries, add the launcher; i2pd's version. */
async function unpack(debs: string[], root: string, arch: Multiarch, signal?: AbortSignal): Promise<string> {
  for (const deb of debs) await run('dpkg-deb', ['-x', deb, root], signal)
  await requireOwnLibraries(root, arch, signal)
  const probe = binaryAt(root, arch)
  const version = await i2pdVersion(probe.command, probe.args)
  await writeLauncher(root, arch)
  return version
}

/** i2pd's bundled certificates (reseed, family) in a provisioned folder. */
export function provisionedCertsDir(root: string): string {
  return join(root, 'usr', 'share', 'i2pd', 'certificates')
}

/** Where an unpacked i2pd's loader, libraries and binary are in `root`. */
function unpackedPaths(root: string, arch: Multiarch): { libDir: string; loader: string; binary: string } {
  const libDir = join(root, 'usr', 'lib', arch.triplet)
  return { libDir, loader: join(libDir, arch.loader), binary: join(root, 'usr', 'bin', 'i2pd') }
}

function binaryAt(root: string, arch: Multiarch): Omit<I2pdBinary, 'version' | 'source'> {
  const { libDir, loader, binary } = unpackedPaths(root, arch)
  return { command: loader, args: ['--library-path', libDir, binary], certsDir: provisionedCertsDir(root) }
}

/** Refuse an unpacked i2pd that would load a library from the host, or find none: what does its loader resolve? */
async function requireOwnLibraries(root: string, arch: Multiarch, signal?: AbortSignal): Promise<void> {
  const { libDir, loader, binary } = unpackedPaths(root, arch)
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync(loader, ['--library-path', libDir, '--list', binary], { signal }))
  } catch (cause) {
    signal?.throwIfAborted()
    // A library not found makes the loader exit non-zero; its list on stdout still says which.
    const out = (cause as { stdout?: unknown }).stdout
    if (typeof out !== 'string' || out === '')
      throw provisionError(`cannot run the unpacked loader in ${root}`, cause)
    stdout = out
  }
  const outside = librariesOutside(stdout, root)
  if (outside.length > 0) {
    throw provisionError(`the unpacked i2pd does not find these libraries in ${root}: ${outside.join(', ')}`)
  }
}

/** `<root>/i2pd`: runs the unpacked i2pd through the unpacked loader, wherever the folder is moved. */
async function writeLauncher(root: string, arch: Multiarch): Promise<void> {
  const lib = `"$here/usr/lib/${arch.triplet}"`
  const script =
    "#!/bin/sh\n# Written by PRouter's provisioning: i2pd with its own libraries (see docs/router.md).\n" +
    'here=$(dirname "$(readlink -f "$0")")\n' +
    `exec ${lib}/${arch.loader} --library-path ${lib} "$here/usr/bin/i2pd" "$@"\n`
  const path = join(root, LAUNCHER)
  await writeFile(path, script)
  await chmod(path, 0o755)
}

async function downloadDebs(
  cacheDir: string,
  release: I2pdRelease,
  log: Logger,
  signal?: AbortSignal,
): Promise<string[]> {
  const apt = releaseAptDir(cacheDir, release)
  const debDir = join(apt, 'debs')
  for (const dir of ['lists/partial', 'cache/archives/partial', 'debs']) {
    await mkdir(join(apt, dir), { recursive: true })
  }
  const suite = debianSuite(release)
  const sources = `deb [signed-by=${DEBIAN_KEYRING}] ${PROVISION_MIRROR} ${suite} main\n`
  await writeFile(join(apt, 'sources.list'), sources)
  await writeFile(join(apt, 'status'), '')
  const opts = privateAptOptions(apt)
  log.info({ suite }, 'apt-get update (private state)')
  await run('apt-get', [...opts, 'update'], signal)
  // apt-get update exits 0 when it fetched nothing (warnings only): say so, not "no packages found" later
  if (!(await readdir(join(apt, 'lists'))).some((name) => name.includes('_Packages'))) {
    throw provisionError(`apt-get update fetched no package list of Debian ${suite} from ${PROVISION_MIRROR}`)
  }
  const { stdout } = await run('apt-cache', [...opts, 'depends', ...DEPENDS_ONLY, ROOT_PACKAGE], signal)
  const packages = parseDependsClosure(stdout)
  if (!packages.includes(ROOT_PACKAGE)) throw provisionError(`Debian ${suite} has no ${ROOT_PACKAGE} package`)
  await rm(debDir, { recursive: true, force: true })
  await mkdir(debDir)
  log.info({ packages }, 'apt-get download')
  await run('apt-get', [...opts, 'download', ...packages], signal, debDir)
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
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
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

async function run(
  command: string,
  args: string[],
  signal?: AbortSignal,
  cwd?: string,
): Promise<{ stdout: string }> {
  try {
    return await execFileAsync(command, args, { signal, cwd, maxBuffer: 16 * 1024 * 1024 })
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
