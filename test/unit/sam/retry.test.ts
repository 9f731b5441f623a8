import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import {
  DEFAULT_RETRY_POLICY,
  isRetryableConnectError,
  resolveRetryPolicy,
  retryDelay,
  withRetry,
} from '../../../src/sam/retry.js'

const cantReach = (): PRouterError => new PRouterError('ERR_SAM_CANT_REACH_PEER', 'LeaseSet not found')
const fast = { attempts: 4, delay: 1, maxDelay: 4 }

describe('connect retry policy', () => {
  test('capped exponential backoff', () => {
    const policy = { attempts: 10, delay: 1000, maxDelay: 8000 }
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelay(policy, n)),
      [1000, 2000, 4000, 8000, 8000, 8000],
    )
  })

  test('only CANT_REACH_PEER and PEER_NOT_FOUND are retryable', () => {
    assert.ok(isRetryableConnectError(cantReach()))
    assert.ok(isRetryableConnectError(new PRouterError('ERR_SAM_PEER_NOT_FOUND', 'x')))
    for (const code of [
      'ERR_SAM_INVALID_KEY',
      'ERR_SAM_TIMEOUT',
      'ERR_SAM_CLOSED',
      'ERR_SAM_I2P_ERROR',
    ] as const) {
      assert.equal(isRetryableConnectError(new PRouterError(code, 'x')), false, code)
    }
    assert.equal(isRetryableConnectError(new Error('x')), false)
  })

  test('retries until success', async () => {
    let calls = 0
    const result = await withRetry(async () => {
      calls++
      await Promise.resolve()
      if (calls < 3) throw cantReach()
      return 'connected'
    }, fast)
    assert.equal(result, 'connected')
    assert.equal(calls, 3)
  })

  test('gives up after the attempts with the last error', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(() => {
        calls++
        return Promise.reject(cantReach())
      }, fast),
      (err) => isPRouterError(err, 'ERR_SAM_CANT_REACH_PEER'),
    )
    assert.equal(calls, 4)
  })

  test('any other error passes through at once', async () => {
    let calls = 0
    await assert.rejects(
      withRetry(() => {
        calls++
        return Promise.reject(new PRouterError('ERR_SAM_INVALID_KEY', 'bad'))
      }, fast),
      (err) => isPRouterError(err, 'ERR_SAM_INVALID_KEY'),
    )
    assert.equal(calls, 1)
  })

  test('abort during the backoff rejects with the signal reason', async () => {
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const started = Date.now()
    const run = withRetry(
      () => {
        setImmediate(() => {
          controller.abort(reason)
        })
        return Promise.reject(cantReach())
      },
      { attempts: 5, delay: 10_000, maxDelay: 10_000 },
      { signal: controller.signal },
    )
    await assert.rejects(run, (err) => err === reason)
    assert.ok(Date.now() - started < 5000, 'did not wait the backoff out')
  })

  test('policies are completed from the defaults and validated, naming the option', () => {
    assert.deepEqual(resolveRetryPolicy(undefined), DEFAULT_RETRY_POLICY)
    assert.equal(resolveRetryPolicy(false).attempts, 1)
    assert.equal(resolveRetryPolicy({ delay: 5 }).delay, 5)
    assert.throws(
      () => resolveRetryPolicy({ attempts: 0 }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes('retry.attempts'),
    )
    assert.throws(
      () => resolveRetryPolicy({ maxDelay: -1 }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes('retry.maxDelay'),
    )
  })
})
