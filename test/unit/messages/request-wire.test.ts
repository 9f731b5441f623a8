import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { workerKeyFromSuri, workerKeyHex } from '../../../src/identity/index.js'
import { createAnswerCache } from '../../../src/messages/answer-cache.js'
import { decodeMessage, signMessage, verifyMessage } from '../../../src/messages/envelope.js'
import {
  decodeDatagram,
  decodeFrame,
  encodeAnswer,
  encodeBatch,
  MAX_ANSWER_BYTES,
} from '../../../src/messages/frames.js'
import {
  decodeRequest,
  decodeWireAnswer,
  encodeRequest,
  encodeWireAnswer,
  fromPairs,
  toPairs,
} from '../../../src/messages/request-wire.js'

const ID = '00112233445566778899aabbccddeeff'
const malformed = (err: unknown): boolean => isPRouterError(err, 'ERR_MESSAGE_MALFORMED')

/** A head of arbitrary JSON with a body, as a hostile peer could send it. */
const raw = (head: unknown, body = Buffer.alloc(0)): Buffer => {
  const json = Buffer.from(JSON.stringify(head))
  const length = Buffer.alloc(2)
  length.writeUInt16BE(json.length)
  return Buffer.concat([length, json, body])
}

test('a request and an answer survive the wire as they were', () => {
  const request = {
    method: 'POST',
    target: '/prpc/PhactoryAPI.GetInfo?x=1',
    headers: toPairs({ 'content-type': 'application/json', accept: ['a', 'b'] }),
    body: Buffer.from('{"a":1}'),
  }
  assert.deepEqual(decodeRequest(encodeRequest(request)), request)
  const answer = {
    status: 201,
    headers: [['set-cookie', 'a=1'] as [string, string]],
    body: Buffer.from('ok'),
  }
  assert.deepEqual(decodeWireAnswer(encodeWireAnswer(answer)), answer)
  const parked = { status: 200, headers: [], body: Buffer.alloc(0), parked: 'ab'.repeat(16) }
  assert.deepEqual(decodeWireAnswer(encodeWireAnswer(parked)), parked)
  assert.deepEqual(fromPairs(request.headers), { 'content-type': 'application/json', accept: 'a, b' })
  assert.deepEqual(fromPairs([['set-cookie', 'a=1']]), { 'set-cookie': ['a=1'] })
})

test('hostile requests are refused before anything could reach a service', () => {
  const ok = { method: 'GET', target: '/', headers: [] }
  for (const bad of [
    Buffer.alloc(1),
    Buffer.from([0xff, 0xff, 0x7b]), // a head longer than the bytes
    Buffer.concat([Buffer.from([0, 3]), Buffer.from('{{{')]), // no JSON
    raw([]),
    raw({ ...ok, method: 'get' }),
    raw({ ...ok, method: 'GET /x HTTP/1.1\r\n' }),
    raw({ ...ok, target: 'http://elsewhere/' }),
    raw({ ...ok, target: '/a b' }),
    raw({ ...ok, target: '/a\r\nx-prouter-caller: 0x00' }),
    raw({ ...ok, headers: [['x', 'a\r\nb: c']] }),
    raw({ ...ok, headers: [['Bad Name', 'v']] }),
    raw({ ...ok, headers: [['x', 1]] }),
    raw({ ...ok, headers: [['x']] }),
    raw({ ...ok, headers: { x: 'y' } }),
  ]) {
    assert.throws(() => decodeRequest(bad), malformed, bad.toString('latin1'))
  }
  for (const bad of [
    raw({ status: 99, headers: [] }),
    raw({ status: 200.5, headers: [] }),
    raw({ status: '200', headers: [] }),
    raw({ status: 200, headers: [], parked: '../x' }),
  ]) {
    assert.throws(() => decodeWireAnswer(bad), malformed)
  }
})

test('an ANSWER frame carries 1 to MAX_ANSWER_BYTES bytes, alone or in a batch', () => {
  const bytes = Buffer.alloc(MAX_ANSWER_BYTES, 7)
  const frame = encodeAnswer(ID, bytes)
  const decoded = decodeFrame(frame)
  assert.equal(decoded.type, 'answer')
  assert.equal(decoded.id, ID)
  assert.ok(decoded.bytes.equals(bytes))
  assert.throws(() => encodeAnswer(ID, Buffer.alloc(MAX_ANSWER_BYTES + 1)), /1\.\./)
  assert.throws(() => encodeAnswer(ID, Buffer.alloc(0)), /1\.\./)
  assert.throws(() => decodeFrame(frame.subarray(0, 18)), malformed)
  const small = encodeAnswer(ID, Buffer.from('a'))
  const batch = encodeBatch([small, small])
  assert.ok(batch)
  assert.deepEqual(
    decodeDatagram(batch).map((f) => f.type),
    ['answer', 'answer'],
  )
})

test('a request envelope is signed under its own domain: no message passes for a request, nor the reverse', async () => {
  const alice = await workerKeyFromSuri('//Alice')
  const bob = workerKeyHex((await workerKeyFromSuri('//Bob')).publicKey)
  const request = signMessage(alice, { receiver: bob, payload: Buffer.from('r'), kind: 'request' })
  assert.equal(verifyMessage(request, { self: bob, now: Date.now() }).kind, 'request')
  const message = signMessage(alice, { receiver: bob, payload: Buffer.from('m') })
  assert.equal(decodeMessage(message).kind, 'message')
  message.write('prouter-request-v1:', 0, 'latin1')
  assert.equal(decodeMessage(message).kind, 'request')
  assert.throws(
    () => verifyMessage(message, { self: bob, now: Date.now() }),
    (err: unknown) => isPRouterError(err, 'ERR_MESSAGE_SIGNATURE'),
  )
  request.write('prouter-elsewhere-v1', 0, 'latin1')
  assert.throws(() => decodeMessage(request), malformed)
})

test('the answer cache keeps answers for retries, within its byte bound and age, oldest out first', () => {
  const cache = createAnswerCache({ maxBytes: 300, maxAge: 1000 })
  cache.put('a', '1', Buffer.alloc(100), 0)
  cache.put('a', '2', Buffer.alloc(100), 10)
  cache.put('b', '1', Buffer.alloc(100), 20)
  assert.equal(cache.bytes, 300)
  assert.equal(cache.get('a', '1')?.length, 100)
  cache.put('b', '2', Buffer.alloc(50), 30) // over the bound: the oldest goes
  assert.equal(cache.get('a', '1'), undefined)
  assert.equal(cache.get('a', '2')?.length, 100)
  assert.equal(cache.bytes, 250)
  cache.put('c', '1', Buffer.alloc(1), 1015) // a's 2 is older than maxAge by now
  assert.equal(cache.get('a', '2'), undefined)
  assert.equal(cache.get('b', '1')?.length, 100)
})
