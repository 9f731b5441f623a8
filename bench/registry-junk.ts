/**
 * The EVM registry under junk (issue 13, attack 2): on a local anvil node, 1,000 real workers publish their
 * bindings, then a spammer logs 10,000 forged 2 KiB bindings for one of them (all claiming newer signing
 * times than its real one, so none can be dropped unverified). Each phase runs in a fresh process, as a
 * freshly started daemon would: its own verdict cache, and the EVM index file in a data dir shared between
 * the phases.
 *
 *   first sync    resolve of the spammed key, list() of every worker, resolve of another worker
 *   after sync    a fresh process: resolve of the spammed key, of another worker, reverse of an unknown
 *                 address, list()
 *
 * Printed per phase: times, the event loop's longest stall (perf_hooks monitorEventLoopDelay, wall) and the
 * most CPU time between two 5 ms ticks (the longest synchronous stretch, unaffected by a loaded machine),
 * and RSS: after the warm-up, at peak (the whole process, which runs TypeScript through tsx: ~150 MiB before
 * any lookup), and the growth between the two (what the lookups cost).
 *
 *   npm run bench:registry-junk              (JUNK=10000 WORKERS=1000 by default)
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { i2pEndpoint, signBinding, verifyBinding, workerKeyFromSuri } from '../src/identity/index.js'
import { createLogger } from '../src/logger.js'
import { createRegistry } from '../src/registry/resolver.js'
import { createEvmBackend, deployRegistry } from '../src/registry/evm/index.js'
import type { EvmBackendInit } from '../src/registry/evm/index.js'
import { createEvmRpc } from '../src/registry/evm/rpc.js'
import { startAnvil } from '../test/helpers/anvil.js'
import { submitMany } from '../test/helpers/evm-spam.js'
import { junkBinding } from '../test/helpers/junk-bindings.js'
import { watchLoopBlocks } from '../test/helpers/loop-blocks.js'

const JUNK = Number(process.env.JUNK ?? 10_000)
const WORKERS = Number(process.env.WORKERS ?? 1_000)
const logger = createLogger({ level: 'warn' })
const MIB = 1024 * 1024
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

interface Setup {
  rpcUrl: string
  contract: `0x${string}`
  fromBlock: string
  indexPath: string
  spammed: string
  other: string
}

type Figures = Record<string, string>

function b32(seed: number): string {
  const chars = Array.from({ length: 51 }, (_, i) => BASE32[(seed * 7 + i * 13) % 32]).join('')
  return `${chars}a.b32.i2p`
}

async function timed<T>(figures: Figures, name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  const result = await run()
  figures[name] = `${(performance.now() - t0).toFixed(0)} ms`
  return result
}

/** One phase, in this (fresh) process: prints its figures as one JSON line. */
async function phase(name: string, setup: Setup): Promise<void> {
  await warmUp(setup.rpcUrl)
  const warmRss = process.memoryUsage().rss
  const figures: Figures = { 'RSS after warm-up': `${(warmRss / MIB).toFixed(0)} MiB` }
  const delay = monitorEventLoopDelay({ resolution: 5 })
  const loop = watchLoopBlocks()
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)
  delay.enable()
  const init: EvmBackendInit & { indexPath: string } = {
    rpcUrl: setup.rpcUrl,
    contract: setup.contract,
    fromBlock: BigInt(setup.fromBlock),
    rpcTimeout: 60_000,
    indexPath: setup.indexPath,
  }
  const registry = createRegistry({ backend: createEvmBackend(init, { logger }) }, { logger })
  if (name === 'first sync') {
    await timed(figures, 'resolve spammed key', () => registry.resolve(setup.spammed))
    const listed = await timed(figures, 'list()', () => registry.list())
    figures['workers listed'] = String(listed.length)
    await timed(figures, 'resolve another worker', () => registry.resolve(setup.other))
  } else {
    await timed(figures, 'resolve spammed key', () => registry.resolve(setup.spammed))
    await timed(figures, 'resolve another worker', () => registry.resolve(setup.other))
    await timed(figures, 'reverse unknown address', () =>
      registry.reverse(b32(999_999)).catch(() => 'not found'),
    )
    const listed = await timed(figures, 'list()', () => registry.list())
    figures['workers listed'] = String(listed.length)
  }
  await registry.close()
  delay.disable()
  clearInterval(sampler)
  const held = loop.stop()
  figures['event loop max delay (wall)'] = `${(delay.max / 1e6).toFixed(1)} ms`
  figures['longest synchronous stretch (CPU)'] = `${held.maxCpuMs.toFixed(1)} ms`
  const under = import.meta.url.endsWith('.ts') ? 'tsx included' : 'compiled, no tsx'
  figures[`peak RSS (whole process, ${under})`] = `${(peakRss / MIB).toFixed(0)} MiB`
  figures['RSS growth (peak - after warm-up)'] = `${((peakRss - warmRss) / MIB).toFixed(0)} MiB`
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}

/**
 * What a running daemon has already done once: load the crypto (sr25519's first verify builds its tables)
 * and the EVM client. Not counted: the figures are those of lookups, not of a process start.
 */
async function warmUp(rpcUrl: string): Promise<void> {
  const pair = await workerKeyFromSuri('//warm-up')
  verifyBinding(signBinding(pair, [i2pEndpoint(b32(1))], Date.now()))
  const rpc = createEvmRpc({ rpcUrl, timeout: 10_000, pollInterval: 1_000 })
  await rpc.client.getBlockNumber()
}

function runPhase(name: string, setup: Setup): Promise<Figures> {
  const self = fileURLToPath(import.meta.url)
  // compiled (`npm run bench:registry-junk:compiled`): phases run without tsx, as a daemon would
  const loader = self.endsWith('.ts') ? ['--import', 'tsx'] : []
  const child = spawn(process.execPath, [...loader, self, 'phase', name, JSON.stringify(setup)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`phase ${name} exited with ${String(code)}`))
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Figures)
    })
  })
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = []
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-junk-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  try {
    const anvil = await startAnvil({ after: (fn) => cleanups.push(fn) })
    const [deployer, relayer, spammer] = anvil.privateKeys
    const deployed = await deployRegistry({ rpcUrl: anvil.rpcUrl, relayerKey: deployer ?? '' }, { logger })
    let t0 = performance.now()
    const pairs = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) => workerKeyFromSuri(`//bench-${i}`)),
    )
    const now = Date.now()
    const bindings = pairs.map((p, i) => signBinding(p, [i2pEndpoint(b32(i))], now - 120_000 + i))
    await submitMany(anvil.rpcUrl, deployed.address, relayer ?? '', bindings)
    const [spammed, other] = pairs
    if (spammed === undefined || other === undefined) throw new Error('WORKERS must be at least 2')
    const junk = Array.from({ length: JUNK }, (_, i) => junkBinding(spammed.publicKey, now - 60_000 + i))
    const { blocks } = await submitMany(anvil.rpcUrl, deployed.address, spammer ?? '', junk)
    const setupS = ((performance.now() - t0) / 1000).toFixed(0)
    console.log(
      `${WORKERS} workers and ${JUNK} junk 2 KiB events for one key (${blocks} blocks), set up in ${setupS} s`,
    )
    const setup: Setup = {
      rpcUrl: anvil.rpcUrl,
      contract: deployed.address,
      fromBlock: String(deployed.blockNumber),
      indexPath: join(dir, 'registry-evm-index.json'),
      spammed: spammed.workerKey,
      other: other.workerKey,
    }
    for (const name of ['first sync', 'after sync']) {
      t0 = performance.now()
      const figures = await runPhase(name, setup)
      console.log(`\n${name} (fresh process, ${((performance.now() - t0) / 1000).toFixed(1)} s in all)`)
      for (const [what, value] of Object.entries(figures)) console.log(`  ${what.padEnd(40)} ${value}`)
    }
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined)
  }
}

if (process.argv[2] === 'phase') {
  await phase(process.argv[3] ?? '', JSON.parse(process.argv[4] ?? '{}') as Setup)
} else {
  await main()
}
