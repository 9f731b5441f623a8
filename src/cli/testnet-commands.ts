/** `prouter testnet up|status|down`: a private I2P network on loopback, state under one folder. */
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import type { Testnet, TestnetProgress } from '../testnet/index.js'
import { createTestnet, publicView, stopTestnet, testnetStatus } from '../testnet/index.js'
import type { RouterStatus } from '../testnet/index.js'
import { DEFAULT_TESTNET_FLOODFILLS, DEFAULT_TESTNET_NETID, DEFAULT_TESTNET_ROUTERS } from '../constants.js'
import { netnsPrefix } from '../testnet/nat-network.js'
import { loadWanProfile } from '../testnet/wan/profile-file.js'
import { contextOf } from './context.js'
import { aborted, type Lifetime } from './lifetime.js'
import { mib, seconds, table } from './format.js'

export const DEFAULT_TESTNET_DIR = '.prouter/testnet'

interface UpOptions {
  dir: string
  routers: string
  floodfills: string
  unreachable: string
  netid: string
  json?: boolean
  nat?: boolean
  wan?: string
}

export function registerTestnetCommands(program: Command): void {
  const testnet = program.command('testnet').description('a private I2P network on loopback')
  const dirOption = () =>
    new Option('--dir <dir>', 'folder for all testnet state').default(DEFAULT_TESTNET_DIR)
  testnet
    .command('up')
    .description('start routers, reseed them from each other, return once client tunnels are built')
    .addOption(dirOption())
    .option('--routers <n>', 'number of routers', String(DEFAULT_TESTNET_ROUTERS))
    .option('--floodfills <n>', 'how many of them are floodfills', String(DEFAULT_TESTNET_FLOODFILLS))
    .option('--unreachable <n>', 'how many publish no address (reachable only through tunnels)', '0')
    .option('--netid <id>', 'private network id', String(DEFAULT_TESTNET_NETID))
    .option('--json', 'print machine-readable state')
    .option(
      '--nat',
      'each router in its own network namespace, the unreachable ones behind a NAT (root; stays in the foreground until Ctrl-C)',
    )
    .option(
      '--wan <profile>',
      'links between routers: lan (no delay), continental (20-60 ms one way, 0.1% loss), lossy (2% loss) or a JSON link table; implies --nat',
    )
    .action(up)
  testnet
    .command('status')
    .description('state and stats of each router')
    .addOption(dirOption())
    .option('--json')
    .action(status)
  testnet
    .command('down')
    .description('stop every router of the testnet')
    .addOption(dirOption())
    .option('--json')
    .action(down)
}

async function up(opts: UpOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd)
  const life = ctx.lifetime()
  const signal = life.signal
  const wan = opts.wan === undefined ? undefined : await loadWanProfile(opts.wan)
  if (wan !== undefined) opts.nat = true
  if (opts.nat === true) life.ownNamespaces(netnsPrefix(resolve(opts.dir)))
  const binary = await ctx.binary({ signal })
  const progress = (p: TestnetProgress): void => {
    if (opts.json !== true) process.stderr.write(describe(p) + '\n')
  }
  process.stderr.write(`i2pd ${binary.version} (${binary.source})\n`)
  const net = await createTestnet(
    {
      dir: resolve(opts.dir),
      binary,
      routers: Number(opts.routers),
      floodfills: Number(opts.floodfills),
      unreachable: Number(opts.unreachable),
      netId: Number(opts.netid),
      ...(opts.nat === true ? { network: 'nat' as const } : { detached: true }),
      ...(wan === undefined ? {} : { wan }),
    },
    { logger: ctx.logger, onProgress: progress },
    { signal },
  )
  if (opts.nat !== true) life.disown() // detached routers: they outlive this process, `testnet down` stops them
  if (opts.json === true) console.log(JSON.stringify(publicView(net.state), null, 2))
  else
    console.log(
      `testnet up in ${seconds(net.state.upMs ?? 0)}: ${net.routers.length} routers in ${net.dir}` +
        (net.state.wan === undefined ? '' : `, wan ${net.state.wan}`),
    )
  if (opts.nat === true) await untilInterrupted(net, life)
}

/** A NAT testnet lives with this process: print where each router is, wait for Ctrl-C, tear it all down. */
async function untilInterrupted(net: Testnet, life: Lifetime): Promise<void> {
  const rows = net.state.routers.map((r) => ({
    router: r.name,
    namespace: r.netns,
    address: r.host,
    role: r.behindNat === true ? 'behind NAT' : r.floodfill ? 'floodfill' : 'router',
    sam: `${r.sam.host}:${r.sam.port}`,
  }))
  console.log(table(rows))
  process.stderr.write('running; press Ctrl-C to stop and remove the namespaces\n')
  try {
    await aborted(life.signal)
  } finally {
    life.stopping()
    await net.destroy()
  }
  process.stderr.write('stopped: routers, agents and namespaces removed\n')
}

function describe(p: TestnetProgress): string {
  switch (p.step) {
    case 'keys':
      return `  ${p.router}: identity and router.info written`
    case 'reseed':
      return `  reseed bundle: ${p.routers} RouterInfos, ${p.bytes} bytes`
    case 'started':
      return `  ${p.router}: running (pid ${p.pid})`
    case 'tunnels':
      return `  client tunnels built on ${p.ready}/${p.of} routers`
    case 'up':
      return `  up after ${seconds(p.ms)}`
  }
}

async function status(opts: { dir: string; json?: boolean }): Promise<void> {
  const { state, routers } = await testnetStatus(resolve(opts.dir))
  if (opts.json === true) {
    const view = publicView(state) as { routers: object[] }
    const merged = view.routers.map((r, i) => ({ ...r, ...routers[i] }))
    console.log(JSON.stringify({ ...view, routers: merged }, null, 2))
    return
  }
  const wan = state.wan === undefined ? '' : `, wan ${state.wan}`
  console.log(`testnet ${state.dir} (netid ${state.netId}, i2pd ${state.version}${wan})`)
  console.log(
    table(state.routers.map((r, i) => statusRow(r.name, r.host, r.reachable, r.floodfill, routers[i]))),
  )
}

function statusRow(name: string, host: string, reachable: boolean, floodfill: boolean, s?: RouterStatus) {
  const st = s?.stats
  return {
    router: name,
    address: host,
    role: floodfill ? 'floodfill' : reachable ? 'router' : 'unreachable',
    pid: s?.running === true ? s.pid : 'stopped',
    net: st?.netStatusName ?? s?.error,
    tunnels: st === undefined ? undefined : st.clientTunnelsReady ? 'built' : 'building',
    peers: st === undefined ? undefined : `${st.activePeers}/${st.knownPeers}`,
    transit: st?.participatingTunnels,
    success: st === undefined ? undefined : `${st.tunnelSuccessRate}%`,
    'in/out': st === undefined ? undefined : `${mib(st.receivedBytes)} / ${mib(st.sentBytes)}`,
  }
}

async function down(opts: { dir: string; json?: boolean }): Promise<void> {
  const state = await stopTestnet(resolve(opts.dir))
  if (opts.json === true) console.log(JSON.stringify({ dir: state.dir, stopped: state.routers.length }))
  else console.log(`testnet ${state.dir}: ${state.routers.length} routers stopped`)
}
