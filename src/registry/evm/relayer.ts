/**
 * The relayer: the secp256k1 account that pays gas for `submit` and `deploy`. It is configured apart from
 * the worker key (sr25519), which never touches the chain: the relayer only carries what the worker signed.
 * The key is validated without ever being echoed, and only the account's address may be logged.
 */
import { createWalletClient } from 'viem'
import type { Account, WalletClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { PRouterError, invalidOption } from '../../errors.js'
import type { EvmRpc } from './rpc.js'

export interface Relayer {
  /** The account's address (public; fine to log). */
  readonly address: `0x${string}`
  readonly account: Account
  readonly wallet: WalletClient
  /**
   * Run `send` (one transaction's nonce lookup, signing and sending) after the previous one has been sent.
   * Each send takes the node's pending count as its nonce, so concurrent publishes never share one; no
   * nonce is counted locally, so a transaction that is dropped leaves no gap that would block later ones.
   */
  serialize<T>(send: () => Promise<T>): Promise<T>
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/

/** A relayer for `relayerKey`, or undefined when none is configured (reads work without one). */
export function createRelayer(relayerKey: string | undefined, rpc: EvmRpc): Relayer | undefined {
  if (relayerKey === undefined) return undefined
  const account = accountFromKey(relayerKey)
  const wallet = createWalletClient({ account, transport: rpc.transport, pollingInterval: rpc.pollInterval })
  let sent: Promise<unknown> = Promise.resolve()
  return {
    address: account.address,
    account,
    wallet,
    serialize: <T>(send: () => Promise<T>): Promise<T> => {
      const turn = sent.then(send)
      sent = turn.catch(() => undefined)
      return turn
    },
  }
}

function accountFromKey(relayerKey: string): Account {
  if (!PRIVATE_KEY.test(relayerKey)) {
    throw invalidOption('relayerKey', 'must be 0x followed by 64 hex digits (a secp256k1 private key)')
  }
  try {
    return privateKeyToAccount(relayerKey as `0x${string}`)
  } catch {
    throw invalidOption('relayerKey', 'is not a valid secp256k1 private key')
  }
}

export function requireRelayer(relayer: Relayer | undefined, url: string): Relayer {
  if (relayer !== undefined) return relayer
  throw new PRouterError(
    'ERR_EVM_NO_RELAYER',
    `publishing to the EVM registry at ${url} sends a transaction: configure a relayer key (a funded secp256k1 account, separate from the worker key)`,
  )
}
