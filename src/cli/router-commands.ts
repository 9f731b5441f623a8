/** `prouter router provision|version`: which i2pd PRouter would run, provisioning one when needed. */
import { Option } from 'commander'
import type { Command } from 'commander'
import { I2PD_RELEASES, parseI2pdRelease } from '../router/releases.js'
import { contextOf } from './context.js'

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
      const release =
        opts.release === undefined || opts.release === ''
          ? undefined
          : parseI2pdRelease(opts.release, '--release / PROUTER_I2PD_RELEASE')
      const binary = await ctx.binary(release === undefined ? {} : { release })
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
