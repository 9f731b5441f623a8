/**
 * One JSON-RPC connection to an EVM node, with every call bounded: a deadline per call, the caller's
 * signal honoured (its `reason` is what rejects), and viem's errors turned into PRouterError codes that
 * name the node's (redacted) URL. viem's own retries are off: a dead node fails in milliseconds, and a
 * retry belongs to whoever knows whether it is worth it (the watch loop).
 */
import { createPublicClient, http } from 'viem'
import type { PublicClient, Transport } from 'viem'
import { PRouterError, invalidOption } from '../../errors.js'
import { deadlineSignal } from '../../signals.js'
import { evmError, redactUrl } from './rpc-errors.js'

export interface EvmRpcInit {
  rpcUrl: string
  /** Deadline of one RPC call (ms). */
  timeout: number
  /** How often viem polls for a receipt (ms). */
  pollInterval: number
}

export interface CallOptions {
  signal?: AbortSignal | undefined
  /** Overrides the per-call deadline (ms), e.g. for waiting on a receipt. */
  timeout?: number
}

export interface EvmRpc {
  /** The URL with credentials and key-like path segments removed: safe for messages and logs. */
  readonly url: string
  readonly transport: Transport
  readonly client: PublicClient
  readonly pollInterval: number
  /** Run `run` under the deadline and the caller's signal; errors become ERR_EVM_* codes. */
  call<T>(what: string, run: () => Promise<T>, options?: CallOptions): Promise<T>
}

export function createEvmRpc(init: EvmRpcInit): EvmRpc {
  checkRpcUrl(init.rpcUrl)
  const url = redactUrl(init.rpcUrl)
  const transport = http(init.rpcUrl, { timeout: init.timeout, retryCount: 0 })
  const client = createPublicClient({ transport, pollingInterval: init.pollInterval })
  return {
    url,
    transport,
    client,
    pollInterval: init.pollInterval,
    call: (what, run, options = {}) =>
      bounded(run, { what, url, timeout: options.timeout ?? init.timeout }, options),
  }
}

export function checkRpcUrl(rpcUrl: string): void {
  let protocol: string
  try {
    protocol = new URL(rpcUrl).protocol
  } catch {
    throw invalidOption('rpcUrl', 'is not a URL')
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw invalidOption('rpcUrl', `must be an http(s) URL, got ${protocol}`)
  }
}

async function bounded<T>(
  run: () => Promise<T>,
  where: { what: string; url: string; timeout: number },
  { signal }: CallOptions,
): Promise<T> {
  signal?.throwIfAborted()
  const deadline = deadlineSignal(where.timeout, signal)
  try {
    return await raceSignal(run(), deadline.signal)
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason
    if (deadline.signal.aborted) {
      throw new PRouterError(
        'ERR_EVM_TIMEOUT',
        `${where.what}: the EVM node at ${where.url} did not answer in ${where.timeout} ms`,
      )
    }
    throw evmError(err, where)
  } finally {
    deadline.dispose()
  }
}

/**
 * `promise`, or a rejection with `signal.reason` as soon as `signal` aborts (its listener removed after).
 * `promise` is always observed, so its own later rejection is never unhandled.
 */
export async function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  let onAbort = (): void => undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason as Error)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
