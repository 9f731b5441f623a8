/**
 * Many `submit`s to the registry on anvil, fast: transactions signed locally with explicit nonces and gas,
 * sent while automine is off, then mined block after block until all are in. What a spammer does, at the
 * cost of gas only (each 2 KiB junk binding is one event). Anvil only (evm_setAutomine, evm_mine).
 */
import { encodeFunctionData } from 'viem'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { SignedBinding } from '../../src/identity/index.js'
import { workerRegistryAbi } from '../../src/registry/evm/artifact.js'
import { submitArgs } from '../../src/registry/evm/submit.js'

const GAS_PER_SUBMIT = 250_000n

export async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

/** Submit every binding (in order) from `privateKey`'s account; resolves once all are mined. */
export async function submitMany(
  rpcUrl: string,
  contract: `0x${string}`,
  privateKey: string,
  bindings: readonly SignedBinding[],
): Promise<{ blocks: number }> {
  const account = privateKeyToAccount(privateKey as Hex)
  const chainId = Number(await rpcCall<string>(rpcUrl, 'eth_chainId'))
  const start = Number(await rpcCall<string>(rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']))
  const head = Number(await rpcCall<string>(rpcUrl, 'eth_blockNumber'))
  await rpcCall(rpcUrl, 'evm_setAutomine', [false])
  try {
    for (let i = 0; i < bindings.length; i += 100) {
      const batch = bindings.slice(i, i + 100).map(async (binding, j) => {
        const raw = await account.signTransaction({
          to: contract,
          data: encodeFunctionData({
            abi: workerRegistryAbi,
            functionName: 'submit',
            args: submitArgs(binding),
          }),
          nonce: start + i + j,
          gas: GAS_PER_SUBMIT,
          maxFeePerGas: 10_000_000_000_000n, // full blocks raise the base fee 12.5% each: leave room
          maxPriorityFeePerGas: 1n,
          chainId,
          type: 'eip1559',
        })
        return rpcCall<string>(rpcUrl, 'eth_sendRawTransaction', [raw])
      })
      await Promise.all(batch)
    }
    const done = start + bindings.length
    while (
      Number(await rpcCall<string>(rpcUrl, 'eth_getTransactionCount', [account.address, 'latest'])) < done
    ) {
      await rpcCall(rpcUrl, 'evm_mine')
    }
  } finally {
    await rpcCall(rpcUrl, 'evm_setAutomine', [true])
  }
  return { blocks: Number(await rpcCall<string>(rpcUrl, 'eth_blockNumber')) - head }
}
