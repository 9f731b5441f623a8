/** `prouter router provision|version`: which i2pd PRouter would run, provisioning one when needed. */
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import { resolveI2pd, type I2pdBinary } from '../router/binary.js'
import { I2PD_RELEASES, parseI2pdRelease } from '../router/releases.js'
import { contextOf, type Context } from './context.js'

export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description('the i2pd router PRouter runs')
  router
    .command('provision')
    .description('find or provision an i2pd >= 2.51 (a Debian build, private apt state) and print it')
    .addOption(
      new Option(
        '--release <name>',
        `provision this Debian release's i2pd (${I2PD_RELEASES.join(', ')}) into the cache, ignoring PATH and --i2pd`,
      ).env('PROUTER_I2PD_RELEASE'),
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean; release?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const started = Date.now()
      const binary = await binaryOf(ctx, opts.release)
      const ms = Date.now() - started
      if (opts.json === true) {
        console.log(JSON.stringify({ ...binary, ms }))
        return
      }
      console.log(`i2pd ${binary.version} (${binary.source}, ${ms} ms)`)
      console.log(`run as: ${[binary.command, ...binary.args].join(' ')}`)
      if (binary.launcher !== undefined)
        console.log(`launcher (for --i2pd, PROUTER_I2PD): ${binary.launcher}`)
    })
}

/** Without a release: what every command would run. With one: that release's i2pd, provisioned when missing. */
function binaryOf(ctx: Context, release: string | undefined): Promise<I2pdBinary> {
  if (release === undefined || release === '') return ctx.binary()
  const cacheDir = resolve(ctx.options.cacheDir)
  return resolveI2pd(
    { cacheDir, release: parseI2pdRelease(release, '--release / PROUTER_I2PD_RELEASE') },
    { logger: ctx.logger },
  )
}
