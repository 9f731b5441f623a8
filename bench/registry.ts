/**
 * Registry benchmark: publish and resolve on every backend in one run — the embedded store, the same over
 * HTTP on loopback, and the EVM contract on a local anvil node. Resolve is measured uncached (backend read +
 * sr25519 verification) and cached (the resolver's TTL cache). Prints a table.
 *
 *   npm run bench:registry
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDestinationKeys } from '../src/i2p/index.js'
import { i2pEndpoint, signBinding, workerKeyFromSuri } from '../src/identity/index.js'
import type { WorkerKeyPair } from '../src/identity/index.js'
import { createLogger } from '../src/logger.js'
import type { RegistryBackend } from '../src/registry/index.js'
import {
  createHttpBackend,
  createRegistry,
  createRegistryServer,
  openLocalStore,
} from '../src/registry/index.js'
import { createEvmBackend, deployRegistry } from '../src/registry/evm/index.js'
import { percentile } from '../src/testnet/measure.js'
import { startAnvil } from '../test/helpers/anvil.js'

const logger = createLogger({ level: 'warn' })
const PUBLISHES = 20
const RESOLVES = 50
const CACHED = 10_000
const cleanups: Array<() => Promise<void>> = []

interface Row {
  backend: string
  publishP50: number
  resolveP50: number
  resolveP99: number
  cachedUs: number
}

async function measure(name: string, backend: RegistryBackend, workers: WorkerKeyPair[]): Promise<Row> {
  const registry = createRegistry({ backend, cacheTtlMs: 0 }, { logger })
  const publishes: number[] = []
  const endpoint = i2pEndpoint((await generateDestinationKeys()).b32)
  for (let i = 0; i < PUBLISHES; i++) {
    const binding = signBinding(
      workers[i % workers.length] as WorkerKeyPair,
      [endpoint],
      Date.now() - 1000 + i,
    )
    const t0 = performance.now()
    await registry.publish(binding)
    publishes.push(performance.now() - t0)
  }
  const key = (workers[0] as WorkerKeyPair).workerKey
  const resolves: number[] = []
  for (let i = 0; i < RESOLVES; i++) {
    const t0 = performance.now()
    await registry.resolve(key)
    resolves.push(performance.now() - t0)
  }
  const cached = createRegistry({ backend, cacheTtlMs: 60_000 }, { logger })
  await cached.resolve(key)
  const t0 = performance.now()
  for (let i = 0; i < CACHED; i++) await cached.resolve(key)
  const cachedUs = ((performance.now() - t0) / CACHED) * 1000
  return {
    backend: name,
    publishP50: percentile(publishes, 50),
    resolveP50: percentile(resolves, 50),
    resolveP99: percentile(resolves, 99),
    cachedUs,
  }
}

async function main(): Promise<void> {
  const workers = await Promise.all(['//Alice', '//Bob', '//Charlie', '//Dave'].map(workerKeyFromSuri))
  const rows: Row[] = []
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-reg-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))

  const local = openLocalStore({ path: join(dir, 'local') }, { logger })
  cleanups.push(() => local.close())
  rows.push(await measure('local (embedded LMDB)', local, workers))

  const served = openLocalStore({ path: join(dir, 'served') }, { logger })
  const server = createRegistryServer({ store: served, token: 't' }, { logger })
  const url = await server.listen()
  cleanups.push(async () => {
    await server.close()
    await served.close()
  })
  rows.push(await measure('local over HTTP (loopback)', createHttpBackend({ url, token: 't' }), workers))

  const anvil = await startAnvil({ after: (fn) => cleanups.push(fn) })
  const relayerKey = anvil.privateKeys[0] as `0x${string}`
  const deployed = await deployRegistry({ rpcUrl: anvil.rpcUrl, relayerKey }, { logger })
  const evm = createEvmBackend(
    { rpcUrl: anvil.rpcUrl, contract: deployed.address, fromBlock: deployed.blockNumber, relayerKey },
    { logger },
  )
  rows.push(await measure('evm (anvil, automine)', evm, workers))
  await evm.close()
  print(rows)
}

function print(rows: readonly Row[]): void {
  console.log(
    `\nRegistry benchmark: ${PUBLISHES} publishes, ${RESOLVES} uncached resolves, ${CACHED} cached resolves\n`,
  )
  console.log('| backend | publish p50 ms | resolve p50 ms (verified) | resolve p99 ms | cached resolve µs |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${r.publishP50.toFixed(2)} | ${r.resolveP50.toFixed(2)} | ${r.resolveP99.toFixed(2)} | ${r.cachedUs.toFixed(2)} |`,
    )
  }
}

try {
  await main()
} finally {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined)
}
