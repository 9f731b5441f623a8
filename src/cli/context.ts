/** What every command shares: the logger, the cache folder, and how to find i2pd. */
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import type { Logger } from '../logger.js'
import { createLogger } from '../logger.js'
import type { I2pdBinary } from '../router/binary.js'
import type { I2pdRelease } from '../router/releases.js'
import { defaultCacheDir, resolveI2pd } from '../router/binary.js'
import { DEFAULT_CLI_TEARDOWN_TIMEOUT } from '../constants.js'
import { invalidOption } from '../errors.js'
import { createLifetime, type Lifetime } from './lifetime.js'

export interface GlobalOptions {
  logLevel: string
  cacheDir?: string
  i2pd?: string
  teardownTimeout: string
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)')
        .env('PROUTER_LOG_LEVEL')
        .default('warn'),
    )
    .addOption(
      // no default value here: finding the home folder may fail (no HOME, no passwd entry); see cacheDir()
      new Option(
        '--cache-dir <dir>',
        'where provisioned i2pd lives (default: $XDG_CACHE_HOME/prouter, ~/.cache/prouter, or /var/cache/prouter for root with no home)',
      ).env('PROUTER_CACHE_DIR'),
    )
    .addOption(
      new Option('--i2pd <path>', 'i2pd binary to use (overrides PATH and provisioning)').env('PROUTER_I2PD'),
    )
    .addOption(
      new Option(
        '--teardown-timeout <ms>',
        'after a stop signal, force exit (killing what was started) if teardown takes longer',
      )
        .env('PROUTER_TEARDOWN_TIMEOUT')
        .default(String(DEFAULT_CLI_TEARDOWN_TIMEOUT)),
    )
}

export interface Context {
  logger: Logger
  options: GlobalOptions
  /** The cache folder: --cache-dir, else the default, worked out (and failing) only when asked for. */
  cacheDir(): string
  /** The i2pd every command runs (--i2pd, PATH or provisioned); with `release`, that Debian release's, provisioned
   * into the cache when missing. */
  binary(options?: { signal?: AbortSignal; release?: I2pdRelease }): Promise<I2pdBinary>
  /** For a long-running command: its stop signal and teardown rules (lifetime.ts). Call once. */
  lifetime(): Lifetime
}

export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>()
  const logger = createLogger({ level: options.logLevel })
  const cacheDir = (): string => resolve(options.cacheDir ?? defaultCacheDir())
  return {
    logger,
    options,
    cacheDir,
    binary: ({ signal, release } = {}) => {
      const explicit =
        release === undefined && options.i2pd !== undefined ? { explicitPath: options.i2pd } : {}
      return resolveI2pd(
        { cacheDir: cacheDir(), ...explicit, ...(release === undefined ? {} : { release }) },
        { logger },
        { signal },
      )
    },
    lifetime: () => createLifetime({ logger }, { teardownTimeout: teardownTimeout(options.teardownTimeout) }),
  }
}

function teardownTimeout(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0)
    throw invalidOption('--teardown-timeout', `must be a positive whole number of ms, got "${value}"`)
  return Number(value)
}
