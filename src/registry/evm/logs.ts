/**
 * What every reader of the registry's logs shares: where to read (`LogScan`: the contract, and the widest
 * block range one eth_getLogs may ask, as public RPC endpoints cap it) and the head block. Bindings are read by
 * log-scan.ts (adaptive windows), usage reports by reports.ts.
 */
import type { EvmRpc } from './rpc.js'

export interface LogScan {
  rpc: EvmRpc
  address: `0x${string}`
  maxBlockRange: bigint
}

/** The chain's head block number, never from viem's block-number cache. */
export function headBlock(rpc: EvmRpc, signal?: AbortSignal): Promise<bigint> {
  return rpc.call('eth_blockNumber', () => rpc.client.getBlockNumber({ cacheTime: 0 }), { signal })
}
