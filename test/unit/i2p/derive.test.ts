import assert from 'node:assert/strict'
import { createPublicKey, createPrivateKey, sign, verify } from 'node:crypto'
import { test } from 'node:test'
import {
  b32FromDestination,
  DATAGRAM_DESTINATION_LABEL,
  decodeI2pBase64,
  deriveDestinationKeys,
  generateDestinationKeys,
  publicDestinationFromPrivate,
} from '../../../src/i2p/index.js'

test('a derived destination is the same every time, differs per label and per source key', async () => {
  const source = await generateDestinationKeys()
  const a = deriveDestinationKeys(source.privateKey, DATAGRAM_DESTINATION_LABEL)
  const b = deriveDestinationKeys(source.privateKey, DATAGRAM_DESTINATION_LABEL)
  assert.deepEqual(a, b)
  assert.notEqual(a.b32, source.b32)
  assert.notEqual(deriveDestinationKeys(source.privateKey, 'other').b32, a.b32)
  const other = await generateDestinationKeys()
  assert.notEqual(deriveDestinationKeys(other.privateKey, DATAGRAM_DESTINATION_LABEL).b32, a.b32)
})

test('a derived destination is a well-formed SAM private key whose Ed25519 seed signs for its public key', async () => {
  const source = await generateDestinationKeys()
  const keys = deriveDestinationKeys(source.privateKey, DATAGRAM_DESTINATION_LABEL)
  assert.equal(publicDestinationFromPrivate(keys.privateKey), keys.destination)
  assert.equal(b32FromDestination(keys.destination), keys.b32)
  const bytes = decodeI2pBase64(keys.privateKey, 'private key')
  assert.equal(bytes.length, 391 + 256 + 32)
  const seed = bytes.subarray(bytes.length - 32)
  const publicKey = decodeI2pBase64(keys.destination).subarray(384 - 32, 384)
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
  const signature = sign(null, Buffer.from('x'), createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey])
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' })
  assert.ok(verify(null, Buffer.from('x'), pub, signature))
})
