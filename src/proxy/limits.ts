/** The proxy's limits as small pieces: a byte cap on a body stream, a per-peer token bucket, a counter. */
import { Transform, type TransformCallback } from 'node:stream'
import { PRouterError } from '../errors.js'

/** Passes bytes through until more than `max` have passed, then fails with ERR_BODY_TOO_LARGE. */
export function byteLimit(max: number, what: string): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length
      if (seen > max) done(bodyTooLarge(max, what))
      else done(null, chunk)
    },
  })
}

export function bodyTooLarge(max: number, what: string): PRouterError {
  return new PRouterError('ERR_BODY_TOO_LARGE', `${what} body is larger than ${max} bytes`, {
    detail: { maxBodyBytes: max },
  })
}

export interface RateLimiter {
  /** Take one token for `peer`; returns 0 when allowed, else the ms until a token is available. */
  take(peer: string): number
}

/**
 * A token bucket per peer: `burst` tokens, refilled at `perSecond`. Buckets that are full again are
 * dropped, and at most `maxPeers` are kept (the least recently used go first), so memory stays bounded
 * whatever the callers do.
 */
export function createRateLimiter(perSecond: number, burst: number, maxPeers = 10_000): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const refill = (b: { tokens: number; at: number }, now: number): void => {
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond)
    b.at = now
  }
  return {
    take(peer) {
      const now = performance.now()
      const bucket = buckets.get(peer) ?? { tokens: burst, at: now }
      refill(bucket, now)
      buckets.delete(peer) // re-inserted below: Map order is then least recently used first
      if (bucket.tokens < 1) {
        buckets.set(peer, bucket)
        return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000)
      }
      bucket.tokens -= 1
      buckets.set(peer, bucket)
      if (buckets.size > maxPeers) buckets.delete(buckets.keys().next().value as string)
      return 0
    },
  }
}

/** A plain counter with a ceiling: `tryAcquire()` false when full; `release()` once per success. */
export interface Gauge {
  readonly value: number
  tryAcquire(): boolean
  release(): void
}

export function createGauge(max: number): Gauge {
  let value = 0
  return {
    get value() {
      return value
    },
    tryAcquire() {
      if (value >= max) return false
      value++
      return true
    },
    release() {
      value = Math.max(0, value - 1)
    },
  }
}
