import {
  DEFAULT_CONNECT_RETRY_ATTEMPTS,
  DEFAULT_CONNECT_RETRY_DELAY,
  MAX_CONNECT_RETRY_DELAY,
} from '../constants.js'
import { invalidOption, isPRouterError } from '../errors.js'
import { sleep } from '../signals.js'
import { backoffDelay } from '../backoff.js'

/**
 * Retry of STREAM CONNECT. Right after a peer's session appears its LeaseSet may not be published yet:
 * the bridge answers CANT_REACH_PEER ("LeaseSet not found") or PEER_NOT_FOUND, and a retry a second later
 * succeeds. Those two are retried with capped exponential backoff; every other error passes through at once.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number
  /** Wait before the second attempt, in ms; doubled for each further one. */
  delay: number
  /** Cap on the wait between attempts, in ms. */
  maxDelay: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: DEFAULT_CONNECT_RETRY_ATTEMPTS,
  delay: DEFAULT_CONNECT_RETRY_DELAY,
  maxDelay: MAX_CONNECT_RETRY_DELAY,
})

/** `false` -> one attempt; a partial policy is completed from the defaults and checked. */
export function resolveRetryPolicy(retry: Partial<RetryPolicy> | false | undefined): RetryPolicy {
  if (retry === false) return { ...DEFAULT_RETRY_POLICY, attempts: 1 }
  const policy = { ...DEFAULT_RETRY_POLICY, ...retry }
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw invalidOption('retry.attempts', `must be an integer >= 1, got ${String(policy.attempts)}`)
  }
  for (const name of ['delay', 'maxDelay'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) {
      throw invalidOption(`retry.${name}`, `must be a finite number >= 0, got ${String(policy[name])}`)
    }
  }
  return policy
}

export function isRetryableConnectError(err: unknown): boolean {
  return isPRouterError(err, 'ERR_SAM_CANT_REACH_PEER') || isPRouterError(err, 'ERR_SAM_PEER_NOT_FOUND')
}

/** Wait after failed attempt `attempt` (1-based): delay, 2 x delay, 4 x delay, … capped at maxDelay. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return backoffDelay(attempt - 1, policy.delay, policy.maxDelay)
}

export interface RetryOptions {
  signal?: AbortSignal | undefined
  /** Which errors to retry (default: isRetryableConnectError). */
  shouldRetry?: (err: unknown) => boolean
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number, delay: number) => void
}

/** Run `attempt` until it succeeds, fails with an error not to retry, or the attempts are used up. */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetryableConnectError
  for (let n = 1; ; n++) {
    options.signal?.throwIfAborted()
    try {
      return await attempt(n)
    } catch (err) {
      if (n >= policy.attempts || !shouldRetry(err)) throw err
      const delay = retryDelay(policy, n)
      options.onRetry?.(err, n, delay)
      await sleep(delay, options.signal)
    }
  }
}
