import assert from 'node:assert/strict'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { createGauge, createRateLimiter, byteLimit } from '../../../src/proxy/limits.js'

/** Pipe `chunks` through `byteLimit(max)`; resolves with the bytes that came out. */
async function throughLimit(max: number, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk)
      done()
    },
  })
  await pipeline(Readable.from(chunks), byteLimit(max, 'request'), sink)
  return Buffer.concat(out)
}

const tooLarge = (err: unknown): boolean =>
  isPRouterError(err, 'ERR_BODY_TOO_LARGE') && /request body is larger than 10 bytes/.test(err.message)

test('byteLimit passes exactly max bytes, in any chunking', async () => {
  const body = Buffer.from('0123456789')
  assert.deepEqual(await throughLimit(10, [body]), body)
  assert.deepEqual(await throughLimit(10, [body.subarray(0, 3), body.subarray(3, 9), body.subarray(9)]), body)
  assert.deepEqual(await throughLimit(0, []), Buffer.alloc(0))
})

test('byteLimit fails with ERR_BODY_TOO_LARGE at max + 1 bytes', async () => {
  await assert.rejects(throughLimit(10, [Buffer.alloc(11)]), tooLarge)
  await assert.rejects(throughLimit(10, [Buffer.alloc(10), Buffer.alloc(1)]), tooLarge)
})

test('rate limiter: a burst is allowed, then refused with a positive wait', () => {
  const limiter = createRateLimiter(1, 3)
  assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 0])
  const wait = limiter.take('a')
  assert.ok(wait > 0 && wait <= 1000, `wait ${wait}`)
})

test('rate limiter: tokens come back at perSecond', async () => {
  const limiter = createRateLimiter(20, 1) // one token every 50 ms
  assert.equal(limiter.take('a'), 0)
  assert.ok(limiter.take('a') > 0)
  await sleep(150)
  assert.equal(limiter.take('a'), 0)
  assert.ok(limiter.take('a') > 0, 'the refill stops at burst')
})

test('rate limiter: each peer has its own bucket', () => {
  const limiter = createRateLimiter(1, 1)
  assert.equal(limiter.take('a'), 0)
  assert.ok(limiter.take('a') > 0)
  assert.equal(limiter.take('b'), 0)
  assert.ok(limiter.take('b') > 0)
})

test('rate limiter: beyond maxPeers the least recently used peer is forgotten', () => {
  const limiter = createRateLimiter(0.001, 1, 2)
  assert.equal(limiter.take('a'), 0)
  assert.equal(limiter.take('b'), 0)
  assert.ok(limiter.take('a') > 0) // a is now the most recently used
  assert.equal(limiter.take('c'), 0) // evicts b
  assert.equal(limiter.take('b'), 0, 'b was forgotten: a full bucket again') // evicts a
  assert.equal(limiter.take('a'), 0, 'a was forgotten too')
  assert.ok(limiter.take('a') > 0)
})

test('gauge: acquires up to max, refuses beyond, and release never goes below zero', () => {
  const gauge = createGauge(2)
  assert.equal(gauge.tryAcquire(), true)
  assert.equal(gauge.tryAcquire(), true)
  assert.equal(gauge.tryAcquire(), false)
  assert.equal(gauge.value, 2)
  gauge.release()
  assert.equal(gauge.value, 1)
  assert.equal(gauge.tryAcquire(), true)
  gauge.release()
  gauge.release()
  gauge.release()
  assert.equal(gauge.value, 0)
  assert.equal(gauge.tryAcquire(), true)
})
