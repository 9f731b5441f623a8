import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { workerKeyFromSuri, workerKeyHex } from '../../../src/identity/index.js'
import { decodeMessage, verifyMessage } from '../../../src/messages/envelope.js'
import { decodeFrame, encodeAck, encodeAnswer } from '../../../src/messages/frames.js'
import type { PeerLink } from '../../../src/messages/link.js'
import { decodeRequest, encodeWireAnswer } from '../../../src/messages/request-wire.js'
import { createRequester } from '../../../src/messages/requester.js'
import { sleep } from '../../../src/signals.js'
import { testLogger } from '../../helpers/i2pd.js'

const alice = await workerKeyFromSuri('//Alice')
const BOB = workerKeyHex((await workerKeyFromSuri('//Bob')).publicKey)
const BOB_B32 = `${'b'.repeat(52)}.b32.i2p`
const REQUEST = {
  method: 'POST',
  target: '/rpc',
  headers: [['x-a', '1']] as Array<[string, string]>,
  body: Buffer.from('hi'),
}

/** A link that records what is sent; `answer` is called with each send's id and its signed bytes. */
function fakeLink(answer: (id: string, wire: Buffer, n: number) => void) {
  const sent: string[] = []
  const link: PeerLink = {
    b32Of: (key) => (key === BOB ? Promise.resolve(BOB_B32) : Promise.reject(new Error('no binding'))),
    send: (_b32, id, frames) => {
      sent.push(id)
      const frame = decodeFrame(frames[0] as Buffer)
      assert.equal(frame.type, 'data')
      setImmediate(() => {
        answer(id, frame.bytes, sent.length)
      })
      return Promise.resolve()
    },
    heard: () => undefined,
    timeout: () => 20,
    forgetDestinations: () => undefined,
  }
  return { link, sent }
}

test('a request goes out signed as a request for the callee, and its answer from the callee comes back', async () => {
  const answer = encodeWireAnswer({ status: 201, headers: [['x-b', '2']], body: Buffer.from('ok') })
  let requester: ReturnType<typeof createRequester> | undefined = undefined
  const { link } = fakeLink((id, wire) => {
    const message = verifyMessage(wire, { self: BOB, now: Date.now() })
    assert.equal(message.kind, 'request')
    assert.deepEqual(decodeRequest(message.payload), REQUEST)
    const frame = decodeFrame(encodeAnswer(id, answer))
    assert.equal(frame.type, 'answer')
    requester?.onFrame(`${'m'.repeat(52)}.b32.i2p`, frame) // not from bob: ignored
    requester?.onFrame(BOB_B32, frame)
  })
  requester = createRequester({ self: alice }, { link, logger: testLogger() })
  const got = await requester.request(BOB, REQUEST, new AbortController().signal)
  assert.equal(got.status, 201)
  assert.equal(got.body.toString(), 'ok')
  assert.equal(await requester.reaches(BOB), true)
  assert.equal(await requester.reaches(`0x${'00'.repeat(32)}`), false)
})

test('without an answer the same signed bytes go again; a refusal ends it with the callee code', async () => {
  const copies: Buffer[] = []
  let requester: ReturnType<typeof createRequester> | undefined = undefined
  const { link, sent } = fakeLink((id, wire, n) => {
    copies.push(wire)
    if (n < 3) return // the first two are lost
    const ack = decodeFrame(encodeAck(id, 'refused', 'ERR_PATH_NOT_ALLOWED'))
    assert.equal(ack.type, 'ack')
    requester?.onFrame(BOB_B32, ack)
  })
  requester = createRequester({ self: alice, retryMin: 20, retryMax: 40 }, { link, logger: testLogger() })
  await assert.rejects(requester.request(BOB, REQUEST, new AbortController().signal), (err: unknown) =>
    isPRouterError(err, 'ERR_PATH_NOT_ALLOWED'),
  )
  assert.equal(sent.length, 3)
  assert.equal(new Set(sent).size, 1, 'one id')
  assert.ok(
    copies.every((c) => c.equals(copies[0] as Buffer)),
    'the same bytes',
  )
  assert.equal(decodeMessage(copies[0] as Buffer).kind, 'request')
})

test('an aborted request stops resending; a busy ACK does not end it', async () => {
  let requester: ReturnType<typeof createRequester> | undefined = undefined
  const { link, sent } = fakeLink((id) => {
    const busy = decodeFrame(encodeAck(id, 'busy', 'ERR_RATE_LIMITED'))
    assert.equal(busy.type, 'ack')
    requester?.onFrame(BOB_B32, busy)
  })
  requester = createRequester({ self: alice, retryMin: 20, retryMax: 20 }, { link, logger: testLogger() })
  const stop = new AbortController()
  const pending = requester.request(BOB, REQUEST, stop.signal)
  await sleep(100)
  stop.abort(new Error('caller gone'))
  await assert.rejects(pending, /caller gone/)
  const after = sent.length
  assert.ok(after >= 2, `resent while busy (${after})`)
  await sleep(100)
  assert.equal(sent.length, after, 'nothing sent after the abort')
})
