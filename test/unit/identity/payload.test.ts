import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compactToU8a, stringToU8a, u8aConcat } from '@polkadot/util'
import { MAX_BINDING_ENDPOINTS, MAX_BINDING_PAYLOAD_BYTES } from '../../../src/constants.js'
import { isPRouterError } from '../../../src/errors.js'
import {
  decodeEndpointPayload,
  encodeEndpointPayload,
  endpointSigningMessage,
} from '../../../src/identity/index.js'
import { ALICE, ALICE_PAYLOAD_HEX, ENDPOINT } from '../../helpers/identity-vectors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const malformed = (err: unknown): boolean => isPRouterError(err, 'ERR_BINDING_MALFORMED')
const invalidArgument = (err: unknown): boolean => isPRouterError(err, 'ERR_INVALID_ARGUMENT')

test('the //Alice vector: every field as written out by hand', () => {
  const payload = encodeEndpointPayload({
    pubkey: bytes(ALICE),
    endpoints: [ENDPOINT],
    signingTime: 1_700_000_000_000n,
  })
  assert.equal(hex(payload), ALICE_PAYLOAD_HEX)
  const decoded = decodeEndpointPayload(bytes(ALICE_PAYLOAD_HEX))
  assert.equal(hex(decoded.pubkey), ALICE)
  assert.deepEqual(decoded.endpoints, [ENDPOINT])
  assert.equal(decoded.signingTime, 1_700_000_000_000n)
})

test('two endpoints, an empty one and a non-ASCII one; signing time 0 and u64::MAX', () => {
  const pubkey = new Uint8Array(32).fill(0x01)
  const expected = [
    '01'.repeat(32), // pubkey
    '00', // V1
    '08', // compact(2)
    '00', // compact(0): ""
    '08', // compact(2)
    'c3a9', // "é" in UTF-8
  ].join('')
  const zero = encodeEndpointPayload({ pubkey, endpoints: ['', 'é'], signingTime: 0n })
  assert.equal(hex(zero), `${expected}0000000000000000`)
  const max = encodeEndpointPayload({ pubkey, endpoints: ['', 'é'], signingTime: 2n ** 64n - 1n })
  assert.equal(hex(max), `${expected}ffffffffffffffff`)
  assert.equal(decodeEndpointPayload(max).signingTime, 2n ** 64n - 1n)
  assert.deepEqual(decodeEndpointPayload(zero).endpoints, ['', 'é'])
})

test('no endpoints at all: compact(0)', () => {
  const payload = encodeEndpointPayload({ pubkey: bytes(ALICE), endpoints: [], signingTime: 1n })
  assert.equal(hex(payload), `${ALICE}0000` + '0100000000000000')
})

test('endpoint lengths at the compact mode edges: 63/64 and 16383/16384 bytes', () => {
  const prefixes: [number, string][] = [
    [63, 'fc'],
    [64, '0101'],
    [16383, 'fdff'],
    [16384, '02000100'],
  ]
  for (const [length, prefix] of prefixes) {
    const endpoint = 'x'.repeat(length)
    const payload = encodeEndpointPayload({ pubkey: bytes(ALICE), endpoints: [endpoint], signingTime: 7n })
    assert.equal(hex(payload.subarray(0, 34 + prefix.length / 2)), `${ALICE}0004${prefix}`, String(length))
    assert.equal(payload.length, 32 + 1 + 1 + prefix.length / 2 + length + 8)
    assert.equal(decodeEndpointPayload(payload).endpoints[0], endpoint)
  }
})

test('round trips, checked against an independent SCALE encoder (@polkadot/util)', () => {
  const samples = [[], [ENDPOINT], ['a', 'bb', 'ccc'], ['ü'.repeat(40), 'x'.repeat(300)], Array(16).fill('e')]
  for (const [i, endpoints] of samples.entries()) {
    const pubkey = new Uint8Array(32).fill(i)
    const time = BigInt(i) * 1_000_000_007n
    const theirs = u8aConcat(
      pubkey,
      [0],
      compactToU8a(endpoints.length),
      ...endpoints.flatMap((e: string) => [compactToU8a(stringToU8a(e).length), stringToU8a(e)]),
      leU64(time),
    )
    const ours = encodeEndpointPayload({ pubkey, endpoints, signingTime: time })
    assert.equal(hex(ours), hex(theirs), `sample ${i}`)
    assert.deepEqual(decodeEndpointPayload(ours), { pubkey, endpoints, signingTime: time })
  }
})

test('a leading byte-order mark is kept as a character, so the bytes round-trip', () => {
  const payload = bytes(`${ALICE}0004` + '10' + `efbbbf61${'0'.repeat(16)}`) // compact(4), U+FEFF "a"
  const { endpoints } = decodeEndpointPayload(payload)
  assert.deepEqual(endpoints, ['\ufeffa'])
  assert.equal(hex(encodeEndpointPayload(decodeEndpointPayload(payload))), hex(payload))
})

test('every malformed payload is refused with ERR_BINDING_MALFORMED', () => {
  const time = '0068e5cf8b010000'
  const cases: [string, string][] = [
    ['empty', ''],
    ['short pubkey', ALICE.slice(0, 62)],
    ['no variant', ALICE],
    ['unknown variant 1', `${ALICE}01040461626364${time}`],
    ['no count', `${ALICE}00`],
    ['count in a non-canonical compact', `${ALICE}000100${time}`],
    [
      'count over the limit',
      `${ALICE}00${hex(compactToU8a(MAX_BINDING_ENDPOINTS + 1))}${'00'.repeat(17)}${time}`,
    ],
    ['two endpoints announced, one there', `${ALICE}00080461626364${time}`],
    ['string longer than the rest', `${ALICE}0004fc61${time}`],
    ['string length past u32', `${ALICE}0004130000000000${time}`],
    ['invalid UTF-8: 0xff', `${ALICE}000404ff${time}`],
    ['invalid UTF-8: overlong NUL', `${ALICE}000408c080${time}`],
    ['invalid UTF-8: a surrogate', `${ALICE}00040ceda080${time}`],
    ['invalid UTF-8: cut sequence', `${ALICE}000404c3${time}`],
    ['signing time cut', `${ALICE}0000${time.slice(0, 14)}`],
    ['a byte after signing_time', `${ALICE}0000${time}00`],
  ]
  for (const [name, h] of cases) assert.throws(() => decodeEndpointPayload(bytes(h)), malformed, name)
  const tooBig = new Uint8Array(MAX_BINDING_PAYLOAD_BYTES + 1)
  assert.throws(() => decodeEndpointPayload(tooBig), malformed, 'over the size limit')
  assert.throws(() => decodeEndpointPayload('00' as unknown as Uint8Array), malformed, 'not bytes')
})

test('the encoder refuses what it could not encode faithfully (ERR_INVALID_ARGUMENT)', () => {
  const pubkey = bytes(ALICE)
  const cases: [string, Parameters<typeof encodeEndpointPayload>[0]][] = [
    ['31-byte pubkey', { pubkey: pubkey.subarray(1), endpoints: [], signingTime: 0n }],
    ['lone surrogate', { pubkey, endpoints: ['a\ud800'], signingTime: 0n }],
    ['17 endpoints', { pubkey, endpoints: Array<string>(17).fill('e'), signingTime: 0n }],
    ['negative time', { pubkey, endpoints: [], signingTime: -1n }],
    ['time past u64', { pubkey, endpoints: [], signingTime: 2n ** 64n }],
    ['number time', { pubkey, endpoints: [], signingTime: 5 as unknown as bigint }],
    ['non-string endpoint', { pubkey, endpoints: [5 as unknown as string], signingTime: 0n }],
    ['payload too large', { pubkey, endpoints: ['x'.repeat(MAX_BINDING_PAYLOAD_BYTES)], signingTime: 0n }],
  ]
  for (const [name, p] of cases) assert.throws(() => encodeEndpointPayload(p), invalidArgument, name)
})

test('the signed message is 0xff 0x02 ++ payload', () => {
  assert.equal(hex(endpointSigningMessage(bytes(ALICE_PAYLOAD_HEX))), `ff02${ALICE_PAYLOAD_HEX}`)
  assert.equal(hex(endpointSigningMessage(new Uint8Array())), 'ff02')
})

function leU64(v: bigint): Uint8Array {
  const out = new Uint8Array(8)
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn)
  return out
}
