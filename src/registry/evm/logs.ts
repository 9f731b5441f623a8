/**
 * Reading `BindingSubmitted` events: from a start block (the registry's deployment block) to the head,
 * optionally filtered on the indexed worker key, in windows of at most `maxBlockRange` blocks (public
 * RPC endpoints cap the range of one eth_getLogs). Events come back in chain order, unverified.
 */
import { hexToBytes } from 'viem'
import type { SignedBinding } from '../../identity/index.js'
import type { BindingEvent } from '../backend.js'
import { workerRegistryAbi } from './artifact.js'
import type { EvmRpc } from './rpc.js'

export interface LogScan {
  rpc: EvmRpc
  address: `0x${string}`
  maxBlockRange: bigint
}

export interface ScanRange {
  fromBlock: bigint
  toBlock: bigint
  /** bytes32 hex of the worker key; every key when absent. */
  workerKey?: `0x${string}`
}

export async function scanBindings(
  scan: LogScan,
  range: ScanRange,
  signal?: AbortSignal,
): Promise<BindingEvent[]> {
  const events: BindingEvent[] = []
  for (let from = range.fromBlock; from <= range.toBlock; from += scan.maxBlockRange) {
    const to = min(from + scan.maxBlockRange - 1n, range.toBlock)
    events.push(...(await scanWindow(scan, from, to, range.workerKey, signal)))
  }
  return events
}

async function scanWindow(
  { rpc, address }: LogScan,
  fromBlock: bigint,
  toBlock: bigint,
  workerKey: `0x${string}` | undefined,
  signal: AbortSignal | undefined,
): Promise<BindingEvent[]> {
  const logs = await rpc.call(
    'eth_getLogs',
    () =>
      rpc.client.getContractEvents({
        address,
        abi: workerRegistryAbi,
        eventName: 'BindingSubmitted',
        ...(workerKey === undefined ? {} : { args: { workerKey } }),
        fromBlock,
        toBlock,
        strict: true,
      }),
    { signal },
  )
  return logs.map(({ args }) => ({
    workerKey: args.workerKey.toLowerCase(),
    binding: toBinding(args.payload, args.signature),
  }))
}

/** The chain's head block number, never from viem's block-number cache. */
export function headBlock(rpc: EvmRpc, signal?: AbortSignal): Promise<bigint> {
  return rpc.call('eth_blockNumber', () => rpc.client.getBlockNumber({ cacheTime: 0 }), { signal })
}

function toBinding(payload: `0x${string}`, signature: `0x${string}`): SignedBinding {
  return { payload: hexToBytes(payload), signature: hexToBytes(signature) }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
