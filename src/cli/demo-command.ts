/**
 * `prouter demo`: the main job. Brings up a local PRouter network — a private I2P testnet, the local
 * registry, and three workers each with a sample service (charlie's router publishes no address) — then
 * sends a request from alice to charlie by charlie's worker key and prints the latency and who charlie's
 * service was told called. Keeps running (status URLs printed) until Ctrl-C, then stops everything it started,
 * whatever signals follow (lifetime.ts). Everything lives under --dir: the testnet in `testnet/`, the
 * registry's store in `registry/`, each worker's data folder in `workers/<name>/`.
 */
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import type { WorkerNet, WorkerNode } from '../testnet/workers.js'
import { percentile } from '../testnet/measure.js'
import { netnsPrefix } from '../testnet/nat-network.js'
import { runWorkerProcess, type WorkerProcess } from '../testnet/worker-process.js'
import { loadWanProfile } from '../testnet/wan/profile-file.js'
import { contextOf } from './context.js'
import { aborted } from './lifetime.js'
import { seconds, table } from './format.js'

interface DemoOptions {
  dir: string
  hops: string
  once?: boolean
  nat?: boolean
  wan?: string
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up a local PRouter network of three workers and have alice call charlie by key')
    .option('--dir <dir>', 'folder for the demo network', '.prouter/demo')
    .option('--hops <n>', 'tunnel length in each direction', '1')
    .option('--once', 'stop after the requests instead of waiting for Ctrl-C')
    .option(
      '--nat',
      'routers in network namespaces; charlie behind his own NAT running prouter run with his own i2pd (root; alice and charlie only)',
    )
    .option(
      '--wan <profile>',
      'with --nat: links lan, continental, lossy or a JSON link table (implies --nat)',
    )
    .action(demo)
}

async function demo(opts: DemoOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd)
  const life = ctx.lifetime()
  const signal = life.signal
  const dir = resolve(opts.dir)
  const wan = opts.wan === undefined ? undefined : await loadWanProfile(opts.wan)
  if (wan !== undefined) opts.nat = true
  // createWorkerNet keeps its testnet in <dir>/testnet, whose namespaces carry that folder's prefix
  if (opts.nat === true) life.ownNamespaces(netnsPrefix(join(dir, 'testnet')))
  const binary = await ctx.binary({ signal })
  say(`i2pd ${binary.version} (${binary.source})`)
  const started = performance.now()
  const { createWorkerNet } = await import('../testnet/workers.js') // not loaded by the other commands
  const net = await createWorkerNet(
    {
      dir,
      binary,
      hops: Number(opts.hops),
      cacheDir: ctx.cacheDir(),
      network: opts.nat === true ? 'nat' : 'loopback',
      ...(wan === undefined ? {} : { wan }),
    },
    { logger: ctx.logger },
    { signal },
  )
  const processes: WorkerProcess[] = []
  try {
    say(
      `network up in ${seconds(performance.now() - started)}: ${net.testnet.routers.length} testnet routers` +
        `${opts.nat === true ? ' in network namespaces' : ''}${net.testnet.state.wan === undefined ? '' : `, wan ${net.testnet.state.wan}`}, registry ${net.registryUrl}`,
    )
    for (const w of net.workers.filter((x) => x.host !== undefined))
      processes.push(await startProcess(net, w))
    printWorkers(net, processes)
    await callCharlie(net, signal)
    printStatusUrls(net, processes)
    if (opts.once !== true) {
      say('running; press Ctrl-C to stop')
      await aborted(signal)
    }
  } finally {
    life.stopping()
    for (const p of processes) await p.stop()
    await net.destroy()
    say('stopped: every daemon, router and service this demo started')
  }
}

/** A managed worker behind NAT: its `prouter run` inside its namespace, its i2pd with it. */
async function startProcess(net: WorkerNet, w: WorkerNode): Promise<WorkerProcess & { name: string }> {
  const p = await runWorkerProcess(net, w)
  say(`${w.name}: prouter run (pid ${p.pid}) ready in ${seconds(p.readyMs)} inside ${w.host?.netns ?? '?'}`)
  return { ...p, name: w.name }
}

function printWorkers(net: WorkerNet, processes: readonly WorkerProcess[]): void {
  const rows = net.workers.map((w) => ({
    worker: w.name,
    key: w.workerKey,
    address: w.daemon?.b32 ?? '',
    router: w.host === undefined ? routerOf(net, w) : behindNat(w, processes),
  }))
  console.log(table(rows))
}

function behindNat(w: WorkerNode, processes: readonly WorkerProcess[]): string {
  const p = processes.find((x) => x.workerKey === w.workerKey)
  return `own i2pd behind a NAT (${w.host?.address ?? '?'}, namespace ${w.host?.netns ?? '?'}), prouter run pid ${p?.pid ?? '?'}`
}

function routerOf(net: WorkerNet, w: WorkerNode): string {
  const r = w.daemon?.config.router
  if (r?.mode === 'managed')
    return `own i2pd, pid ${w.daemon?.router.router?.pid ?? '?'}, reseeded from the registry`
  const rec = net.testnet.state.routers.find((t) => t.sam.port === r?.sam.port)
  if (rec?.behindNat === true) return `${rec.name}, behind a NAT (${rec.host}, namespace ${rec.netns ?? '?'})`
  if (rec?.netns !== undefined) return `${rec.name}, public (${rec.host}, namespace ${rec.netns})`
  return `attached to ${rec?.name ?? '?'} (publishes no address)`
}

async function callCharlie(net: WorkerNet, signal: AbortSignal): Promise<void> {
  const alice = net.worker('alice')
  const charlie = net.worker('charlie')
  const first = await call(alice, charlie.workerKey, signal)
  say(`alice -> charlie by key: HTTP ${first.status} in ${ms(first.ms)} (first request)`)
  say(`charlie's service was told the caller is ${String(first.body.caller)}`)
  say(
    first.body.caller === alice.workerKey
      ? '  = alice: verified by her signed binding'
      : '  != alice: NOT verified',
  )
  const warm: number[] = []
  for (let i = 0; i < 20; i++) warm.push((await call(alice, charlie.workerKey, signal)).ms)
  say(
    `20 more requests: p50 ${ms(percentile(warm, 50))}, p99 ${ms(percentile(warm, 99))} (kept-alive stream)`,
  )
}

async function call(
  from: WorkerNode,
  to: string,
  signal: AbortSignal,
): Promise<{ status: number; ms: number; body: Record<string, unknown> }> {
  const daemon = from.daemon
  if (daemon === undefined) throw new Error(`${from.name} runs no daemon`)
  const t0 = performance.now()
  const res = await fetch(`${daemon.apiUrl}/v1/workers/${to}/hello`, {
    headers: { authorization: `Bearer ${daemon.config.api.token}` },
    signal,
  })
  const body = (await res.json()) as Record<string, unknown>
  return { status: res.status, ms: performance.now() - t0, body }
}

function printStatusUrls(net: WorkerNet, processes: readonly WorkerProcess[]): void {
  for (const p of processes)
    say(`${p.workerKey.slice(0, 10)}… (behind NAT): ${p.apiUrl}/v1/status (forwarded into its namespace)`)
  for (const w of net.workers) {
    if (w.daemon === undefined) continue
    say(`${w.name}: ${w.daemon.apiUrl}/v1/status  (token in ${w.daemon.config.dataDir}/api.token)`)
    say(
      `${w.name}'s status page: ${w.daemon.apiUrl}/status#token=$(cat ${w.daemon.config.dataDir}/api.token)`,
    )
  }
  const alice = net.worker('alice').daemon
  if (alice !== undefined) {
    say(
      `try: curl -H "Authorization: Bearer $(cat ${alice.config.dataDir}/api.token)" ${alice.apiUrl}/v1/workers/${net.worker('charlie').workerKey}/hello`,
    )
  }
}

function ms(v: number): string {
  return `${v.toFixed(1)} ms`
}

function say(line: string): void {
  console.log(line)
}
