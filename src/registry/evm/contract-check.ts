/**
 * Before the first use of a registry address: is there a contract, and is it this WorkerRegistry? Reading
 * logs from a wrong address finds nothing and would look like "no binding"; sending `submit` to an account
 * without code succeeds and does nothing. Both are configuration errors, reported as ERR_EVM_CONTRACT.
 * The runtime code is compared byte for byte (the artifact carries no metadata hash, so only a change of
 * the contract's logic changes it).
 */
import { PRouterError } from '../../errors.js'
import { workerRegistryDeployedBytecode } from './artifact.js'
import type { EvmRpc } from './rpc.js'

export async function checkRegistryContract(
  rpc: EvmRpc,
  address: `0x${string}`,
  signal?: AbortSignal,
): Promise<void> {
  const code = await rpc.call('eth_getCode', () => rpc.client.getCode({ address }), { signal })
  if (code === undefined || code === '0x') {
    throw new PRouterError('ERR_EVM_CONTRACT', `no contract at ${address} on the EVM node at ${rpc.url}`, {
      detail: { address },
    })
  }
  if (code.toLowerCase() !== workerRegistryDeployedBytecode.toLowerCase()) {
    throw new PRouterError(
      'ERR_EVM_CONTRACT',
      `the contract at ${address} on ${rpc.url} is not this version of PRouter's WorkerRegistry`,
      { detail: { address, codeBytes: (code.length - 2) / 2 } },
    )
  }
}
