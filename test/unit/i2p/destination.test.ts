import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import {
  b32FromDestination,
  base32,
  decodeI2pBase64,
  destinationLength,
  publicDestinationFromPrivate,
} from '../../../src/i2p/index.js'
import { fakeKeys, i2pBase64, rfc4648Base32 } from '../../helpers/sam-keys.js'

const invalidArgument = (err: unknown): boolean => isPRouterError(err, 'ERR_INVALID_ARGUMENT')

describe('destinations', () => {
  test('b32 of a fixed destination matches a vector computed independently', () => {
    // A null-certificate destination: 384 key bytes 0..255,0..127 then cert type 0, length 0.
    const bytes = Buffer.concat([
      Buffer.from(Array.from({ length: 384 }, (_, i) => i & 0xff)),
      Buffer.alloc(3),
    ])
    const destination = bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '~')
    const digest = createHash('sha256').update(bytes).digest()
    const expected = `${rfc4648Base32(digest)}.b32.i2p`
    assert.equal(b32FromDestination(destination), expected)
    assert.match(expected, /^[a-z2-7]{52}\.b32\.i2p$/)
  })

  test('b32 of a key-certificate destination (with base64 padding and the I2P alphabet)', () => {
    const keys = fakeKeys(3)
    assert.ok(keys.destination.endsWith('='), 'the 391-byte destination is padded')
    assert.equal(b32FromDestination(keys.destination), keys.b32)
  })

  test('base32 against RFC 4648 test vectors (lower case, no padding)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ]
    for (const [input, output] of vectors) assert.equal(base32(Buffer.from(input)), output, input)
  })

  test('the I2P alphabet: "-" and "~" instead of "+" and "/"', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf])
    assert.equal(i2pBase64(bytes), '-~-~')
    assert.deepEqual(decodeI2pBase64('-~-~'), bytes)
    assert.throws(() => decodeI2pBase64('+/+/'), invalidArgument)
    assert.throws(() => decodeI2pBase64('abc'), invalidArgument, 'length not a multiple of 4')
  })

  test('public destination from a private key: 387 + certificate length bytes', () => {
    const keys = fakeKeys(5)
    assert.equal(publicDestinationFromPrivate(keys.privateKey), keys.destination)
    assert.equal(decodeI2pBase64(keys.destination).length, 391)
  })

  test('malformed keys and destinations are refused', () => {
    const keys = fakeKeys(5)
    assert.throws(() => publicDestinationFromPrivate(keys.destination), invalidArgument, 'no private part')
    assert.throws(() => publicDestinationFromPrivate(i2pBase64(Buffer.alloc(300))), invalidArgument, 'short')
    assert.throws(
      () => b32FromDestination(keys.privateKey),
      invalidArgument,
      'a private key is not a destination',
    )
    const lying = Buffer.from(keys.destinationBytes)
    lying.writeUInt16BE(600, 385) // certificate length past the end
    assert.throws(() => b32FromDestination(i2pBase64(lying)), invalidArgument)
  })
})

test('destinationLength reads the certificate length: 387 for a null certificate, 391 for Ed25519', () => {
  assert.equal(destinationLength(Buffer.alloc(387)), 387)
  assert.equal(destinationLength(fakeKeys(1).destinationBytes), 391)
  assert.equal(destinationLength(decodeI2pBase64(fakeKeys(1).privateKey)), 391, 'the prefix of a private key')
  assert.throws(() => destinationLength(Buffer.alloc(386)), invalidArgument)
})

test('src/sam still re-exports the same I2P helpers', async () => {
  const sam = await import('../../../src/sam/index.js')
  const i2p = await import('../../../src/i2p/index.js')
  for (const name of [
    'b32FromDestination',
    'base32',
    'decodeI2pBase64',
    'destinationLength',
    'encodeI2pBase64',
    'publicDestinationFromPrivate',
  ] as const) {
    assert.equal(sam[name], i2p[name], name)
  }
})
