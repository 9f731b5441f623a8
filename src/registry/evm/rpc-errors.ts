/**
 * viem's errors -> PRouterError codes, in one table-like function: a revert keeps its reason
 * (ERR_EVM_TX), an unreachable node names the URL (ERR_EVM_RPC), a node that does not answer in time is
 * ERR_EVM_TIMEOUT. The viem error is kept as `cause` (it spells the node's URL out: log `errorFields(err)`,
 * never `{ err }`); the messages built here carry URLs redacted only.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  TimeoutError,
  WaitForTransactionReceiptTimeoutError,
} from 'viem'
import { PRouterError } from '../../errors.js'
import { redactUrls } from '../../redact.js'

export interface RpcWhere {
  /** What was being done, e.g. `eth_getLogs`, `submit`. */
  what: string
  /** The node's URL, redacted (redactUrl). */
  url: string
}

export function evmError(err: unknown, { what, url }: RpcWhere): PRouterError {
  if (err instanceof PRouterError) return err
  if (!(err instanceof BaseError)) {
    return new PRouterError('ERR_EVM_RPC', `${what} at ${url} failed: ${redactUrls(String(err))}`, {
      cause: err,
    })
  }
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError)
  if (reverted instanceof ContractFunctionRevertedError) {
    const reason = redactUrls(revertReason(reverted))
    return new PRouterError('ERR_EVM_TX', `${what} reverted: ${reason}`, { cause: err, detail: { reason } })
  }
  if (err.walk((e) => e instanceof InsufficientFundsError) !== null) {
    return new PRouterError('ERR_EVM_TX', `${what}: the relayer account cannot pay for gas at ${url}`, {
      cause: err,
      detail: { reason: 'insufficient funds' },
    })
  }
  const execution = err.walk((e) => e instanceof ExecutionRevertedError)
  if (execution instanceof ExecutionRevertedError) {
    const reason = redactUrls(execution.details || execution.shortMessage)
    return new PRouterError('ERR_EVM_TX', `${what} reverted: ${reason}`, { cause: err, detail: { reason } })
  }
  if (
    err.walk((e) => e instanceof TimeoutError || e instanceof WaitForTransactionReceiptTimeoutError) !== null
  ) {
    return new PRouterError('ERR_EVM_TIMEOUT', `${what}: the EVM node at ${url} did not answer in time`, {
      cause: err,
    })
  }
  if (err.walk((e) => e instanceof HttpRequestError) !== null) {
    return new PRouterError('ERR_EVM_RPC', `${what}: the EVM node at ${url} is unreachable`, { cause: err })
  }
  return new PRouterError('ERR_EVM_RPC', `${what} at ${url} failed: ${redactUrls(err.shortMessage)}`, {
    cause: err,
  })
}

/** `SigningTimeStale(1700000000000, 1700020000000)` for a custom error, else the revert string. */
function revertReason(err: ContractFunctionRevertedError): string {
  if (err.data !== undefined) {
    const args = (err.data.args ?? []).map((a) => String(a)).join(', ')
    return `${err.data.errorName}(${args})`
  }
  return err.reason ?? err.shortMessage
}

export { redactUrl } from '../../redact.js'
