import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { cryptoWaitReady, sr25519Verify } from '@polkadot/util-crypto'
import { isPRouterError, type ErrorCode } from '../../../src/errors.js'
import { MESSAGE_TIME_WINDOW } from '../../../src/constants.js'
import { workerKeyFromSuri, workerKeyHex, type WorkerKeyPair } from '../../../src/identity/index.js'
import {
  decodeMessage,
  MESSAGE_DOMAIN,
  MESSAGE_HEADER_BYTES,
  signMessage,
  verifyMessage,
} from '../../../src/messages/envelope.js'

const NOW = 1_765_000_000_000
const ID = '00112233445566778899aabbccddeeff'
const code = (expected: ErrorCode) => (err: unknown) => isPRouterError(err, expected)
let alice: WorkerKeyPair
let bob: WorkerKeyPair
let mallory: WorkerKeyPair
let bobKey: string

before(async () => {
  await cryptoWaitReady()
  alice = await workerKeyFromSuri('//Alice')
  bob = await workerKeyFromSuri('//Bob')
  mallory = await workerKeyFromSuri('//Mallory')
  bobKey = workerKeyHex(bob.publicKey)
})

const signed = (over: Partial<Parameters<typeof signMessage>[1]> = {}, pair = alice): Buffer =>
  signMessage(pair, { receiver: bobKey, payload: Buffer.from('hello'), id: ID, seq: 7, time: NOW, ...over })

test('a message round-trips: fields, payload, and a signature Polkadot verifies over the header', () => {
  const bytes = signed()
  assert.equal(bytes.length, MESSAGE_HEADER_BYTES + 5)
  assert.equal(bytes.toString('latin1', 0, MESSAGE_DOMAIN.length), MESSAGE_DOMAIN)
  const message = verifyMessage(bytes, { self: bobKey, now: NOW })
  assert.equal(message.sender, workerKeyHex(alice.publicKey))
  assert.equal(message.receiver, bobKey)
  assert.equal(message.id, ID)
  assert.equal(message.seq, 7)
  assert.equal(message.time, NOW)
  assert.equal(message.payload.toString(), 'hello')
  assert.ok(sr25519Verify(bytes.subarray(0, 147), bytes.subarray(147, 211), alice.publicKey))
})

test('a changed byte anywhere in the signed fields or the payload is ERR_MESSAGE_SIGNATURE', () => {
  const bytes = signed()
  // receiver (51..83) and time (107..115) are checked before the signature, and have their own codes
  const positions = [19, 40, 83, 98, 105, 106, 115, 146, 147, 210, 211, 215]
  for (const at of positions) {
    const tampered = Buffer.from(bytes)
    tampered[at] = (tampered[at] ?? 0) ^ 1
    assert.throws(
      () => verifyMessage(tampered, { self: bobKey, now: NOW }),
      code('ERR_MESSAGE_SIGNATURE'),
      `byte ${at}`,
    )
  }
  const longer = Buffer.concat([bytes, Buffer.from('!')])
  assert.throws(() => verifyMessage(longer, { self: bobKey, now: NOW }), code('ERR_MESSAGE_SIGNATURE'))
})

test('a forged sender: Mallory signs a message that names Alice as its sender', () => {
  const forged = signed({}, mallory)
  forged.set(alice.publicKey, 19)
  assert.throws(() => verifyMessage(forged, { self: bobKey, now: NOW }), code('ERR_MESSAGE_SIGNATURE'))
  const unsigned = signed()
  unsigned.fill(0, 147, 211)
  assert.throws(() => verifyMessage(unsigned, { self: bobKey, now: NOW }), code('ERR_MESSAGE_SIGNATURE'))
})

test('a message for another worker is ERR_MESSAGE_MISADDRESSED', () => {
  assert.throws(
    () => verifyMessage(signed(), { self: workerKeyHex(mallory.publicKey), now: NOW }),
    code('ERR_MESSAGE_MISADDRESSED'),
  )
})

test('a signing time outside the window, either way, is ERR_MESSAGE_TIME; its edges are in', () => {
  const w = MESSAGE_TIME_WINDOW
  verifyMessage(signed(), { self: bobKey, now: NOW + w })
  verifyMessage(signed(), { self: bobKey, now: NOW - w })
  for (const now of [NOW + w + 1, NOW - w - 1]) {
    assert.throws(() => verifyMessage(signed(), { self: bobKey, now }), code('ERR_MESSAGE_TIME'))
  }
  assert.throws(
    () => verifyMessage(signed(), { self: bobKey, now: NOW + 11, window: 10 }),
    code('ERR_MESSAGE_TIME'),
  )
})

test('bytes without the v1 layout are ERR_MESSAGE_MALFORMED', () => {
  const bytes = signed()
  const wrongDomain = Buffer.from(bytes)
  wrongDomain[0] = 0x50
  const hugeSeq = Buffer.from(bytes)
  hugeSeq.fill(0xff, 99, 107)
  for (const bad of [Buffer.alloc(0), bytes.subarray(0, 210), wrongDomain, hugeSeq]) {
    assert.throws(() => decodeMessage(bad), code('ERR_MESSAGE_MALFORMED'))
  }
})

test('signMessage refuses bad ids, receivers and numbers', () => {
  assert.throws(() => signed({ id: 'xyz' }), code('ERR_INVALID_ARGUMENT'))
  assert.throws(() => signed({ seq: -1 }), code('ERR_INVALID_ARGUMENT'))
  assert.throws(() => signed({ time: 1.5 }), code('ERR_INVALID_ARGUMENT'))
  assert.throws(() => signed({ receiver: '0x12' }), code('ERR_INVALID_WORKER_KEY'))
})
