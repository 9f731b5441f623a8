import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { createParkedAnswers } from '../../../src/proxy/parked-answers.js'
import { sleep } from '../../../src/signals.js'

const answer = (owner: string | undefined) => ({
  status: 200,
  headers: {},
  head: Buffer.from('head'),
  rest: Readable.from([Buffer.from('rest')]),
  owner,
})

test('a parked answer is taken once, by its owner only; an anonymous one by whoever has the token', () => {
  const parked = createParkedAnswers({ max: 4, maxPerCaller: 4, timeout: 60_000 })
  const token = parked.park(answer('0xalice'))
  assert.match(token, /^[0-9a-f]{32}$/)
  assert.equal(parked.take(token, '0xmallory'), undefined)
  assert.equal(parked.take(token, undefined), undefined)
  assert.equal(parked.take(token, '0xalice')?.head.toString(), 'head')
  assert.equal(parked.take(token, '0xalice'), undefined, 'once')
  const open = parked.park(answer(undefined))
  assert.ok(parked.take(open, '0xanyone'))
  parked.close()
})

test('parked answers are bounded in number and dropped (the service response destroyed) when not fetched in time', async () => {
  const parked = createParkedAnswers({ max: 2, maxPerCaller: 2, timeout: 50 })
  const first = answer('0xa')
  const token = parked.park(first)
  parked.park(answer('0xa'))
  const third = answer('0xa')
  assert.throws(
    () => parked.park(third),
    (err: unknown) => isPRouterError(err, 'ERR_ANSWERS_FULL'),
  )
  assert.ok(third.rest.destroyed, 'the refused one is let go')
  await sleep(120)
  assert.ok(first.rest.destroyed)
  assert.equal(parked.take(token, '0xa'), undefined)
  parked.park(answer('0xa')) // room again
  parked.close()
})

test('one caller (the anonymous ones together) parks at most maxPerCaller answers; others still can', () => {
  const parked = createParkedAnswers({ max: 10, maxPerCaller: 2, timeout: 60_000 })
  const token = parked.park(answer(undefined))
  parked.park(answer(undefined))
  assert.throws(
    () => parked.park(answer(undefined)),
    (err: unknown) => isPRouterError(err, 'ERR_ANSWERS_FULL'),
  )
  parked.park(answer('0xalice'))
  assert.ok(parked.take(token, undefined))
  parked.park(answer(undefined)) // its place is free again
  parked.close()
})
