/**
 * `prouter registry serve|deploy`, `prouter publish`, `prouter resolve`: the binding worker key -> I2P
 * address, published to and resolved from the registry chosen with --registry.
 */
import { randomBytes } from 'node:crypto'
import { access, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_REGISTRY_PORT } from '../constants.js'
import { checkRegistryToken } from '../registry/local/token.js'
import { writeFileAtomic } from '../files.js'
import { i2pEndpoint, loadKeyStore, parseWorkerKey, signBinding, workerKeyHex } from '../identity/index.js'
import { signingTimeFor } from '../registry/backend.js'
import { createRegistry } from '../registry/resolver.js'
import { localStorePath, openRegistryBackend } from '../registry/open.js'
import { contextOf } from './context.js'
import { aborted } from './lifetime.js'
import { DEFAULT_KEYS_DIR } from './keys-commands.js'
import type { RegistryOptions } from './registry-options.js'
import {
  addRegistryOptions,
  DEFAULT_REGISTRY_DIR,
  readOwnerOnly,
  readRelayerKey,
  registrySpec,
} from './registry-options.js'

export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('the registry of signed bindings')
  registry
    .command('serve')
    .description('serve the embedded registry over HTTP on loopback until interrupted')
    .option('--dir <dir>', 'folder of the store', DEFAULT_REGISTRY_DIR)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0: any free port)', String(DEFAULT_REGISTRY_PORT))
    .option('--token-file <file>', 'bearer token for publishing (created, mode 0600, if missing)')
    .option('--allow <keys>', 'comma-separated worker keys allowed to publish (default: anyone)')
    .action(serve)
  registry
    .command('deploy')
    .description('deploy the registry contract to an EVM chain')
    .requiredOption('--evm-rpc <url>', 'JSON-RPC URL of the chain')
    .requiredOption('--relayer-key-file <file>', 'file with the 0x secp256k1 key of the deploying account')
    .option('--json', 'machine-readable output')
    .action(deploy)
  addRegistryOptions(
    program
      .command('publish')
      .description('sign the binding worker key -> I2P address now and publish it')
      .option('--keys <dir>', 'key folder', DEFAULT_KEYS_DIR)
      .option('--json', 'machine-readable output'),
  ).action(publish)
  addRegistryOptions(
    program
      .command('resolve <workerKey>')
      .description("resolve a worker key to its I2P endpoint, verifying the binding's signature")
      .option('--json', 'machine-readable output'),
  ).action(resolveKey)
}

async function serve(
  o: { dir: string; host: string; port: string; tokenFile?: string; allow?: string },
  cmd: Command,
) {
  const ctx = contextOf(cmd)
  const life = ctx.lifetime()
  const dir = resolve(o.dir)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tokenFile = resolve(o.tokenFile ?? join(dir, 'token'))
  const token = await readOrCreateToken(tokenFile)
  checkRegistryToken(token) // before the store opens: an empty token file must not serve anyone
  const allowList =
    o.allow === undefined
      ? undefined
      : new Set(o.allow.split(',').map((k) => workerKeyHex(parseWorkerKey(k))))
  // loaded here, not at the top: `prouter run` shares this module and should not carry fastify or viem
  const { openLocalStore } = await import('../registry/local/store.js')
  const store = openLocalStore(
    { path: localStorePath(dir), ...(allowList ? { rules: { allowList } } : {}) },
    ctx,
  )
  const { createRegistryServer } = await import('../registry/local/server.js')
  try {
    const server = createRegistryServer({ store, token }, ctx)
    try {
      const url = await server.listen({ host: o.host, port: Number(o.port) })
      console.log(`registry listening on ${url} (publish token in ${tokenFile})`)
      await aborted(life.signal)
    } finally {
      life.stopping()
      await server.close()
    }
  } finally {
    await store.close()
  }
}

/** The token in `file` (owner-only: ERR_KEY_FILE_MODE otherwise), or a new one written there (0600). */
async function readOrCreateToken(file: string): Promise<string> {
  const exists = await access(file).then(
    () => true,
    () => false,
  )
  if (exists) return readOwnerOnly(file, '--token-file')
  const token = randomBytes(24).toString('hex')
  await writeFileAtomic(file, token + '\n', 0o600)
  return token
}

async function deploy(o: { evmRpc: string; relayerKeyFile: string; json?: boolean }, cmd: Command) {
  const ctx = contextOf(cmd)
  const relayerKey = await readRelayerKey(o.relayerKeyFile)
  const { deployRegistry } = await import('../registry/evm/deploy.js')
  const deployed = await deployRegistry({ rpcUrl: o.evmRpc, relayerKey }, ctx)
  const view = {
    address: deployed.address,
    blockNumber: String(deployed.blockNumber),
    txHash: deployed.txHash,
  }
  if (o.json === true) console.log(JSON.stringify(view))
  else
    console.log(
      `registry contract ${view.address} (block ${view.blockNumber}); use --evm-contract ${view.address} --evm-from-block ${view.blockNumber}`,
    )
}

async function publish(o: RegistryOptions & { keys: string; json?: boolean }, cmd: Command) {
  const ctx = contextOf(cmd)
  const keys = await loadKeyStore(resolve(o.keys))
  const registry = createRegistry({ backend: await openRegistryBackend(await registrySpec(o), ctx) }, ctx)
  try {
    // a chain takes a binding only once its signing time is before the block time: signed a little earlier
    const binding = signBinding(keys.worker, [i2pEndpoint(keys.i2p.b32)], signingTimeFor(registry.backend))
    const t0 = performance.now()
    const v = await registry.publish(binding)
    const ms = performance.now() - t0
    const view = {
      workerKey: v.workerKey,
      endpoints: v.endpoints,
      signingTime: v.signingTime,
      ref: v.ref,
      ms,
    }
    if (o.json === true) console.log(JSON.stringify(view))
    else
      console.log(
        `published ${v.workerKey} -> ${v.endpoints.join(', ')} (${registry.backend.kind}, ${ms.toFixed(1)} ms)`,
      )
  } finally {
    await registry.close()
  }
}

async function resolveKey(workerKey: string, o: RegistryOptions & { json?: boolean }, cmd: Command) {
  const ctx = contextOf(cmd)
  const registry = createRegistry(
    { backend: await openRegistryBackend(await registrySpec(o), ctx), cacheTtlMs: 0 },
    ctx,
  )
  try {
    const t0 = performance.now()
    const b = await registry.resolve(workerKey)
    const ms = performance.now() - t0
    const view = {
      workerKey: b.workerKey,
      endpoints: b.endpoints,
      signingTime: b.signingTime,
      verified: true,
      ms,
    }
    if (o.json === true) {
      console.log(JSON.stringify(view))
      return
    }
    console.log(`worker     ${b.workerKey}`)
    console.log(`endpoint   ${b.endpoints.join(', ')}`)
    console.log(`signed at  ${new Date(b.signingTime).toISOString()}`)
    console.log(
      `signature  verified (sr25519 by the worker key), ${registry.backend.kind} registry, ${ms.toFixed(1)} ms`,
    )
  } finally {
    await registry.close()
  }
}
