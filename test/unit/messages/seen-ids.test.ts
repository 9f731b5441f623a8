import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { createSeenIds } from '../../../src/messages/seen-ids.js'

const T = 1_000_000
const W = 1000

test('an id is new once; its retries are pending until delivered, then delivered', () => {
  const seen = createSeenIds({ window: W })
  assert.equal(seen.admit('a', '1', T, T), 'new')
  assert.equal(seen.admit('a', '1', T, T + 1), 'pending')
  seen.delivered('a', '1')
  assert.equal(seen.admit('a', '1', T, T + 2), 'delivered')
  assert.equal(seen.admit('b', '1', T, T + 2), 'new', 'ids are per sender')
})

test('after a failed delivery the id is forgotten, so the retry delivers', () => {
  const seen = createSeenIds({ window: W })
  seen.admit('a', '1', T, T)
  seen.forget('a', '1')
  assert.equal(seen.admit('a', '1', T, T + 1), 'new')
})

test('an id is remembered until its signing time + window, however many others arrive', () => {
  const seen = createSeenIds({ window: W })
  seen.admit('a', 'old', T, T)
  seen.delivered('a', 'old')
  for (let i = 0; i < 100; i++) seen.admit('a', String(i), T + W, T + W)
  assert.equal(seen.admit('a', 'old', T, T + W), 'delivered', 'still remembered at the window edge')
  seen.admit('a', 'x', T + W + 1, T + W + 1) // sweeps
  assert.equal(seen.size, 101, 'the old id went, once expired')
})

test('when full, new ids are refused with ERR_MESSAGE_BUSY and known ones still answered', () => {
  const seen = createSeenIds({ window: W, maxEntries: 2 })
  seen.admit('a', '1', T, T)
  seen.admit('a', '2', T, T)
  assert.throws(
    () => seen.admit('a', '3', T, T),
    (err: unknown) => isPRouterError(err, 'ERR_MESSAGE_BUSY'),
  )
  assert.equal(seen.admit('a', '1', T, T), 'pending')
  assert.equal(seen.admit('a', '3', T + W + 1, T + W + 1), 'new', 'room again once the first expired')
})

test('state() tells what is known without recording anything', () => {
  const seen = createSeenIds({ window: W })
  assert.equal(seen.state('a', '1'), undefined)
  assert.equal(seen.size, 0, 'nothing recorded by asking')
  seen.admit('a', '1', T, T)
  assert.equal(seen.state('a', '1'), 'pending')
  seen.delivered('a', '1')
  assert.equal(seen.state('a', '1'), 'delivered')
})
