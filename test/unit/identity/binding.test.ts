import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import {
  cryptoWaitReady,
  keyExtractPath,
  keyFromPath,
  mnemonicToMiniSecret,
  sr25519PairFromSeed,
  sr25519Sign,
  sr25519Verify,
} from '@polkadot/util-crypto'
import type { Keypair } from '@polkadot/util-crypto/types'
import { isPRouterError } from '../../../src/errors.js'
import {
  bindingFromJson,
  bindingToJson,
  DEV_PHRASE,
  signBinding,
  verifyBinding,
  workerKeyFromSuri,
} from '../../../src/identity/index.js'
import type { SignedBinding, WorkerKeyPair } from '../../../src/identity/index.js'
import { ALICE, ALICE_PAYLOAD_HEX, BOB, ENDPOINT, SIGNING_TIME } from '../../helpers/identity-vectors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const code =
  (c: 'ERR_BINDING_MALFORMED' | 'ERR_BINDING_SIGNATURE' | 'ERR_INVALID_ARGUMENT') =>
  (err: unknown): boolean =>
    isPRouterError(err, c)

let polkadotAlice: Keypair
let alice: WorkerKeyPair

before(async () => {
  await cryptoWaitReady()
  // //Alice made with @polkadot/util-crypto alone, not through src/identity.
  const root = sr25519PairFromSeed(mnemonicToMiniSecret(DEV_PHRASE))
  polkadotAlice = keyFromPath(root, keyExtractPath('//Alice').path, 'sr25519')
  alice = await workerKeyFromSuri('//Alice')
})

/** Sign with @polkadot/util-crypto directly over a message built by hand. */
function polkadotSigned(payloadHex: string, prefixHex = 'ff02'): SignedBinding {
  return { payload: bytes(payloadHex), signature: sr25519Sign(bytes(prefixHex + payloadHex), polkadotAlice) }
}

test('interop: sr25519Sign over the hand-built 0xff 0x02 ++ payload verifies through verifyBinding', () => {
  assert.equal(hex(polkadotAlice.publicKey), ALICE)
  const v = verifyBinding(polkadotSigned(ALICE_PAYLOAD_HEX))
  assert.equal(v.workerKey, `0x${ALICE}`)
  assert.deepEqual(v.endpoints, [ENDPOINT])
  assert.equal(v.signingTime, SIGNING_TIME)
})

test('signBinding by //Alice: the payload is the hand-written vector and it verifies both ways', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  assert.equal(hex(b.payload), ALICE_PAYLOAD_HEX)
  assert.equal(b.signature.length, 64)
  assert.ok(
    sr25519Verify(bytes(`ff02${ALICE_PAYLOAD_HEX}`), b.signature, bytes(ALICE)),
    'verified by polkadot',
  )
  const v = verifyBinding(b)
  assert.deepEqual(
    { workerKey: v.workerKey, endpoints: v.endpoints, signingTime: v.signingTime },
    { workerKey: `0x${ALICE}`, endpoints: [ENDPOINT], signingTime: SIGNING_TIME },
  )
  assert.deepEqual(v.binding, b)
})

test('the signature is over the prefixed message: a signature over the bare payload fails', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  assert.equal(sr25519Verify(b.payload, b.signature, bytes(ALICE)), false)
  assert.throws(() => verifyBinding(polkadotSigned(ALICE_PAYLOAD_HEX, '')), code('ERR_BINDING_SIGNATURE'))
  for (const prefix of ['ff01', 'ff03', '02ff', '00ff02', 'ff']) {
    assert.throws(
      () => verifyBinding(polkadotSigned(ALICE_PAYLOAD_HEX, prefix)),
      code('ERR_BINDING_SIGNATURE'),
      prefix,
    )
  }
})

test('a flipped payload byte (key, endpoint, time) or signature byte is rejected', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  for (const at of [0, 31, 40, b.payload.length - 8, b.payload.length - 3]) {
    const payload = Uint8Array.from(b.payload)
    payload[at] = (payload[at] ?? 0) ^ 0x01
    assert.throws(() => verifyBinding({ ...b, payload }), code('ERR_BINDING_SIGNATURE'), `payload byte ${at}`)
  }
  for (const [at, mask] of [
    [0, 0x01],
    [40, 0x80],
    [63, 0x80], // the schnorrkel marker bit
  ] as const) {
    const signature = Uint8Array.from(b.signature)
    signature[at] = (signature[at] ?? 0) ^ mask
    assert.throws(
      () => verifyBinding({ ...b, signature }),
      code('ERR_BINDING_SIGNATURE'),
      `signature byte ${at}`,
    )
  }
})

test("a payload naming //Bob signed by //Alice is not Bob's binding", () => {
  const bobPayload = BOB + ALICE_PAYLOAD_HEX.slice(64)
  assert.throws(() => verifyBinding(polkadotSigned(bobPayload)), code('ERR_BINDING_SIGNATURE'))
  const notAPoint = 'ff'.repeat(32) + ALICE_PAYLOAD_HEX.slice(64)
  assert.throws(
    () => verifyBinding(polkadotSigned(notAPoint)),
    code('ERR_BINDING_SIGNATURE'),
    'no curve point',
  )
})

test('structural faults are ERR_BINDING_MALFORMED, before any signature check', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  const cases: [string, unknown][] = [
    ['63-byte signature', { payload: b.payload, signature: b.signature.subarray(1) }],
    ['65-byte signature', { payload: b.payload, signature: new Uint8Array(65) }],
    ['hex strings', bindingToJson(b)],
    ['trailing payload byte', { payload: Uint8Array.from([...b.payload, 0]), signature: b.signature }],
    ['null', null],
  ]
  for (const [name, value] of cases) {
    assert.throws(() => verifyBinding(value as SignedBinding), code('ERR_BINDING_MALFORMED'), name)
  }
  const farFuture = ALICE_PAYLOAD_HEX.slice(0, -16) + '0000000000002000' // 2^53 ms
  assert.throws(
    () => verifyBinding(polkadotSigned(farFuture)),
    code('ERR_BINDING_MALFORMED'),
    'time > 2^53 - 1',
  )
})

test('what verifyBinding returns does not change when the caller reuses its buffers', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  const v = verifyBinding(b)
  b.payload.fill(0)
  b.signature.fill(0)
  assert.equal(hex(v.binding.payload), ALICE_PAYLOAD_HEX)
  assert.doesNotThrow(() => verifyBinding(v.binding))
})

test('signBinding refuses a signing time that is not whole non-negative milliseconds', () => {
  for (const t of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
    assert.throws(() => signBinding(alice, [ENDPOINT], t), code('ERR_INVALID_ARGUMENT'), String(t))
  }
})

test('JSON: 0x-hex both ways; other fields ignored', () => {
  const b = signBinding(alice, [ENDPOINT], SIGNING_TIME)
  const j = bindingToJson(b)
  assert.equal(j.payload, `0x${ALICE_PAYLOAD_HEX}`)
  assert.match(j.signature, /^0x[0-9a-f]{128}$/)
  assert.deepEqual(bindingFromJson(j), b)
  assert.deepEqual(bindingFromJson({ ...j, workerKey: `0x${ALICE}`, extra: 1 }), b)
  const upper = { payload: j.payload.toUpperCase().replace('0X', '0x'), signature: j.signature }
  assert.deepEqual(bindingFromJson(upper), b, 'hex digits in either case')
  assert.equal(verifyBinding(bindingFromJson(JSON.parse(JSON.stringify(j)))).workerKey, `0x${ALICE}`)
})

test('bindingFromJson: anything off is ERR_BINDING_MALFORMED', () => {
  const j = bindingToJson(signBinding(alice, [ENDPOINT], SIGNING_TIME))
  const cases: [string, unknown][] = [
    ['null', null],
    ['array', [j.payload, j.signature]],
    ['string', JSON.stringify(j)],
    ['no payload', { signature: j.signature }],
    ['no signature', { payload: j.payload }],
    ['payload a number', { ...j, payload: 5 }],
    ['payload bytes', { ...j, payload: [1, 2] }],
    ['no 0x', { ...j, payload: j.payload.slice(2) }],
    ['odd hex', { ...j, payload: `${j.payload}0` }],
    ['not hex', { ...j, payload: `${j.payload.slice(0, -2)}zz` }],
    ['63-byte signature', { ...j, signature: j.signature.slice(0, -2) }],
    ['65-byte signature', { ...j, signature: `${j.signature}00` }],
    ['payload does not decode', { ...j, payload: `${j.payload}00` }],
    ['payload far too long', { ...j, payload: `0x${'00'.repeat(40_000)}` }],
    ['0X prefix', { ...j, payload: j.payload.replace('0x', '0X') }],
  ]
  for (const [name, value] of cases)
    assert.throws(() => bindingFromJson(value), code('ERR_BINDING_MALFORMED'), name)
})
