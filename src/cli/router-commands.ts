/** `prouter router provision|version`: which i2pd PRouter would run, provisioning one when needed. */
import type { Command } from 'commander'
import { contextOf } from './context.js'

export function registerRouterCommands(program: Command): void {
  const router = program.command('router').description('the i2pd router PRouter runs')
  router
    .command('provision')
    .description('find or provision an i2pd >= 2.51 (Debian trixie build, private apt state) and print it')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const started = Date.now()
      const binary = await ctx.binary()
      const ms = Date.now() - started
      if (opts.json === true) {
        console.log(JSON.stringify({ ...binary, ms }))
        return
      }
      console.log(`i2pd ${binary.version} (${binary.source}, ${ms} ms)`)
      console.log(`run as: ${[binary.command, ...binary.args].join(' ')}`)
    })
}
