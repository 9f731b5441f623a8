/**
 * A second destination derived from a first one's private key: the same owner can always remake it, and
 * nobody without that private key can. PRouter's datagram destination (i2pd's PRIMARY sessions take only
 * STREAM subsessions, so datagrams need a destination of their own) is derived from the worker's i2p.key
 * this way: no second key file to keep, back up or lose.
 *
 *   okm = HKDF-SHA256(ikm = the private key's bytes, salt = 'prouter', info = label, 320 bytes)
 *   Ed25519 seed = okm[0..32), padding block = okm[32..64), encryption private key = okm[64..320)
 *
 * laid out as `generate.ts` lays out a random destination (the bytes SAM SESSION CREATE takes).
 */
import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto'
import { decodeI2pBase64 } from './encoding.js'
import { destinationBytes, destinationKeysOf, type DestinationKeys } from './generate.js'

export const DATAGRAM_DESTINATION_LABEL = 'prouter/datagram-destination/v1'
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export function deriveDestinationKeys(privateKey: string, label: string): DestinationKeys {
  const ikm = decodeI2pBase64(privateKey, 'private key')
  const okm = Buffer.from(hkdfSync('sha256', ikm, 'prouter', label, 320))
  ikm.fill(0)
  const seed = okm.subarray(0, 32)
  const destination = destinationBytes(okm.subarray(32, 64), ed25519PublicKey(seed))
  const keys = destinationKeysOf(destination, okm.subarray(64, 320), seed)
  okm.fill(0)
  return keys
}

function ed25519PublicKey(seed: Buffer): Buffer {
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  const { x } = createPublicKey(key).export({ format: 'jwk' })
  return Buffer.from(x ?? '', 'base64url')
}
