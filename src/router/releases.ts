/**
 * Which Debian release PRouter provisions i2pd from, and the pure parts of provisioning: names, folders,
 * and the parsers of `apt-cache depends` and `ld.so --list` output (provision.ts runs the commands).
 * Each release has its own folders in the cache, so trixie's and sid's i2pd live side by side.
 */
import { join, sep } from 'node:path'
import { invalidOption } from '../errors.js'

/**
 * trixie: i2pd 2.56.0 (Debian stable). forky: Debian testing, 2.59.0 on 2026-12-07 (the default: packages reach
 * it after their time in sid; fixed once forky is released). sid: the newest Debian has (2.59.0 too today;
 * moves with every upload).
 */
export const I2PD_RELEASES = ['trixie', 'forky', 'sid'] as const
export type I2pdRelease = (typeof I2PD_RELEASES)[number]

export function isI2pdRelease(value: string): value is I2pdRelease {
  return (I2PD_RELEASES as readonly string[]).includes(value)
}

/** `value` as a release, or ERR_INVALID_OPTION naming `option` (a flag, variable or config key). */
export function parseI2pdRelease(value: string, option: string): I2pdRelease {
  if (isI2pdRelease(value)) return value
  throw invalidOption(option, `"${value}" is not one of ${I2PD_RELEASES.join(', ')}`)
}

/** The Debian suite a release is fetched from (the names are Debian's). */
export function debianSuite(release: I2pdRelease): string {
  return release
}

/** The unpacked i2pd of `release`: `<cacheDir>/i2pd-<release>` (trixie's folder keeps its old name). */
export function releaseRoot(cacheDir: string, release: I2pdRelease): string {
  return join(cacheDir, `i2pd-${release}`)
}

/** The private apt state (sources list, lists, archives, .debs) of `release`. */
export function releaseAptDir(cacheDir: string, release: I2pdRelease): string {
  return join(cacheDir, 'apt', release)
}

/**
 * The packages in the output of `apt-cache depends --recurse` (dependency types other than Depends switched
 * off): every line that names a package, i.e. does not start with a space. Virtual packages (`<name>`) have
 * no .deb; whatever provides them is listed on its own line.
 */
export function parseDependsClosure(output: string): string[] {
  const names = output
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith(' ') && !line.startsWith('<'))
    .map((line) => line.trim())
  return [...new Set(names)].sort()
}

/**
 * From the output of `<loader> --library-path <lib> --list <binary>`, each library that was not found or was
 * found outside `root` (on the host: it would work here by luck and break on a host without it). The vDSO
 * has no file and counts as inside.
 */
export function librariesOutside(output: string, root: string): string[] {
  const inside = root.endsWith(sep) ? root : root + sep
  const bad: string[] = []
  for (const raw of output.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue
    const arrow = /^(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))$/.exec(line)
    const path = arrow === null ? /^(\S+) \(0x[0-9a-f]+\)$/.exec(line)?.[1] : arrow[3]
    if (path === undefined || !path.startsWith(inside)) bad.push(arrow?.[1] ?? line)
  }
  return bad
}
