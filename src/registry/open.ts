/** Opening a registry backend from its configuration (one place, so the CLI and the daemon agree). */
import { join } from 'node:path'
import type { Logger } from '../logger.js'
import type { RegistryBackend } from './backend.js'
import { openLocalStore } from './local/store.js'
import { createHttpBackend } from './local/client.js'
import { createEvmBackend } from './evm/index.js'

export type RegistrySpec =
  | { kind: 'local'; dir: string }
  | { kind: 'http'; url: string; token?: string }
  | { kind: 'evm'; rpcUrl: string; contract: `0x${string}`; fromBlock: bigint; relayerKey?: `0x${string}` }

/** The LMDB environment inside a registry folder (shared by `registry serve` and `--registry local`). */
export function localStorePath(dir: string): string {
  return join(dir, 'db')
}

export function openRegistryBackend(spec: RegistrySpec, components: { logger: Logger }): RegistryBackend {
  switch (spec.kind) {
    case 'local':
      return openLocalStore({ path: localStorePath(spec.dir) }, components)
    case 'http':
      return createHttpBackend({ url: spec.url, ...(spec.token === undefined ? {} : { token: spec.token }) })
    case 'evm':
      return createEvmBackend(spec, components)
  }
}
