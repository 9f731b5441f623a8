/** Opening a registry backend from its configuration (one place, so the CLI and the daemon agree). */
import { join } from 'node:path'
import type { Logger } from '../logger.js'
import type { RegistryBackend } from './backend.js'

export type RegistrySpec =
  | { kind: 'local'; dir: string }
  | { kind: 'http'; url: string; token?: string }
  | {
      kind: 'evm'
      rpcUrl: string
      contract: `0x${string}`
      fromBlock: bigint
      relayerKey?: `0x${string}`
      /** The chain the node must serve (eth_chainId): pinned, a node of another chain is refused. */
      chainId?: number
      /** The index of bindings already read (src/registry/evm/key-index.ts); in memory only when absent. */
      indexPath?: string
    }

/** The EVM backend's index file in the daemon's data dir. */
export const EVM_INDEX_FILE = 'registry-evm-index.json'

/** The LMDB environment inside a registry folder (shared by `registry serve` and `--registry local`). */
export function localStorePath(dir: string): string {
  return join(dir, 'db')
}

/**
 * Each backend's code is loaded only when chosen: a daemon on the local registry does not carry viem
 * (~30 MB of memory), and one on the EVM registry does not carry LMDB.
 */
export async function openRegistryBackend(
  spec: RegistrySpec,
  components: { logger: Logger },
): Promise<RegistryBackend> {
  switch (spec.kind) {
    case 'local': {
      const { openLocalStore } = await import('./local/store.js')
      return openLocalStore({ path: localStorePath(spec.dir) }, components)
    }
    case 'http': {
      const { createHttpBackend } = await import('./local/client.js')
      return createHttpBackend({ url: spec.url, ...(spec.token === undefined ? {} : { token: spec.token }) })
    }
    case 'evm': {
      const { createEvmBackend } = await import('./evm/backend.js')
      return createEvmBackend(spec, components)
    }
  }
}
