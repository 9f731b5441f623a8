/**
 * The chain the EVM node serves, checked against the one configured (`evm.chainId`) before the registry is
 * first used: a resolver pointed at another chain (a testnet, a fork, a node of another network) would read
 * another contract's events at the same address and answer from them. A mismatch is ERR_EVM_CHAIN_ID.
 */
import { PRouterError } from '../../errors.js'
import type { EvmRpc } from './rpc.js'

export async function checkChainId(rpc: EvmRpc, expected: number, signal?: AbortSignal): Promise<void> {
  const served = await rpc.call('eth_chainId', () => rpc.client.getChainId(), { signal })
  if (served === expected) return
  throw new PRouterError(
    'ERR_EVM_CHAIN_ID',
    `the EVM node at ${rpc.url} serves chain ${served}, not the configured chain ${expected} (evm.chainId)`,
    { detail: { expected, served } },
  )
}

/** Whether `value` has the shape of a chain id (a positive safe integer). */
export function isChainId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}
