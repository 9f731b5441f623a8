/**
 * `--registry local|http|evm` and the options of each backend, turned into a RegistrySpec. Secrets come from
 * files that only their owner may read (ERR_KEY_FILE_MODE otherwise, as worker key files);
 * `--registry-token` on the command line still works but warns: every local user sees it in `ps`.
 */
import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Option } from 'commander'
import type { Command } from 'commander'
import { invalidOption, PRouterError } from '../errors.js'
import type { RegistrySpec } from '../registry/index.js'
import { DEFAULT_REGISTRY_PORT, MAX_KEY_FILE_BYTES } from '../constants.js'

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
  evmChainId?: string
  relayerKeyFile?: string
}

export function addRegistryOptions(cmd: Command): Command {
  cmd.hook('preAction', (_command, action) => {
    if (action.getOptionValueSource('registryToken') === 'cli') {
      process.stderr.write(
        'prouter: warning: --registry-token on the command line is visible to every local user (ps); ' +
          'use --registry-token-file (mode 0600) or PROUTER_REGISTRY_TOKEN\n',
      )
    }
  })
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
      new Option(
        '--registry-token <token>',
        'http: bearer token for publishing (visible in ps: prefer --registry-token-file)',
      ).env('PROUTER_REGISTRY_TOKEN'),
    )
    .addOption(
      new Option('--registry-token-file <file>', 'http: file holding the bearer token (mode 0600)').env(
        'PROUTER_REGISTRY_TOKEN_FILE',
      ),
    )
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
      new Option('--evm-chain-id <id>', 'evm: the chain id the node must serve (refused otherwise)').env(
        'PROUTER_EVM_CHAIN_ID',
      ),
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
        o.registryTokenFile === undefined
          ? o.registryToken
          : await readOwnerOnly(o.registryTokenFile, '--registry-token-file')
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
  const chainId = o.evmChainId === undefined ? undefined : Number(o.evmChainId)
  if (chainId !== undefined && !(/^\d{1,15}$/.test(o.evmChainId ?? '') && chainId > 0)) {
    throw invalidOption('--evm-chain-id', 'must be a positive whole number (eth_chainId)')
  }
  const relayerKey = o.relayerKeyFile === undefined ? undefined : await readRelayerKey(o.relayerKeyFile)
  return {
    kind: 'evm',
    rpcUrl: o.evmRpc,
    contract: o.evmContract as `0x${string}`,
    fromBlock: BigInt(o.evmFromBlock),
    ...(relayerKey === undefined ? {} : { relayerKey }),
    ...(chainId === undefined ? {} : { chainId }),
  }
}

export async function readRelayerKey(file: string): Promise<`0x${string}`> {
  const key = await readOwnerOnly(file, '--relayer-key-file')
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw invalidOption('--relayer-key-file', `${file} holds no 0x + 64 hex key`)
  return key as `0x${string}`
}

/**
 * The trimmed text of a secret file: ERR_KEY_FILE_MODE when group or others may access it (as worker key
 * files), ERR_INVALID_OPTION naming `flag` when it cannot be read or is not a small file.
 */
export async function readOwnerOnly(file: string, flag: string): Promise<string> {
  const path = resolve(file)
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw invalidOption(flag, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  })
  try {
    const info = await handle.stat()
    if (!info.isFile() || info.size > MAX_KEY_FILE_BYTES) {
      throw invalidOption(flag, `${path} is not a file of at most ${MAX_KEY_FILE_BYTES} bytes`)
    }
    if ((info.mode & 0o077) !== 0) {
      const octal = `0${(info.mode & 0o777).toString(8).padStart(3, '0')}`
      throw new PRouterError(
        'ERR_KEY_FILE_MODE',
        `${path} has mode ${octal}: a secret file must not be accessible by group or others; run: chmod 600 ${path}`,
        { detail: { path, mode: octal } },
      )
    }
    return (await handle.readFile('utf8')).trim()
  } finally {
    await handle.close()
  }
}
