/** `--registry local|http|evm` and the options of each backend, turned into a RegistrySpec. */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import { invalidOption } from '../errors.js'
import type { RegistrySpec } from '../registry/index.js'
import { DEFAULT_REGISTRY_PORT } from '../constants.js'

export const DEFAULT_REGISTRY_DIR = '.prouter/registry'

export interface RegistryOptions {
  registry: string
  registryDir: string
  registryUrl: string
  registryToken?: string
  registryTokenFile?: string
  evmRpc?: string
  evmContract?: string
  evmFromBlock: string
  relayerKeyFile?: string
}

export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--registry <kind>', 'registry backend')
        .choices(['local', 'http', 'evm'])
        .env('PROUTER_REGISTRY')
        .default('local'),
    )
    .addOption(
      new Option(
        '--registry-dir <dir>',
        'local: folder of the embedded store (shared with `registry serve --dir`)',
      ).default(DEFAULT_REGISTRY_DIR),
    )
    .addOption(
      new Option('--registry-url <url>', 'http: URL of `prouter registry serve`')
        .env('PROUTER_REGISTRY_URL')
        .default(`http://127.0.0.1:${DEFAULT_REGISTRY_PORT}`),
    )
    .addOption(
      new Option('--registry-token <token>', 'http: bearer token for publishing').env(
        'PROUTER_REGISTRY_TOKEN',
      ),
    )
    .addOption(new Option('--registry-token-file <file>', 'http: file holding the bearer token'))
    .addOption(new Option('--evm-rpc <url>', 'evm: JSON-RPC URL of the chain').env('PROUTER_EVM_RPC'))
    .addOption(
      new Option('--evm-contract <address>', 'evm: registry contract address').env('PROUTER_EVM_CONTRACT'),
    )
    .addOption(
      new Option('--evm-from-block <n>', 'evm: block the contract was deployed in')
        .env('PROUTER_EVM_FROM_BLOCK')
        .default('0'),
    )
    .addOption(
      new Option(
        '--relayer-key-file <file>',
        'evm: file with the 0x secp256k1 key of the account paying gas (mode 0600)',
      ).env('PROUTER_RELAYER_KEY_FILE'),
    )
}

export async function registrySpec(o: RegistryOptions): Promise<RegistrySpec> {
  switch (o.registry) {
    case 'local':
      return { kind: 'local', dir: resolve(o.registryDir) }
    case 'http': {
      const token =
        o.registryToken ??
        (o.registryTokenFile ? (await readFile(o.registryTokenFile, 'utf8')).trim() : undefined)
      return { kind: 'http', url: o.registryUrl, ...(token === undefined ? {} : { token }) }
    }
    case 'evm':
      return evmSpec(o)
    default:
      throw invalidOption('--registry', `unknown backend ${o.registry}`)
  }
}

async function evmSpec(o: RegistryOptions): Promise<RegistrySpec> {
  if (o.evmRpc === undefined) throw invalidOption('--evm-rpc', 'required with --registry evm')
  if (o.evmContract === undefined || !/^0x[0-9a-fA-F]{40}$/.test(o.evmContract)) {
    throw invalidOption('--evm-contract', 'required with --registry evm: a 0x address of 40 hex digits')
  }
  if (!/^\d+$/.test(o.evmFromBlock)) throw invalidOption('--evm-from-block', 'must be a block number')
  const relayerKey = o.relayerKeyFile === undefined ? undefined : await readRelayerKey(o.relayerKeyFile)
  return {
    kind: 'evm',
    rpcUrl: o.evmRpc,
    contract: o.evmContract as `0x${string}`,
    fromBlock: BigInt(o.evmFromBlock),
    ...(relayerKey === undefined ? {} : { relayerKey }),
  }
}

export async function readRelayerKey(file: string): Promise<`0x${string}`> {
  const key = (await readFile(file, 'utf8')).trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw invalidOption('--relayer-key-file', `${file} holds no 0x + 64 hex key`)
  return key as `0x${string}`
}
