/**
 * Deploying the WorkerRegistry contract (`prouter registry deploy`). The block number it returns is the
 * `fromBlock` that resolvers scan from: no event of this registry can be older.
 */
import { PRouterError } from '../../errors.js'
import {
  DEFAULT_EVM_POLL_INTERVAL,
  DEFAULT_EVM_RPC_TIMEOUT,
  DEFAULT_EVM_TX_TIMEOUT,
} from '../../constants.js'
import type { Logger } from '../../logger.js'
import { checkTimeout } from '../../signals.js'
import { workerRegistryAbi, workerRegistryBytecode } from './artifact.js'
import { createRelayer, requireRelayer } from './relayer.js'
import { createEvmRpc } from './rpc.js'

export interface DeployInit {
  rpcUrl: string
  /** 0x secp256k1 private key of the account that pays for the deployment. */
  relayerKey: string
  rpcTimeout?: number
  txTimeout?: number
  pollInterval?: number
}

export interface DeployedRegistry {
  address: `0x${string}`
  blockNumber: bigint
  txHash: `0x${string}`
}

export async function deployRegistry(
  init: DeployInit,
  components: { logger: Logger },
  options: { signal?: AbortSignal } = {},
): Promise<DeployedRegistry> {
  options.signal?.throwIfAborted()
  const txTimeout = checkTimeout(init.txTimeout, 'txTimeout', DEFAULT_EVM_TX_TIMEOUT)
  const rpc = createEvmRpc({
    rpcUrl: init.rpcUrl,
    timeout: checkTimeout(init.rpcTimeout, 'rpcTimeout', DEFAULT_EVM_RPC_TIMEOUT),
    pollInterval: checkTimeout(init.pollInterval, 'pollInterval', DEFAULT_EVM_POLL_INTERVAL),
  })
  const relayer = requireRelayer(createRelayer(init.relayerKey, rpc), rpc.url)
  const log = components.logger.child({ component: 'registry-evm', rpc: rpc.url })
  const { signal } = options
  const txHash = await rpc.call(
    'deploying WorkerRegistry',
    () =>
      relayer.serialize(() =>
        relayer.wallet.deployContract({
          abi: workerRegistryAbi,
          bytecode: workerRegistryBytecode,
          account: relayer.account,
          chain: null,
        }),
      ),
    { signal },
  )
  const receipt = await rpc.call(
    `waiting for the receipt of ${txHash}`,
    () => rpc.client.waitForTransactionReceipt({ hash: txHash, timeout: txTimeout }),
    { signal, timeout: txTimeout },
  )
  if (receipt.status !== 'success' || receipt.contractAddress == null) {
    throw new PRouterError('ERR_EVM_TX', `deploying WorkerRegistry (${txHash}) reverted on ${rpc.url}`, {
      detail: { txHash },
    })
  }
  const deployed = { address: receipt.contractAddress, blockNumber: receipt.blockNumber, txHash }
  log.info({ ...deployed, blockNumber: String(deployed.blockNumber), relayer: relayer.address }, 'deployed')
  return deployed
}
