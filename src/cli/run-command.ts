/**
 * `prouter run`: the daemon beside a worker. Options come from a JSON file (--config / PROUTER_CONFIG), then
 * `PROUTER_*` variables, then these flags (docs/config.md). Prints one ready line on stdout (JSON with
 * --json) once the API listens, the binding is published and the SAM session is up; stops cleanly on
 * SIGINT/SIGTERM, its router included, whatever signals follow (lifetime.ts).
 */
import { Option, type Command } from 'commander'
import { invalidOption } from '../errors.js'
import { loadDaemonConfig, type DaemonConfigInput } from '../daemon/config.js'
import { createDaemon } from '../daemon/daemon.js'
import { contextOf } from './context.js'
import { aborted } from './lifetime.js'

interface RunOptions {
  config?: string
  dataDir?: string
  sam?: string
  hops?: string
  apiPort?: string
  service?: string
  json?: boolean
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      "run the daemon: this worker's router, its binding, inbound and outbound relays, the local API",
    )
    .addOption(new Option('--config <file>', 'JSON config file (docs/config.md)').env('PROUTER_CONFIG'))
    .option('--data-dir <dir>', 'state folder (keys, router, api.token)')
    .option('--sam <host:port>', "attach to this router's SAM bridge instead of running one")
    .option('--hops <n>', 'tunnel length, both directions (0..7)')
    .option('--api-port <port>', 'local API port (0: any free one)')
    .option('--service <url>', "the worker's own service, where inbound requests go")
    .option('--json', 'print the ready line as JSON')
    .action(run)
}

async function run(opts: RunOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd)
  const life = ctx.lifetime()
  const signal = life.signal
  const config = await loadDaemonConfig({
    ...(opts.config === undefined ? {} : { file: opts.config }),
    env: process.env,
    flags: flagsLayer(opts, i2pdFlag(cmd)),
  })
  const daemon = await createDaemon(config, { logger: ctx.logger, cacheDir: ctx.cacheDir() })
  try {
    await daemon.start({ signal })
    const ready = { ready: true, workerKey: daemon.workerKey, b32: daemon.b32, api: daemon.apiUrl }
    console.log(
      opts.json === true
        ? JSON.stringify(ready)
        : `prouter ready: worker ${ready.workerKey} at ${ready.b32}, API ${ready.api}`,
    )
    await aborted(signal)
  } finally {
    life.stopping()
    await daemon.stop()
  }
}

function flagsLayer(o: RunOptions, i2pd: string | undefined): DaemonConfigInput {
  const flags: Record<string, unknown> = {}
  if (o.dataDir !== undefined) flags.dataDir = o.dataDir
  if (o.sam !== undefined) flags.router = { mode: 'attach', sam: hostPort(o.sam, '--sam') }
  else if (i2pd !== undefined) flags.router = { i2pd }
  if (o.hops !== undefined) flags.hops = integer(o.hops, '--hops')
  if (o.apiPort !== undefined) flags.api = { port: integer(o.apiPort, '--api-port') }
  if (o.service !== undefined) flags.service = { url: o.service }
  return flags
}

/** `--i2pd` given as a flag (PROUTER_I2PD, the same option from the environment, is the env layer's). */
function i2pdFlag(cmd: Command): string | undefined {
  let c: Command | null = cmd
  while (c !== null && c.getOptionValueSource('i2pd') === undefined) c = c.parent
  return c?.getOptionValueSource('i2pd') === 'cli' ? (c.getOptionValue('i2pd') as string) : undefined
}

function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw invalidOption(flag, `must be a whole number, got "${value}"`)
  return Number(value)
}

function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(value)
  if (m?.[1] === undefined || m[2] === undefined)
    throw invalidOption(flag, `must be host:port, got "${value}"`)
  return { host: m[1], port: Number(m[2]) }
}
