/** What every command shares: the logger, the cache folder, and how to find i2pd. */
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import type { Logger } from '../logger.js'
import { createLogger } from '../logger.js'
import type { I2pdBinary } from '../router/binary.js'
import { defaultCacheDir, resolveI2pd } from '../router/binary.js'

export interface GlobalOptions {
  logLevel: string
  cacheDir: string
  i2pd?: string
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)')
        .env('PROUTER_LOG_LEVEL')
        .default('warn'),
    )
    .addOption(
      new Option('--cache-dir <dir>', 'where provisioned i2pd lives')
        .env('PROUTER_CACHE_DIR')
        .default(defaultCacheDir()),
    )
    .addOption(
      new Option('--i2pd <path>', 'i2pd binary to use (overrides PATH and provisioning)').env('PROUTER_I2PD'),
    )
}

export interface Context {
  logger: Logger
  options: GlobalOptions
  binary(signal?: AbortSignal): Promise<I2pdBinary>
}

export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>()
  const logger = createLogger({ level: options.logLevel })
  const cacheDir = resolve(options.cacheDir)
  return {
    logger,
    options,
    binary: (signal) =>
      resolveI2pd(
        { cacheDir, ...(options.i2pd === undefined ? {} : { explicitPath: options.i2pd }) },
        { logger },
        { signal },
      ),
  }
}

/** An AbortSignal that fires on the first SIGINT/SIGTERM; a second one exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController()
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130)
    process.stderr.write(`\n${sig}: stopping…\n`)
    controller.abort(new Error(`interrupted by ${sig}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return controller.signal
}
