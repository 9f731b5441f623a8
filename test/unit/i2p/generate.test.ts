import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { test } from 'node:test'
import {
  b32FromDestination,
  decodeI2pBase64,
  destinationBytes,
  generateDestinationKeys,
  publicDestinationFromPrivate,
} from '../../../src/i2p/index.js'
import { rfc4648Base32 } from '../../helpers/sam-keys.js'
import { createHash } from 'node:crypto'

// DER wrappers of a raw Ed25519 key (RFC 8410), written out so node:crypto can load the raw bytes.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

test('layout: 391-byte destination, KEY certificate (Ed25519, ElGamal), 256 + 32 private bytes', async () => {
  const keys = await generateDestinationKeys()
  const priv = decodeI2pBase64(keys.privateKey, 'private key')
  const dest = decodeI2pBase64(keys.destination)
  assert.equal(dest.length, 391)
  assert.equal(priv.length, 391 + 256 + 32)
  assert.deepEqual(priv.subarray(0, 391), dest)
  // certificate: type 5 (KEY), length 0x0004, signing type 0x0007, crypto type 0x0000
  assert.equal(dest.subarray(384).toString('hex'), '05' + '0004' + '0007' + '0000')
  assert.equal(publicDestinationFromPrivate(keys.privateKey), keys.destination)
})

test('padding is one random 32-byte block repeated, as i2pd writes it (compressible, proposal 161)', async () => {
  const dest = decodeI2pBase64((await generateDestinationKeys()).destination)
  const block = dest.subarray(0, 32)
  for (let at = 0; at < 352; at += 32) assert.deepEqual(dest.subarray(at, at + 32), block, `block at ${at}`)
  assert.notDeepEqual(dest.subarray(352, 384), block, 'the Ed25519 key is not padding')
})

test('the last 32 private bytes are the Ed25519 seed of the signing key in the destination', async () => {
  const keys = await generateDestinationKeys()
  const priv = decodeI2pBase64(keys.privateKey, 'private key')
  const seed = priv.subarray(priv.length - 32)
  const pub = priv.subarray(352, 384)
  const message = Buffer.from('SYN')
  const signature = sign(
    null,
    message,
    createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' }),
  )
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' })
  assert.ok(verify(null, message, publicKey, signature))
})

test('b32 is base32(sha256(destination)); every call makes a new destination', async () => {
  const a = await generateDestinationKeys()
  const b = await generateDestinationKeys()
  const digest = createHash('sha256').update(decodeI2pBase64(a.destination)).digest()
  assert.equal(a.b32, `${rfc4648Base32(digest)}.b32.i2p`)
  assert.equal(b32FromDestination(a.destination), a.b32)
  assert.notEqual(a.b32, b.b32)
  assert.notEqual(a.privateKey, b.privateKey)
})

test('destinationBytes for fixed inputs, spelled out', () => {
  const padding = Buffer.alloc(32, 0xaa)
  const key = Buffer.alloc(32, 0x11)
  const expected = Buffer.concat([
    Buffer.alloc(352, 0xaa),
    Buffer.alloc(32, 0x11),
    Buffer.from('05000400070000', 'hex'),
  ])
  assert.deepEqual(destinationBytes(padding, key), expected)
})
