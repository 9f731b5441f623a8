/**
 * `prouter reseed build`: the SU3 reseed bundle a daemon with `router.reseed.fromRegistry` would build —
 * the registry's verified, usable RouterInfos signed with the daemon's reseed key — written to a file, for
 * inspection or for a router set up by other means. The bundle is read back and verified with the key's
 * certificate before anything is printed.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import { DEFAULT_DATA_DIR, RESEED_BUNDLE_MAX_ROUTERS } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'
import { writeFileAtomic } from '../files.js'
import type { RegistryBundle } from '../daemon/registry-reseed.js'
import { contextOf } from './context.js'
import type { RegistryOptions } from './registry-options.js'
import { addRegistryOptions, registrySpec } from './registry-options.js'

/** A zip counts its entries in 16 bits (src/reseed/bundle.ts refuses more). */
const MAX_BUNDLE_ROUTERS = 0xffff

interface BuildOptions extends RegistryOptions {
  out: string
  netid: string
  keyDir?: string
  max: string
  certsDir?: string
  json?: boolean
}

export function registerReseedCommands(program: Command): void {
  const reseed = program.command('reseed').description('signed reseed bundles built from the registry')
  addRegistryOptions(
    reseed
      .command('build')
      .description("write the SU3 bundle of the registry's usable RouterInfos the daemon would build")
      .requiredOption('--out <file>', 'the .su3 file to write (atomically, mode 0644)')
      .addOption(
        new Option('--netid <n>', 'network of the routers, 1..255 (2: the public I2P network)')
          .env('PROUTER_NETID')
          .makeOptionMandatory(),
      )
      .option(
        '--key-dir <dir>',
        "reseed key folder (default: the daemon's, <PROUTER_DATA_DIR or .prouter>/reseed)",
      )
      .option('--max <n>', 'most RouterInfos in the bundle', String(RESEED_BUNDLE_MAX_ROUTERS))
      .option(
        '--certs-dir <dir>',
        "also install the certificate as <dir>/reseed/<signer>.crt (i2pd's certsdir)",
      )
      .option('--json', 'machine-readable output'),
  ).action(build)
}

async function build(o: BuildOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd)
  const init = {
    netId: wholeNumber(o.netid, '--netid', 255),
    max: wholeNumber(o.max, '--max', MAX_BUNDLE_ROUTERS),
    keyDir: resolve(o.keyDir ?? defaultKeyDir()),
  }
  const out = resolve(o.out)
  // loaded here, not at the top: `prouter run` shares main.ts and should not carry what only this needs
  const { createRegistry } = await import('../registry/resolver.js')
  const { openRegistryBackend } = await import('../registry/open.js')
  const { buildRegistryBundle } = await import('../daemon/registry-reseed.js')
  const { installReseedCertificate, RESEED_CERTIFICATE_FILE } = await import('../reseed/index.js')
  const registry = createRegistry({ backend: await openRegistryBackend(await registrySpec(o), ctx) }, ctx)
  const bundle = await buildRegistryBundle(registry, init).finally(() => registry.close())
  await writeFileAtomic(out, bundle.su3, 0o644)
  const certificate = join(init.keyDir, RESEED_CERTIFICATE_FILE)
  await checkWritten(out, certificate, bundle)
  const installed =
    o.certsDir === undefined
      ? undefined
      : await installReseedCertificate(resolve(o.certsDir), bundle.key.signerId, bundle.key.certificatePem)
  print(
    { file: out, netId: init.netId, certificate, ...(installed === undefined ? {} : { installed }) },
    bundle,
    o.json === true,
  )
}

/** The daemon's key folder: `<dataDir>/reseed`, with dataDir from PROUTER_DATA_DIR as the daemon reads it. */
function defaultKeyDir(): string {
  const dataDir = process.env.PROUTER_DATA_DIR?.trim()
  return join(dataDir === undefined || dataDir === '' ? DEFAULT_DATA_DIR : dataDir, 'reseed')
}

function wholeNumber(value: string, flag: string, max: number): number {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= max)) throw invalidOption(flag, `must be a whole number 1..${max}, got "${value}"`)
  return n
}

/** Self-check: the file on disk parses as an SU3 and verifies with the certificate file printed. */
async function checkWritten(file: string, certificate: string, bundle: RegistryBundle): Promise<void> {
  const { readSu3 } = await import('../reseed/index.js')
  const trusted = new Map([[bundle.key.signerId, await readFile(certificate, 'utf8')]])
  const read = readSu3(await readFile(file), { trusted })
  if (!read.verified || read.content.length === 0) {
    throw new PRouterError('ERR_INTERNAL', `${file}: the bundle just written does not read back`)
  }
}

interface Written {
  file: string
  netId: number
  certificate: string
  installed?: string
}

function print(written: Written, bundle: RegistryBundle, json: boolean): void {
  const { routers } = bundle
  const view = {
    ...written,
    bytes: bundle.su3.length,
    routers: routers.length,
    floodfills: routers.filter((ri) => ri.floodfill).length,
    reachable: routers.filter((ri) => ri.reachable).length,
    verified: bundle.verified,
    signerId: bundle.key.signerId,
    ids: routers.map((ri) => ri.id),
  }
  if (json) {
    console.log(JSON.stringify(view))
    return
  }
  console.log(`file         ${view.file} (${view.bytes} bytes, read back and verified)`)
  console.log(
    `routers      ${view.routers}: ${view.floodfills} floodfill, ${view.reachable} reachable ` +
      `(network ${view.netId}; ${view.verified} verified in the registry)`,
  )
  console.log(`signer       ${view.signerId}`)
  console.log(`certificate  ${view.certificate}`)
  if (view.installed !== undefined) console.log(`installed    ${view.installed}`)
  for (const ri of routers) {
    const published = new Date(ri.published).toISOString()
    console.log(`  ${ri.id}  ${ri.caps.padEnd(4)}  ${published}`)
  }
}
