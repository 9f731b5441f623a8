#!/usr/bin/env node
/** The `prouter` command. */
import { Command } from 'commander'
import { isPRouterError } from '../errors.js'
import { addGlobalOptions } from './context.js'
import { registerRouterCommands } from './router-commands.js'
import { registerTestnetCommands } from './testnet-commands.js'
import { registerDemoCommand } from './demo-command.js'
import { registerKeysCommands } from './keys-commands.js'
import { registerRegistryCommands } from './registry-commands.js'
import { registerReseedCommands } from './reseed-commands.js'
import { registerReportCommands } from './report-commands.js'
import { registerRunCommand } from './run-command.js'
import { registerSendCommand } from './send-command.js'

const program = new Command('prouter')
  .description('reach any worker by its key, over I2P')
  .showHelpAfterError()
addGlobalOptions(program)
registerRouterCommands(program)
registerTestnetCommands(program)
registerDemoCommand(program)
registerKeysCommands(program)
registerRegistryCommands(program)
registerReseedCommands(program)
registerReportCommands(program)
registerRunCommand(program)
registerSendCommand(program)

try {
  await program.parseAsync()
} catch (err) {
  if (isPRouterError(err)) {
    process.stderr.write(`prouter: ${err.code}: ${err.message}\n`)
  } else {
    process.stderr.write(`prouter: ${err instanceof Error ? err.message : String(err)}\n`)
  }
  process.exitCode = 1
}
