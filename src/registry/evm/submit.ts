/**
 * Sending one `submit(workerKey, payload, signature)` and waiting for its receipt. The contract's checks
 * run first in gas estimation, so a binding it refuses (wrong key, stale, bad lengths) costs the relayer
 * nothing and comes back as ERR_EVM_TX with the contract's reason, e.g. `SigningTimeStale(…)`.
 */
import { bytesToHex } from 'viem'
import { PRouterError } from '../../errors.js'
import type { SignedBinding } from '../../identity/index.js'
import { workerRegistryAbi } from './artifact.js'
import type { Relayer } from './relayer.js'
import type { EvmRpc } from './rpc.js'

export interface SubmitTarget {
  rpc: EvmRpc
  relayer: Relayer
  address: `0x${string}`
  /** Bound on waiting for the receipt (ms). */
  txTimeout: number
}

export interface SubmitReceipt {
  txHash: `0x${string}`
  blockNumber: bigint
  gasUsed: bigint
}

type Hex = `0x${string}`

/** The `submit` arguments for a binding: the key is the payload's first 32 bytes (zero-padded if short). */
export function submitArgs(binding: SignedBinding): readonly [Hex, Hex, Hex] {
  const key = new Uint8Array(32)
  key.set(binding.payload.subarray(0, 32))
  return [bytesToHex(key), bytesToHex(binding.payload), bytesToHex(binding.signature)]
}

/**
 * Submit `args` as they are (tests use this to send a key that does not match the payload; `publish`
 * always sends `submitArgs(binding)`).
 */
export function submitRaw(
  target: SubmitTarget,
  args: readonly [Hex, Hex, Hex],
  signal?: AbortSignal,
): Promise<SubmitReceipt> {
  const { relayer, address } = target
  const write = (): Promise<Hex> =>
    relayer.wallet.writeContract({
      address,
      abi: workerRegistryAbi,
      functionName: 'submit',
      args,
      account: relayer.account,
      chain: null,
    })
  return sendCall(target, 'submit', write, signal)
}

/**
 * Send one contract call (`write`, through the relayer: one transaction at a time) and wait for its receipt,
 * bounded by `txTimeout`; a revert in gas estimation or in the block is ERR_EVM_TX.
 */
export async function sendCall(
  target: SubmitTarget,
  name: string,
  write: () => Promise<Hex>,
  signal?: AbortSignal,
): Promise<SubmitReceipt> {
  const { rpc, relayer } = target
  const txHash = await rpc.call(name, () => relayer.serialize(write), { signal })
  const receipt = await rpc.call(
    `waiting for the receipt of ${txHash}`,
    () => rpc.client.waitForTransactionReceipt({ hash: txHash, timeout: target.txTimeout }),
    { signal, timeout: target.txTimeout },
  )
  if (receipt.status !== 'success') {
    throw new PRouterError(
      'ERR_EVM_TX',
      `${name} ${txHash} reverted on chain (block ${receipt.blockNumber})`,
      {
        detail: { txHash, reason: 'reverted in the block' },
      },
    )
  }
  return { txHash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed }
}
